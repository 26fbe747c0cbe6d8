import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Clock, systemClock } from "../clock.js";
import type { Config } from "../config.js";
import type { GpuReading, MonitorSample } from "../ledger/stores/monitor.js";
import type { UserActivity } from "./activity.js";
import { type CommandResult, runCommand } from "./sources/command.js";
import { lastActivityFromSessions, parseSessionList, parseShowSession } from "./sources/logind.js";
import { NVIDIA_SMI_ARGS, parseNvidiaSmiCsv } from "./sources/nvidia-smi.js";
import {
  type CpuTimes,
  cpuPercent,
  type DiskCounters,
  diskRates,
  parseDiskstats,
  parseMeminfo,
  parseProcStat,
} from "./sources/procfs.js";
import { parseRocmSmiJson, ROCM_SMI_ARGS } from "./sources/rocm-smi.js";

/** A tool found missing is looked for again after this long (a driver may be installed). */
const RETRY_MISSING_MS = 10 * 60_000;

export interface SamplerOptions {
  config: Pick<Config, "monitor">;
  activity?: UserActivity | undefined;
  /** Roots of procfs and sysfs; tests point them at fixtures. */
  procRoot?: string;
  sysRoot?: string;
  /** The environment tools run with (its PATH finds nvidia-smi). */
  env?: NodeJS.ProcessEnv;
  /** Warnings a person should see (a tool that hangs or fails); repeated ones are rate-limited. */
  log?: (message: string) => void;
  /** Times the retry of a missing tool and the rate limit of warnings (default: the system's). */
  clock?: Clock;
}

interface ProcReading {
  at: number;
  cpu: CpuTimes;
  disks: DiskCounters[];
}

/**
 * Takes samples of the host: CPU and disk as deltas against the previous reading, RAM, each GPU
 * through its vendor's tool, and user activity. No GPU, no logind and no tool at all are normal:
 * those fields are simply empty. A tool that hangs costs at most command_timeout_ms.
 */
export class Sampler {
  private previous: ProcReading | null = null;
  private physicalDisks: ReadonlySet<string> | undefined;
  private readonly missingUntil = new Map<string, number>();
  private readonly warnedAt = new Map<string, number>();
  private readonly procRoot: string;
  private readonly sysRoot: string;

  constructor(private readonly options: SamplerOptions) {
    this.procRoot = options.procRoot ?? "/proc";
    this.sysRoot = options.sysRoot ?? "/sys";
  }

  /** Takes a baseline for the deltas; the first sample after it has CPU % and disk rates. */
  async prime(now: number): Promise<void> {
    this.physicalDisks = await this.readPhysicalDisks();
    this.previous = await this.readProc(now);
  }

  async sample(now: number): Promise<MonitorSample> {
    const monitor = this.options.config.monitor;
    const [proc, memory, gpus, logindLast] = await Promise.all([
      this.readProc(now),
      readFile(join(this.procRoot, "meminfo"), "utf8").then(parseMeminfo),
      this.readGpus(),
      monitor.logind ? this.readLogind(now) : Promise.resolve(undefined),
    ]);
    const before = this.previous;
    this.previous = proc;
    const rates = before
      ? diskRates(before.disks, proc.disks, now - before.at, this.physicalDisks)
      : null;
    const gateway = monitor.gateway_activity ? this.options.activity?.lastActiveAt() : undefined;
    const signals = [gateway, logindLast].filter((v) => v !== undefined);
    const known = signals.filter((v): v is number => v !== null);
    const lastActiveAt = known.length > 0 ? Math.min(now, Math.max(...known)) : null;
    const intervalStart = before?.at ?? now - monitor.interval_s * 1000;
    return {
      ts: now,
      cpuPct: before ? cpuPercent(before.cpu, proc.cpu) : null,
      ramPct: memory.usedPct,
      ramUsedMb: memory.usedMb,
      diskReadBps: rates?.readBps ?? null,
      diskWriteBps: rates?.writeBps ?? null,
      userActive:
        signals.length === 0 ? null : lastActiveAt !== null && lastActiveAt > intervalStart,
      lastActiveAt,
      gpus,
      source: "sampler",
    };
  }

