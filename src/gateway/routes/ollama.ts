import { bodyModel, noModel, type Route } from "./route.js";

const inference = (actionType: string): Route => ({
  flavor: "ollama",
  actionType,
  json: true,
  interactive: true,
  logged: true,
  modelOf: bodyModel,
});

const management = (actionType: string): Route => ({
  flavor: "ollama",
  actionType,
  json: true,
  interactive: false,
  logged: true,
  modelOf: bodyModel,
});

const ROUTES: Record<string, Route> = {
  "/api/chat": inference("chat"),
  "/api/generate": inference("generate"),
  "/api/embed": inference("embed"),
  "/api/embeddings": inference("embeddings"),
  "/api/show": management("show"),
  "/api/pull": management("pull"),
  "/api/push": management("push"),
  "/api/create": management("create"),
  "/api/copy": management("copy"),
  "/api/delete": management("delete"),
  "/api/tags": {
    ...management("tags"),
    json: false,
    merge: { key: "models", name: "name" },
    modelOf: noModel,
  },
  "/api/ps": {
    ...management("ps"),
    json: false,
    merge: { key: "models", name: "name" },
    modelOf: noModel,
  },
  "/api/version": { ...management("version"), json: false, logged: false, modelOf: noModel },
};

/** Ollama's native API; paths it does not know (blobs, future endpoints) pass through unparsed. */
export function ollamaRoute(path: string): Route | undefined {
  if (path === "/" || path === "/api/version") {
    return ROUTES["/api/version"];
  }
  if (!path.startsWith("/api/")) return undefined;
  return (
    ROUTES[path] ?? {
      flavor: "ollama",
      actionType: path.slice("/api/".length).split("/")[0] || "api",
      json: false,
      interactive: false,
      logged: true,
      modelOf: noModel,
    }
  );
}
