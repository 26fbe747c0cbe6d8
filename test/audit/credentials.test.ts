import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { freePort } from "../support/ports.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";
import { reviewerScript } from "./reviewer-script.js";
import { DAY, HOUR, insertStages } from "./seed.js";

const SECRET = "s3cr3t-pw";

async function cli(home: string, args: string[]) {
  const { code, stdout, stderr } = await runCliInProcess(home, args, {
    NIGHTSHIFT_UPSTREAM: "",
    NIGHTSHIFT_LEDGER_URL: "",
  });
  return { code, out: stdout + stderr };
}

/**
 * An upstream configured as http://user:password@host (issue 12): the audit's reviewer uses
 * those credentials as Basic auth and never prints, stores or reports them.
 */
describe("the audit and an upstream URL with credentials", () => {
  let home: string;
  let cleanup: () => void;
  let upstream: ScriptedUpstream;

  beforeEach(async () => {
    ({ home, cleanup } = tempHome());
    upstream = await startScriptedUpstream({ models: ["qwen2.5:14b"] });
    const ledger = Ledger.open(join(home, "nightshift.db"));
    insertStages(
      ledger,
      ["Starbucks", "Shell"].map((merchant, i) => ({
        input: { merchant },
        output: { category: "Coffee" },
        at: Date.now() - DAY + i * HOUR,
        confidence: 0.6,
        flags: ["low_confidence"],
      })),
    );
    ledger.close();
  });
  afterEach(async () => {
    await upstream.close();
    cleanup();
  });

  async function configure(upstreamUrl: string): Promise<void> {
    writeFileSync(
      join(home, "nightshift.yaml"),
      JSON.stringify({
        // No daemon on this port: the CLI's reviewer goes straight to the upstream.
        server: { port: await freePort() },
        upstreams: { default: upstreamUrl },
        models: { auditor: { model: "qwen2.5:14b", context_window: 32768 } },
        audit: { sample_rate: 0 },
      }),
    );
  }

  /** Everything the audit left on disk: the ledger file and its write-ahead log, as text. */
  function stored(): string {
    const ledger = Ledger.open(join(home, "nightshift.db"));
    ledger.close();
    return readFileSync(join(home, "nightshift.db"), "latin1");
  }

  it("sends them as Basic auth, and neither prints nor stores them", async () => {
    await configure(`http://reviewer:${SECRET}@127.0.0.1:${upstream.port}`);
    upstream.setScript(reviewerScript(() => ({ verdict: "correct", confidence: 0.95 })).script);
    const run = await cli(home, ["audit", "run", "--now"]);
    expect(run.out).toContain("done");
    expect(run.code).toBe(0);
    const chats = upstream.requests.filter((r) => r.path === "/api/chat");
    expect(chats.length).toBeGreaterThan(0);
    const basic = `Basic ${Buffer.from(`reviewer:${SECRET}`).toString("base64")}`;
    expect(chats.every((r) => r.headers.authorization === basic)).toBe(true);
    const report = await cli(home, ["audit", "report", "--json"]);
    expect(`${run.out}${report.out}${stored()}`).not.toContain(SECRET);
    const ledger = Ledger.open(join(home, "nightshift.db"));
    const upstreams = ledger.actions.list({ agent: "auditor" }).map((a) => a.upstream);
    ledger.close();
    expect(upstreams).toContain(`http://127.0.0.1:${upstream.port}`);
  }, 60_000);

  it("masks them in the error of a reviewer it cannot reach, printed, stored and reported", async () => {
    const port = await freePort();
    await configure(`http://reviewer:${SECRET}@127.0.0.1:${port}`);
    const run = await cli(home, ["audit", "run", "--now"]);
    expect(run.code).not.toBe(0);
    expect(run.out).toContain(`http://127.0.0.1:${port}`);
    const list = await cli(home, ["audit", "list", "--json"]);
    const report = await cli(home, ["audit", "report"]);
    expect(report.out).toContain("failed");
    expect(`${run.out}${list.out}${report.out}${stored()}`).not.toContain(SECRET);
  }, 60_000);
});