  private async readProc(at: number): Promise<ProcReading> {
    const [stat, diskstats] = await Promise.all([
      readFile(join(this.procRoot, "stat"), "utf8"),
      readFile(join(this.procRoot, "diskstats"), "utf8").catch(() => ""),
    ]);
    return { at, cpu: parseProcStat(stat), disks: parseDiskstats(diskstats) };
  }

  /** Non-virtual block devices under /sys/block; undefined (name rules) where sysfs is absent. */
  private async readPhysicalDisks(): Promise<ReadonlySet<string> | undefined> {
    try {
      const all = await readdir(join(this.sysRoot, "block"));
      const virtual = new Set(
        await readdir(join(this.sysRoot, "devices/virtual/block")).catch(() => []),
      );
      return new Set(all.filter((name) => !virtual.has(name)));
    } catch {
      return undefined;
    }
  }

  private async readGpus(): Promise<GpuReading[]> {
    const monitor = this.options.config.monitor;
    const [nvidia, amd] = await Promise.all([
      monitor.nvidia_smi ? this.tool("nvidia-smi", NVIDIA_SMI_ARGS, parseNvidiaSmiCsv) : [],
      monitor.rocm_smi ? this.tool("rocm-smi", ROCM_SMI_ARGS, parseRocmSmiJson) : [],
    ]);
    // Both vendors number from 0; AMD cards follow the NVIDIA ones so indexes stay unique.
    const offset = nvidia.length === 0 ? 0 : Math.max(...nvidia.map((g) => g.index)) + 1;
    return [...nvidia, ...amd.map((g) => ({ ...g, index: g.index + offset }))];
  }

  private async tool<T>(file: string, args: readonly string[], parse: (s: string) => T[]) {
    const result = await this.run(file, args);
    if (result.kind !== "ok") {
      if (result.kind !== "missing") this.warn(file, `${file}: ${describe(result)}`);
      return [];
    }
    try {
      return parse(result.stdout);
    } catch (error) {
      this.warn(file, `${file}: ${(error as Error).message}`);
      return [];
    }
  }

  private async readLogind(now: number): Promise<number | null | undefined> {
    const list = await this.run("loginctl", ["list-sessions", "--no-legend"]);
    // No systemd (containers, other inits) is normal: the signal is just not there.
    if (list.kind !== "ok") return undefined;
    const ids = parseSessionList(list.stdout);
    if (ids.length === 0) return null;
    const props = ["-p", "Id", "-p", "Class", "-p", "IdleHint", "-p", "IdleSinceHint"];
    const shown = await this.run("loginctl", ["show-session", ...ids, ...props]);
    if (shown.kind !== "ok") return undefined;
    return lastActivityFromSessions(parseShowSession(shown.stdout), now);
  }

  private async run(file: string, args: readonly string[]): Promise<CommandResult> {
    const now = (this.options.clock ?? systemClock).now();
    if ((this.missingUntil.get(file) ?? 0) > now) return { kind: "missing" };
    const timeout = this.options.config.monitor.command_timeout_ms;
    const result = await runCommand(file, args, timeout, this.options.env);
    // loginctl without systemd fails the same way every time: ask again later, not each minute.
    if (result.kind === "missing" || (file === "loginctl" && result.kind === "failed")) {
      this.missingUntil.set(file, now + RETRY_MISSING_MS);
    }
    return result;
  }

  private warn(key: string, message: string): void {
    const now = (this.options.clock ?? systemClock).now();
    if (now - (this.warnedAt.get(key) ?? Number.NEGATIVE_INFINITY) < 3_600_000) return;
    this.warnedAt.set(key, now);
    (this.options.log ?? ((m: string) => process.stderr.write(`nightshift monitor: ${m}\n`)))(
      message,
    );
  }
}

function describe(result: CommandResult): string {
  if (result.kind === "timeout") return "timed out (is the driver hung?); GPU fields left empty";
  if (result.kind === "failed") return result.message;
  return result.kind;
}
