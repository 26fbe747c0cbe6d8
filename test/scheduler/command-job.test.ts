import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { IdleGateResult } from "../../src/monitor/index.js";
import { lowPriorityPrefix } from "../../src/scheduler/jobs/command.js";
import { createJobs } from "../../src/scheduler/jobs/index.js";
import { toVerdict } from "../../src/scheduler/monitor-providers.js";
import { harness, jobDependencies, until } from "./harness.js";

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe("user command jobs", () => {
  it("runs a configured command niced, with its job name, run id and GPU in the environment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nightshift-cmd-"));
    const out = join(dir, "out.txt");
    const h = harness({
      scheduler: {
        jobs: {
          backup: {
            command: `echo "$NIGHTSHIFT_JOB $NIGHTSHIFT_GPU $CUDA_VISIBLE_DEVICES" > '${out}'; nice`,
            gpu: 1,
          },
        },
      },
    });
    cleanup = () => {
      h.cleanup();
      rmSync(dir, { recursive: true, force: true });
    };
    const jobs = createJobs(
      jobDependencies({ ledger: h.ledger, config: h.config, clock: h.clock, home: "" }),
      [],
    );
    expect(jobs.map((j) => j.name)).toEqual(["backup"]);
    const result = await h.make(jobs).runNow("backup", { force: true });
    expect(result).toMatchObject({ status: "done", summary: { exit_code: 0 } });
    expect(readFileSync(out, "utf8")).toBe("backup 1 1\n");
    expect((await h.store.runsOf("backup"))[0]!.lastLog).toBe(
      lowPriorityPrefix().includes("nice") ? "19" : "0",
    );
  });

  it("stops a command on pause and reports the failing exit otherwise", async () => {
    const h = harness({
      scheduler: {
        jobs: { slow: { command: "sleep 30" }, broken: { command: "echo oops >&2; exit 3" } },
      },
    });
    cleanup = h.cleanup;
    const scheduler = h.make(
      createJobs(
        jobDependencies({ ledger: h.ledger, config: h.config, clock: h.clock, home: "" }),
        [],
      ),
    );
    expect(await scheduler.runNow("broken", { force: true })).toMatchObject({
      status: "failed",
      reason: "broken: `echo oops >&2; exit 3` exited with 3: oops",
    });
    const running = scheduler.runNow("slow");
    await until(() => scheduler.running().length === 1);
    h.activity.record("chat", null);
    expect(await running).toMatchObject({
      status: "paused",
      reason: "interactive request from chat",
    });
    expect(existsSync("/proc")).toBe(true);
  });
});

describe("the monitor's idle gate, as the scheduler sees it", () => {
  const values = {
    from: 0,
    to: 0,
    samples: 15,
    expectedSamples: 15,
    cpuPct: 30,
    ramPct: 20,
    gpus: [],
    minutesSinceUserActivity: null,
  };
  it("ignores the leased GPU and the job's own CPU share", () => {
    const h = harness();
    cleanup = h.cleanup;
    const result: IdleGateResult = {
      idle: false,
      values,
      reasons: [
        { metric: "cpu_pct", value: 30, threshold: 20 },
        { metric: "gpu0_util_pct", value: 95, threshold: 15 },
        { metric: "gpu1_util_pct", value: 40, threshold: 15 },
      ],
    };
    expect(toVerdict(result, h.config).failed.map((f) => f.metric)).toEqual([
      "cpu_pct",
      "gpu0_util_pct",
      "gpu1_util_pct",
    ]);
    const verdict = toVerdict(result, h.config, { gpus: [0], cpuPct: 12 });
    expect(verdict).toEqual({
      idle: false,
      failed: [
        { metric: "gpu1_util_pct", value: 40, threshold: 15, message: "gpu1_util_pct 40.0 ≥ 15" },
      ],
    });
  });

  it("turns too few samples into not enough data", () => {
    const h = harness();
    cleanup = h.cleanup;
    const verdict = toVerdict(
      { idle: false, values: { ...values, samples: 3 }, reasons: "not enough data" },
      h.config,
    );
    expect(verdict).toMatchObject({
      idle: false,
      notEnoughData: true,
      detail: "3 of 15 expected samples in the last 15 min",
    });
  });
});
