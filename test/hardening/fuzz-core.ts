import fc from "fast-check";
import { removeDotSegments } from "../../src/gateway/request-path.js";
import type { HostileRig, Reply, Sent } from "./daemon.js";

/** What one batch of fuzzed requests did to the daemon. */
export interface FuzzBatch {
  cases: number;
  /** Requests the daemon failed on: a 500, a dropped connection, no answer. */
  crashes: string[];
  /** Answers carrying an action id, and how many of those ids are in the ledger. */
  answered: number;
  logged: number;
  /** The answered calls missing from the ledger: "METHOD path: status". */
  unlogged: string[];
  /** Gateway answers (not /v0, /ui or a health probe) that carried no action id. */
  untracked: string[];
  /** Whether /api/version still answered 200 after the batch. */
  alive: boolean;
}

const SEGMENTS = [
  "api",
  "v1",
  "v0",
  "agents",
  "finance",
  "chat",
  "generate",
  "tags",
  "ps",
  "show",
  "models",
  "embed",
  "completions",
  "actions",
  "review",
  "..",
  ".",
  "%2e%2e",
  "%2E",
  "%ZZ",
  "%E0%A4%A",
  "%E0%A4",
  "%00",
  "%2f",
  "",
  "etc",
  "passwd",
  "~",
  "a;b",
  "x=1",
  "%F0%9F%98%80",
  "@",
  "..%2f",
];
const SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%";

const segment = fc.oneof(
  fc.constantFrom(...SEGMENTS),
  fc.string({ unit: fc.constantFrom(...SAFE), maxLength: 12 }),
);
const path = fc
  .tuple(
    fc.array(segment, { maxLength: 8 }),
    fc.option(fc.string({ unit: fc.constantFrom(...SAFE, "?", "/"), maxLength: 16 })),
  )
  .map(([parts, query]) => `/${parts.join("/")}${query ? `?${query}` : ""}`);

const headerValue = fc.string({ unit: fc.constantFrom(..."abcxyz019-:./ _*[]"), maxLength: 40 });

const headers = fc.record(
  {
    host: fc.constantFrom("OWN", "localhost", "attacker.example", "[::1]", "127.0.0.1.nip.io", ""),
    origin: fc.constantFrom("OWN", "http://evil.example", "null", "file://", "https://app.example"),
    "content-type": fc.constantFrom(
      "application/json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ),
    "x-nightshift-agent": headerValue,
    "x-nightshift-parent": headerValue,
    traceparent: fc.oneof(
      headerValue,
      fc.constant("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ),
    authorization: headerValue,
    "sec-fetch-site": fc.constantFrom("same-origin", "cross-site", "none"),
  },
  { requiredKeys: [] },
);

const nested = fc
  .integer({ min: 1, max: 3000 })
  .map((n) => `{"model":"qwen2.5:7b","x":${"[".repeat(n)}${"]".repeat(n)}}`);
const chatBody = fc.record({
  model: fc.oneof(
    fc.constantFrom("qwen2.5:7b", "missing:1b", "nomic-embed-text"),
    fc.string({ maxLength: 20 }),
  ),
  stream: fc.boolean(),
  messages: fc.array(
    fc.record({ role: fc.constantFrom("user", "system"), content: fc.string({ maxLength: 200 }) }),
    { maxLength: 3 },
  ),
});
const body = fc.option(
  fc.oneof(
    fc.json({ maxDepth: 4 }),
    chatBody.map((b) => JSON.stringify(b)),
    nested,
    fc.string({ maxLength: 300 }),
    fc.constantFrom(
      "[]",
      "null",
      "1e309",
      '{"model":',
      "\u0000",
      '{"model":"qwen2.5:7b","messages":null}',
    ),
    fc
      .integer({ min: 1, max: 64 })
      .map((k) => JSON.stringify({ model: "qwen2.5:7b", pad: "z".repeat(k * 1024) })),
  ),
  { nil: undefined },
);

const method = fc.constantFrom(
  "GET",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "HEAD",
  "PROPFIND",
  "TRACE",
);

export const fuzzedRequest = fc.record({ method, path, headers, body });
export type FuzzedRequest = typeof fuzzedRequest extends fc.Arbitrary<infer T> ? T : never;

function toSent(request: FuzzedRequest, own: string): Sent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers[name] = value === "OWN" ? (name === "host" ? own : `http://${own}`) : value;
  }
  if (headers.host === "") delete headers.host;
  return {
    method: request.method,
    path: request.path,
    headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  };
}

function tracked(request: FuzzedRequest, reply: Reply): boolean {
  if (/v0|ui/i.test(request.path)) return true; // the API's answers are not gateway calls
  if (reply.status === 204) return true; // a CORS preflight
  // Health probes (/ and /api/version, however spelled) are forwarded unlogged and name no action.
  const normalized = removeDotSegments(request.path.split("?")[0]!);
  // ... also behind an agent prefix: /agents/NAME is that agent's base URL, probed with GET /.
  const bare = normalized.startsWith("/agents/")
    ? normalized.slice(
        normalized.indexOf("/", 8) === -1 ? normalized.length : normalized.indexOf("/", 8),
      ) || "/"
    : normalized;
  return reply.action !== null || bare === "/" || bare === "/api/version";
}

/** Sends `runs` fuzzed requests one after another, then checks the daemon and the ledger. */
export async function runFuzzBatch(
  rig: HostileRig,
  options: { runs: number; seed: number },
): Promise<FuzzBatch> {
  const own = `127.0.0.1:${rig.daemon.gateway.port}`;
  const crashes: string[] = [];
  const untracked: string[] = [];
  const ids: string[] = [];
  const labels = new Map<string, string>();
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(fuzzedRequest, async (request) => {
      cases += 1;
      const sent = toSent(request, own);
      const label = `${sent.method} ${sent.path}`;
      try {
        const reply = await rig.send(sent);
        if (reply.status >= 500 && reply.status !== 502 && reply.status !== 504)
          crashes.push(`${label}: ${reply.status} ${reply.text.slice(0, 200)}`);
        if (reply.action) {
          ids.push(reply.action);
          labels.set(reply.action, `${label}: ${reply.status}`);
        }
        if (!tracked(request, reply)) untracked.push(`${label}: ${reply.status}`);
      } catch (error) {
        crashes.push(`${label}: ${String(error)}`);
      }
    }),
    { numRuns: options.runs, seed: options.seed, endOnFailure: true },
  );
  const alive = (await rig.send({ path: "/api/version" }).catch(() => null))?.status === 200;
  const unlogged = rig.unlogged(ids);
  return {
    cases,
    crashes,
    answered: ids.length,
    logged: ids.length - unlogged.length,
    unlogged: unlogged.map((id) => labels.get(id) ?? id),
    untracked,
    alive,
  };
}
