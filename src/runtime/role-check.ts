import { existsSync } from "node:fs";
import type { Config } from "../config.js";
import { describeError } from "../errors.js";
import { Upstreams } from "../gateway/upstreams.js";

/** Whether each configured model role's model is there to be called, as `status` reports it. */
export interface RoleStatus {
  role: string;
  model: string;
  backend: string;
  /** The model server (or GGUF file) that would serve the role. */
  served_by: string;
  available: boolean;
  error: string | null;
}

/**
 * Asks each model server once for its model list (Ollama's /api/tags, or /v1/models for an
 * OpenAI-compatible one) and finds each role's model there. A role without its own `url` goes
 * through the gateway, so it is looked for on the upstream the gateway routes its model to:
 * `upstreams` are the running daemon's when they are known (they may come from `serve` flags),
 * else the config's; a running gateway whose upstreams are not known (`gatewayUrl`) is asked for
 * its merged model list instead.
 */
export async function checkModelRoles(
  config: Config,
  {
    gatewayUrl,
    upstreams: running,
    timeoutMs = 2000,
  }: {
    gatewayUrl?: string | undefined;
    upstreams?: Config["upstreams"] | undefined;
    timeoutMs?: number;
  } = {},
): Promise<RoleStatus[]> {
  const upstreams = new Upstreams(running ?? config.upstreams);
  const routed = running ? undefined : gatewayUrl;
  const lists = new Map<string, Promise<string[]>>();
  const listAt = (url: string, kind: "ollama" | "openai") => {
    const key = `${kind} ${url}`;
    if (!lists.has(key)) lists.set(key, fetchModelNames(url, kind, timeoutMs, config.server.token));
    return lists.get(key)!;
  };
  try {
    return await Promise.all(
      Object.entries(config.models).map(async ([role, entry]): Promise<RoleStatus> => {
        const base = { role, model: entry.model, backend: entry.backend };
        if (entry.backend === "llamacpp") {
          const path = entry.path ?? "";
          const available = path !== "" && existsSync(path);
          return {
            ...base,
            served_by: path || "(no path)",
            available,
            error: available
              ? null
              : `GGUF file ${path || `(models.${role}.path unset)`} not found`,
          };
        }
        const direct = entry.url !== undefined;
        const url = direct ? entry.url! : (routed ?? upstreams.forModel(entry.model).url);
        const kind = direct && entry.backend === "openai" ? "openai" : "ollama";
        try {
          const names = await listAt(url, kind);
          const available = names.some((name) => sameModel(name, entry.model));
          return {
            ...base,
            served_by: url,
            available,
            error: available
              ? null
              : `${url} does not have ${entry.model} (it has ${names.length ? names.slice(0, 8).join(", ") : "no models"}); \`ollama pull ${entry.model}\` there, or set models.${role}.model`,
          };
        } catch (error) {
          return { ...base, served_by: url, available: false, error: describeError(error) };
        }
      }),
    );
  } finally {
    upstreams.close();
  }
}

/** Ollama's implicit ":latest" tag names the same model. */
function sameModel(a: string, b: string): boolean {
  const plain = (name: string) => (name.endsWith(":latest") ? name.slice(0, -7) : name);
  return plain(a) === plain(b);
}

async function fetchModelNames(
  base: string,
  kind: "ollama" | "openai",
  timeoutMs: number,
  token: string | undefined,
): Promise<string[]> {
  const root = base.replace(/\/+$/, "");
  const url =
    kind === "ollama"
      ? `${root}/api/tags`
      : root.endsWith("/v1")
        ? `${root}/models`
        : `${root}/v1/models`;
  let response: Response;
  try {
    response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
  } catch (error) {
    throw new Error(`cannot reach ${url}: ${describeError(error)}`);
  }
  if (!response.ok) {
    // Through the gateway, a model server that is down answers 502 with the reason.
    const reason = await response
      .json()
      .then((b) => {
        const error = (b as { error?: unknown } | null)?.error;
        return typeof error === "string" ? `: ${error}` : "";
      })
      .catch(() => "");
    throw new Error(`cannot check: ${url} answered HTTP ${response.status}${reason}`);
  }
  const body = (await response.json()) as {
    models?: { name?: string; model?: string }[];
    data?: { id?: string }[];
  };
  if (kind === "openai") return (body.data ?? []).map((m) => m.id ?? "").filter(Boolean);
  return (body.models ?? []).map((m) => m.name ?? m.model ?? "").filter(Boolean);
}
