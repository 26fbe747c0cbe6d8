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
        headers: { accept: "application/json", ...headers },
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

/** Concatenates `key` arrays of each answer, keeping the first entry of each name. */
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
    const value = g.value as Record<string, unknown> | undefined;
    const list = value?.[key];
    if (!value || !Array.isArray(list)) {
      unreachable.push(`${g.upstream.url} (${g.error ?? `no "${key}" list`})`);
      continue;
    }
    first ??= value;
    for (const entry of list as Record<string, unknown>[]) {
      const name = nameOf(entry);
      if (seen.has(name)) continue;
      seen.add(name);
      entries.push(entry);
    }
  }
  return { merged: { ...first, [key]: entries }, unreachable };
}
