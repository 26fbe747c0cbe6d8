import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { Sampler } from "../../src/monitor/sampler.js";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/monitor/${name}`, import.meta.url));

// Real executables on PATH stand in for the vendor tools: the sampler spawns real child
// processes, so a hang, a crash and a missing binary are the real thing.
let bin: string;
beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), "nightshift-fake-bin-"));
});
afterEach(() => rmSync(bin, { recursive: true, force: true }));

function tool(name: string, script: string): void {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
}

function sampler(log: string[], timeoutMs = 400) {
  const config = parseConfig({
    monitor: { command_timeout_ms: timeoutMs, logind: false, rocm_smi: true },
  });
  // PATH holds only the fake tools and the basics the scripts need.
  return new Sampler({ config, env: { PATH: `${bin}:/usr/bin:/bin` }, log: (m) => log.push(m) });
}

describe("GPU sampling through the vendor tools", () => {
  it("reads every GPU from nvidia-smi's CSV", async () => {
    copyFileSync(fixture("nvidia-smi-two-gpus.csv"), join(bin, "out.csv"));
    tool("nvidia-smi", `cat "${bin}/out.csv"`);
    const s = sampler([]);
    await s.prime(Date.now());
    const sample = await s.sample(Date.now() + 1000);
    expect(sample.gpus.map((g) => [g.index, g.utilPct, g.memUsedMb])).toEqual([
      [0, 3, 1187],
      [1, 97, 22016],
    ]);
  });

  it("does not stall on a hung nvidia-smi: the sample comes back by the timeout, GPUs empty", async () => {
    tool("nvidia-smi", "sleep 30");
    const log: string[] = [];
    const s = sampler(log, 300);
    await s.prime(Date.now());
    const started = Date.now();
    const sample = await s.sample(Date.now() + 1000);
    const took = Date.now() - started;
    expect(took).toBeLessThan(3000);
    expect(sample.gpus).toEqual([]);
    expect(sample.cpuPct).not.toBeNull();
    expect(log.join("\n")).toMatch(/nvidia-smi: timed out/);
    // A second hang in the same hour is not reported again.
    await s.sample(Date.now() + 2000);
    expect(log.filter((m) => m.includes("timed out"))).toHaveLength(1);
  });

  it("treats a missing nvidia-smi as no GPU, quietly", async () => {
    const log: string[] = [];
    const s = sampler(log);
    await s.prime(Date.now());
    const sample = await s.sample(Date.now() + 1000);
    expect(sample.gpus).toEqual([]);
    expect(log).toEqual([]);
  });

  it("reports a failing nvidia-smi with its message and keeps sampling", async () => {
    tool(
      "nvidia-smi",
      'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver." >&2; exit 9',
    );
    const log: string[] = [];
    const s = sampler(log);
    await s.prime(Date.now());
    const sample = await s.sample(Date.now() + 1000);
    expect(sample.gpus).toEqual([]);
    expect(log.join("\n")).toMatch(/exited with code 9: NVIDIA-SMI has failed/);
  });

  it("numbers AMD cards after the NVIDIA ones when both are present", async () => {
    copyFileSync(fixture("nvidia-smi-two-gpus.csv"), join(bin, "out.csv"));
    copyFileSync(fixture("rocm-smi.json"), join(bin, "out.json"));
    tool("nvidia-smi", `cat "${bin}/out.csv"`);
    tool("rocm-smi", `cat "${bin}/out.json"`);
    const s = sampler([]);
    await s.prime(Date.now());
    const sample = await s.sample(Date.now() + 1000);
    expect(sample.gpus.map((g) => [g.index, g.vendor])).toEqual([
      [0, "nvidia"],
      [1, "nvidia"],
      [2, "amd"],
      [3, "amd"],
    ]);
  });
});
