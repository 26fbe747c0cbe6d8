import type { Upstream } from "./upstreams.js";

export interface Gathered {
  upstream: Upstream;
  value?: unknown;
  error?: string;
}

/**
 * GETs one JSON document from each upstream at once, for the listings (/api/tags, /api/ps,
 * /v1/models) that must show every model server's models as if they were one.
 */
export function gatherJson(
  upstreams: Upstream[],
  path: string,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<Gathered[]> {
  return Promise.all(upstreams.map((u) => getJson(u, path, timeoutMs, headers)));
}

export function getJson(
  upstream: Upstream,
  path: string,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<Gathered> {
  return new Promise((resolve) => {
    const req = upstream.request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        path: upstream.basePath + path,
        headers: {
          accept: "application/json",
          ...headers,
          ...(upstream.authorization ? { authorization: upstream.authorization } : {}),
        },
        agent: upstream.agent,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (chunk: Buffer) => parts.push(chunk));
        res.on("error", (error) => resolve({ upstream, error: error.message }));
        res.on("end", () => {
          const text = Buffer.concat(parts).toString("utf8");
          if ((res.statusCode ?? 500) >= 400) {
            resolve({ upstream, error: `HTTP ${res.statusCode}: ${text.slice(0, 200)}` });
            return;
          }
          try {
            resolve({ upstream, value: JSON.parse(text) });
          } catch {
            resolve({ upstream, error: "answered with something that is not JSON" });
          }
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      resolve({ upstream, error: code === "ECONNREFUSED" ? "connection refused" : error.message });
    });
    req.end();
  });
}

/**
 * Concatenates `key` arrays of each answer, keeping the first entry of each name. An answer that
 * is not an object holding such a list of named objects (`{"models":[null]}`) marks its upstream
 * unusable for this listing, like one that did not answer: one broken server must not take the
 * others' models away, nor the daemon down.
 */
export function mergeLists(
  gathered: Gathered[],
  key: string,
  nameOf: (entry: Record<string, unknown>) => unknown,
): { merged: Record<string, unknown>; unreachable: string[] } {
  const seen = new Set<unknown>();
  const entries: unknown[] = [];
  let first: Record<string, unknown> | undefined;
  const unreachable: string[] = [];
  for (const g of gathered) {
    const problem = g.error ?? listingProblem(g.value, key, nameOf);
    if (problem !== null) {
      unreachable.push(`${g.upstream.url} (${problem})`);
      continue;
    }
    const value = g.value as Record<string, unknown>;
    first ??= value;
    for (const entry of value[key] as Record<string, unknown>[]) {
      const name = nameOf(entry);
      if (seen.has(name)) continue;
      seen.add(name);
      entries.push(entry);
    }
  }
  return { merged: { ...first, [key]: entries }, unreachable };
}

function listingProblem(
  value: unknown,
  key: string,
  nameOf: (entry: Record<string, unknown>) => unknown,
): string | null {
  if (!isObject(value)) return "the listing is not a JSON object";
  const list = value[key];
  if (!Array.isArray(list)) return `no "${key}" list`;
  const bad = list.findIndex((entry) => !isObject(entry) || typeof nameOf(entry) !== "string");
  return bad === -1 ? null : `malformed listing: ${key}[${bad}] is not an entry with a name`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
