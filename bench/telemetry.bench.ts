import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * What the OpenTelemetry export costs the gateway: three real `nightshift serve` processes over
 * one scripted upstream, side by side in one run: export off; on, with a collector that answers;
 * on, with the collector down (a port nothing listens on). Rounds alternate between them, so
 * drift on a shared machine hits all three alike. Goal: within 0.1 ms of "off".
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === "upstream") {
  const { startScriptedUpstream } = await import("../test/support/scripted-upstream.js");
  const upstream = await startScriptedUpstream({
    script: () => ({ content: "The total for October is 1,234.56 dollars." }),
  });
  process.stdout.write(`${upstream.url}\n`);
  await new Promise(() => {});
}

if (process.argv[2] === "collector") {
  // An OTLP/HTTP collector that accepts everything (and counts what it got).
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on("data", (c: Buffer) => {
      bytes += c.length;
    });
    req.on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  });
  process.on("SIGTERM", () => {
    process.stderr.write(`collector received ${bytes} bytes\n`);
    process.exit(0);
  });
  await new Promise(() => {});
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const BODY = Buffer.from(
  JSON.stringify({
    model: "qwen2.5:7b",
    stream: false,
    messages: [
      { role: "system", content: "You categorize bank transactions. ".repeat(12) },
      { role: "user", content: "2026-10-03 AMAZON MKTPL*2K4 Amzn.com/bill WA -23.99: category?" },
    ],
  }),
);

function call(base: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(
      `${base}/api/chat`,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": BODY.length,
          "x-nightshift-agent": "bench",
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(performance.now() - t0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(BODY);
  });
}

async function measure(base: string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push(await call(base));
  return times;
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

const children: ChildProcess[] = [];
function startChild(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
  });
}

/** A loopback port with nothing listening on it: the collector that is down. */
async function deadPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const homes: string[] = [];
async function startGateway(upstream: string, otlp: string | null): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), "nightshift-bench-"));
  homes.push(home);
  writeFileSync(
    join(home, "nightshift.yaml"),
    "monitor:\n  enabled: false\nscheduler:\n  enabled: false\n",
  );
  const env: NodeJS.ProcessEnv = { NIGHTSHIFT_HOME: home };
  if (otlp) env.OTEL_EXPORTER_OTLP_ENDPOINT = otlp;
  else env.OTEL_EXPORTER_OTLP_ENDPOINT = "";
  return startChild(
    ["src/cli/main.ts", "serve", "--port", "0", "--upstream", upstream],
    env,
    /listening on (http:\/\/\S+)/,
  );
}

try {
  const upstream = await startChild([SELF, "upstream"], {}, /^(http:\/\/\S+)\n/);
  const collector = await startChild([SELF, "collector"], {}, /^(http:\/\/\S+)\n/);
  const gateways = {
    off: await startGateway(upstream, null),
    "collector up": await startGateway(upstream, collector),
    "collector down": await startGateway(upstream, await deadPort()),
  };
  for (const url of Object.values(gateways)) await measure(url, 400); // warm up
  const rounds = Number(process.env.NIGHTSHIFT_BENCH_ROUNDS ?? 5);
  const perRound = 1000;
  const medians: Record<string, number[]> = Object.fromEntries(
    Object.keys(gateways).map((name) => [name, []]),
  );
  const p99s: Record<string, number[]> = Object.fromEntries(
    Object.keys(gateways).map((name) => [name, []]),
  );
  for (let round = 0; round < rounds; round++) {
    for (const [name, url] of Object.entries(gateways)) {
      const times = await measure(url, perRound);
      medians[name]!.push(quantile(times, 0.5));
      p99s[name]!.push(quantile(times, 0.99));
    }
  }
  const mid = (xs: number[]) => quantile(xs, 0.5);
  const off = { median: mid(medians.off!), p99: mid(p99s.off!) };
  process.stdout.write(
    `otel export cost, non-streaming c=1, ${rounds}×${perRound} calls each (${cpus().length} cores, node ${process.version})\n`,
  );
  const summary: Record<string, unknown> = { bench: "telemetry" };
  for (const name of Object.keys(gateways)) {
    const median = mid(medians[name]!);
    const p99 = mid(p99s[name]!);
    process.stdout.write(
      `${name.padEnd(15)} median ${median.toFixed(3)} ms p99 ${p99.toFixed(3)} ms | vs off: median ${(median - off.median).toFixed(3)} ms, p99 ${(p99 - off.p99).toFixed(3)} ms\n`,
    );
    summary[name.replace(/ /g, "_")] = {
      median_ms: +median.toFixed(3),
      p99_ms: +p99.toFixed(3),
      added_median_ms: +(median - off.median).toFixed(3),
      added_p99_ms: +(p99 - off.p99).toFixed(3),
    };
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} finally {
  agent.destroy();
  for (const child of children.reverse()) {
    child.kill("SIGTERM");
    if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
  }
  for (const home of homes) rmSync(home, { recursive: true, force: true });
}
