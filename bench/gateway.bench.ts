import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Gateway overhead: the same scripted upstream called directly and through the gateway, in one
 * run, with the same client. The upstream and the gateway (the real `nightshift serve`, writing a
 * real ledger) each run in their own process, so the figures are what an agent would see.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === "upstream") {
  const { startScriptedUpstream } = await import("../test/support/scripted-upstream.js");
  const upstream = await startScriptedUpstream({
    script: (r) => ({
      content:
        r.body.stream === false
          ? "The total for October is 1,234.56 dollars."
          : "0123456789".repeat(8),
    }),
  });
  process.stdout.write(`${upstream.url}\n`);
  await new Promise(() => {});
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const chatBody = (stream: boolean) =>
  JSON.stringify({
    model: "qwen2.5:7b",
    stream,
    messages: [
      { role: "system", content: "You categorize bank transactions. ".repeat(12) },
      {
        role: "user",
        content: "2026-10-03 AMAZON MKTPL*2K4 Amzn.com/bill WA  -23.99 — which category?",
      },
    ],
    options: { temperature: 0, seed: 7 },
  });
const PLAIN = Buffer.from(chatBody(false));
const STREAM = Buffer.from(chatBody(true));

/** One POST; resolves with ms to the first body byte and to the end. */
function call(base: string, body: Buffer): Promise<{ first: number; total: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    const req = request(
      `${base}/api/chat`,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": body.length,
          "x-nightshift-agent": "bench",
        },
      },
      (res) => {
        res.on("data", () => {
          if (!first) first = performance.now() - t0;
        });
        res.on("end", () => resolve({ first, total: performance.now() - t0 }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function measure(base: string, body: Buffer, count: number, concurrency: number) {
  const firsts: number[] = [];
  const totals: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) {
        const r = await call(base, body);
        firsts.push(r.first);
        totals.push(r.total);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { first: stats(firsts), total: stats(totals), rps: count / seconds };
}

function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p99: at(0.99) };
}

function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  pattern: RegExp,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once("exit", (code) =>
      reject(new Error(`${args.join(" ")} exited with ${code}: ${out}`)),
    );
  });
}

const home = mkdtempSync(join(tmpdir(), "nightshift-bench-"));
writeFileSync(
  join(home, "nightshift.yaml"),
  "monitor:\n  enabled: false\nscheduler:\n  enabled: false\n",
);
const upstream = await startChild([SELF, "upstream"], {}, /^(http:\/\/\S+)\n/);
const gateway = await startChild(
  ["src/cli/main.ts", "serve", "--port", "0", "--upstream", upstream.url],
  { NIGHTSHIFT_HOME: home },
  /listening on (http:\/\/\S+)/,
);

try {
  const direct = upstream.url;
  const through = gateway.url;
  // Warm both paths (JIT, connection pools, SQLite pages) before measuring.
  await measure(direct, PLAIN, 500, 4);
  await measure(through, PLAIN, 500, 4);

  const rounds = 3;
  const results: Record<
    string,
    {
      direct: ReturnType<typeof stats>;
      gateway: ReturnType<typeof stats>;
      directRps: number;
      gatewayRps: number;
    }
  > = {};
  const cases = [
    { name: "non-stream c=1", body: PLAIN, count: 1500, concurrency: 1, field: "total" as const },
    { name: "non-stream c=64", body: PLAIN, count: 6000, concurrency: 64, field: "total" as const },
    { name: "stream TTFT c=1", body: STREAM, count: 1000, concurrency: 1, field: "first" as const },
  ];
  for (const c of cases) {
    const d: number[][] = [[], []];
    const g: number[][] = [[], []];
    let dr = 0;
    let gr = 0;
    // Alternate direct and gateway rounds, so drift on a shared machine hits both alike.
    for (let round = 0; round < rounds; round++) {
      const a = await measure(direct, c.body, c.count, c.concurrency);
      const b = await measure(through, c.body, c.count, c.concurrency);
      d[0]!.push(a[c.field].median);
      d[1]!.push(a[c.field].p99);
      g[0]!.push(b[c.field].median);
      g[1]!.push(b[c.field].p99);
      dr += a.rps / rounds;
      gr += b.rps / rounds;
    }
    const mid = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    results[c.name] = {
      direct: { median: mid(d[0]!), p99: mid(d[1]!) },
      gateway: { median: mid(g[0]!), p99: mid(g[1]!) },
      directRps: dr,
      gatewayRps: gr,
    };
  }

  const f = (ms: number) => `${ms.toFixed(3)} ms`;
  process.stdout.write(
    `gateway overhead (${cpus().length} cores, ${cpus()[0]?.model ?? "?"}, node ${process.version})\n`,
  );
  for (const [name, r] of Object.entries(results)) {
    process.stdout.write(
      `${name.padEnd(16)} direct median ${f(r.direct.median)} p99 ${f(r.direct.p99)} | gateway median ${f(r.gateway.median)} p99 ${f(r.gateway.p99)} | added median ${f(r.gateway.median - r.direct.median)} p99 ${f(r.gateway.p99 - r.direct.p99)} | ${r.directRps.toFixed(0)} vs ${r.gatewayRps.toFixed(0)} req/s\n`,
    );
  }
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name.replace(/[^a-z0-9]+/gi, "_").toLowerCase(),
      {
        direct_median_ms: +r.direct.median.toFixed(3),
        direct_p99_ms: +r.direct.p99.toFixed(3),
        gateway_median_ms: +r.gateway.median.toFixed(3),
        gateway_p99_ms: +r.gateway.p99.toFixed(3),
        added_median_ms: +(r.gateway.median - r.direct.median).toFixed(3),
        added_p99_ms: +(r.gateway.p99 - r.direct.p99).toFixed(3),
        direct_rps: Math.round(r.directRps),
        gateway_rps: Math.round(r.gatewayRps),
      },
    ]),
  );
  process.stdout.write(`${JSON.stringify({ bench: "gateway", ...summary })}\n`);
} finally {
  gateway.child.kill("SIGTERM");
  upstream.child.kill("SIGTERM");
  agent.destroy();
  await new Promise((resolve) => gateway.child.once("exit", resolve));
  rmSync(home, { recursive: true, force: true });
}
