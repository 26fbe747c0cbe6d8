import { decodes } from "../request-path.js";
import { bodyModel, noModel, type Route } from "./route.js";

const inference = (actionType: string): Route => ({
  flavor: "openai",
  actionType,
  json: true,
  interactive: true,
  logged: true,
  modelOf: bodyModel,
});

const ROUTES: Record<string, Route> = {
  "/v1/chat/completions": inference("openai.chat"),
  "/v1/completions": inference("openai.completions"),
  "/v1/embeddings": inference("openai.embeddings"),
  "/v1/models": {
    flavor: "openai",
    actionType: "openai.models",
    json: false,
    interactive: false,
    logged: true,
    merge: { key: "data", name: "id" },
    modelOf: noModel,
  },
};

/** OpenAI's API as Ollama serves it under /v1; other /v1 paths pass through unparsed. */
export function openAiRoute(path: string): Route | undefined {
  if (!path.startsWith("/v1/")) return undefined;
  const known = ROUTES[path];
  if (known) return known;
  // /v1/models/NAME goes to the upstream that serves NAME.
  const model = path.startsWith("/v1/models/") ? decodes(path.slice("/v1/models/".length)) : null;
  return {
    flavor: "openai",
    actionType: `openai.${path.slice(4).split("/")[0] || "api"}`,
    json: false,
    interactive: false,
    logged: true,
    modelOf: () => model,
  };
}
