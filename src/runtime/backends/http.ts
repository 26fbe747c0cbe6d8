import { NightshiftError } from "../../errors.js";
import type { BackendKind, ModelClient, ModelReply, ModelRequest } from "./types.js";

/**
 * Headers that let the gateway file a call under the attempt that made it: agent identity, the
 * parent action, and a W3C traceparent carrying the run's trace id (the parent action is written
 * only when the attempt ends, so the gateway cannot look the trace up from it).
 */
export function lineageHeaders(request: ModelRequest): Record<string, string> {
  const span = request.parentId.replaceAll("-", "").slice(-16).padStart(16, "0");
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-nightshift-agent": request.agent,
    "x-nightshift-parent": request.parentId,
  };
  if (/^[0-9a-f]{32}$/.test(request.traceId)) {
    headers.traceparent = `00-${request.traceId}-${span}-01`;
  }
  return headers;
}

export interface HttpClientOptions {
  role: string;
  model: string;
  baseUrl: string;
  gpu?: number | undefined;
  options?: Record<string, unknown> | undefined;
  loggedByGateway: boolean;
  timeoutMs: number;
}

/**
 * A model client over HTTP: its identity and where it posts are the same for every protocol;
 * `ask` is what differs (the body it sends, how it reads the reply).
 */
export function httpClient(
  config: HttpClientOptions,
  backend: Exclude<BackendKind, "llamacpp">,
  location: string,
  url: string,
  ask: (target: PostTarget, request: ModelRequest) => Promise<ModelReply>,
): ModelClient {
  // user:pass@ in a configured URL is the server's Basic auth: sent as a header, never shown,
  // logged (an action's upstream) or quoted in an error (fetch refuses such URLs anyway).
  const credentials = splitCredentials(url);
  const target: PostTarget = {
    url: credentials.url,
    role: config.role,
    model: config.model,
    timeoutMs: config.timeoutMs,
    ...(credentials.authorization ? { authorization: credentials.authorization } : {}),
  };
  return {
    role: config.role,
    model: config.model,
    backend,
    location: splitCredentials(location).url,
    gpu: config.gpu ?? null,
    loggedByGateway: config.loggedByGateway,
    chat: (request) => ask(target, request),
    close: async () => {},
  };
}

export interface PostTarget {
  url: string;
  role: string;
  model: string;
  timeoutMs: number;
  /** `Basic ...` from credentials in the configured URL. */
  authorization?: string;
}

/** The URL without user:password@, and those credentials as a Basic authorization value. */
export function splitCredentials(raw: string): { url: string; authorization: string | null } {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return { url: raw, authorization: null };
  }
  if (!parsed.username && !parsed.password) return { url: raw, authorization: null };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  const url = raw.endsWith("/") ? parsed.href : parsed.href.replace(/\/$/, "");
  return { url, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
}

/** POSTs JSON and returns the parsed reply; transport and HTTP failures become NightshiftErrors. */
export async function postJson(
  target: PostTarget,
  body: unknown,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: "POST",
      headers: target.authorization ? { authorization: target.authorization, ...headers } : headers,
      body: JSON.stringify(body),
      signal: combined,
    });
  } catch (error) {
    throw new NightshiftError(
      `cannot reach ${target.url} for role "${target.role}" (model ${target.model}); is the model server (or nightshift serve) running?`,
      { status: 502, code: "upstream_unreachable", cause: error },
    );
  }
  const text = await response.text();
  if (!response.ok) {
    throw new NightshiftError(
      `${target.url} answered ${response.status} for role "${target.role}" (model ${target.model}): ${errorText(text)}`,
      { status: 502, code: "upstream_error" },
    );
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new NightshiftError(
      `${target.url} sent a reply that is not JSON for role "${target.role}": ${text.slice(0, 200)}`,
      { status: 502, code: "upstream_error", cause: error },
    );
  }
}

function errorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    const error = parsed.error;
    if (typeof error === "string") return error;
    if (error && typeof error === "object" && "message" in error) return String(error.message);
  } catch {
    // Not JSON: the raw text is the best description there is.
  }
  return text.slice(0, 200) || "(empty body)";
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

export function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
