import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Clock, ManualClock, systemClock } from "../../src/clock.js";
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

function sampler(log: string[], timeoutMs = 400, clock: Clock = systemClock) {
  const config = parseConfig({
    monitor: { command_timeout_ms: timeoutMs, logind: false, rocm_smi: true },
  });
  // PATH holds only the fake tools and the basics the scripts need.
  return new Sampler({
    config,
    env: { PATH: `${bin}:/usr/bin:/bin` },
    log: (m) => log.push(m),
    clock,
  });
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
    // Far below the 30 s hang, with room for a slow spawn and kill on a busy machine.
    expect(took).toBeLessThan(15_000);
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

  it("looks for a missing nvidia-smi again only after ten minutes of its clock", async () => {
    const clock = new ManualClock();
    const s = sampler([], 400, clock);
    await s.prime(clock.now());
    expect((await s.sample(clock.now())).gpus).toEqual([]);
    copyFileSync(fixture("nvidia-smi-two-gpus.csv"), join(bin, "out.csv"));
    tool("nvidia-smi", `cat "${bin}/out.csv"`);
    await clock.advance(9 * 60_000);
    expect((await s.sample(clock.now())).gpus).toEqual([]);
    await clock.advance(2 * 60_000);
    expect((await s.sample(clock.now())).gpus.map((g) => g.index)).toEqual([0, 1]);
  });

  it("reports the same failure again once an hour of its clock has passed", async () => {
    tool("nvidia-smi", "echo broken >&2; exit 9");
    const clock = new ManualClock();
    const log: string[] = [];
    const s = sampler(log, 400, clock);
    await s.prime(clock.now());
    await s.sample(clock.now());
    await clock.advance(59 * 60_000);
    await s.sample(clock.now());
    expect(log.filter((m) => m.includes("exited with code 9"))).toHaveLength(1);
    await clock.advance(2 * 60_000);
    await s.sample(clock.now());
    expect(log.filter((m) => m.includes("exited with code 9"))).toHaveLength(2);
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

describe("user activity from logind through loginctl", () => {
  function logindSampler(log: string[]) {
    const config = parseConfig({ monitor: { nvidia_smi: false, rocm_smi: false, logind: true } });
    return new Sampler({ config, env: { PATH: `${bin}:/usr/bin:/bin` }, log: (m) => log.push(m) });
  }

  it("marks the user active while a session is not idle, and idle since its IdleSinceHint", async () => {
    copyFileSync(fixture("loginctl-list-sessions.txt"), join(bin, "list.txt"));
    copyFileSync(fixture("loginctl-show-session.txt"), join(bin, "show.txt"));
    tool(
      "loginctl",
      `case "$1" in list-sessions) cat "${bin}/list.txt";; show-session) cat "${bin}/show.txt";; esac`,
    );
    const s = logindSampler([]);
    const now = 1_764_090_000_000;
    await s.prime(now - 60_000);
    const idle = await s.sample(now);
    expect(idle.lastActiveAt).toBe(1_764_082_200_000);
    expect(idle.userActive).toBe(false);
    writeFileSync(
      join(bin, "show.txt"),
      "Id=2\nClass=user\nIdleHint=no\nIdleSinceHint=1764089000000000\n",
    );
    const active = await s.sample(now + 60_000);
    expect(active.userActive).toBe(true);
    expect(active.lastActiveAt).toBe(now + 60_000);
  });

  it("degrades quietly where systemd is not running", async () => {
    tool(
      "loginctl",
      'echo "System has not been booted with systemd as init system (PID 1). Can\'t operate." >&2; exit 1',
    );
    const log: string[] = [];
    const s = logindSampler(log);
    await s.prime(Date.now());
    const sample = await s.sample(Date.now() + 1000);
    expect(sample.userActive).toBeNull();
    expect(sample.lastActiveAt).toBeNull();
    expect(log).toEqual([]);
  });
});
