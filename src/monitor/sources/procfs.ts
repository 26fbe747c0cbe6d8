/**
 * Parsers for the kernel's counters under /proc: pure functions over the files' text, so they
 * are tested on fixtures, and the deltas between two readings (CPU %, disk bytes/s).
 */

export interface CpuTimes {
  /** All jiffies since boot, guest time excluded (the kernel already counts it in user). */
  total: number;
  /** idle + iowait. */
  idle: number;
}

/** The aggregate "cpu" line of /proc/stat. */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error('/proc/stat has no aggregate "cpu" line');
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) {
    throw new Error(`/proc/stat: cannot read the cpu line "${line}"`);
  }
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    fields;
  return {
    total: user + nice + system + idle + iowait + irq + softirq + steal,
    idle: idle + iowait,
  };
}

/** CPU busy % between two readings; null when no time passed (or the counters went back). */
export function cpuPercent(before: CpuTimes, after: CpuTimes): number | null {
  const total = after.total - before.total;
  const idle = after.idle - before.idle;
  if (total <= 0 || idle < 0) return null;
  return Math.min(100, Math.max(0, ((total - idle) / total) * 100));
}

export interface Memory {
  totalMb: number;
  usedMb: number;
  usedPct: number;
}

/** RAM in use = MemTotal − MemAvailable (what applications could still get without swapping). */
export function parseMeminfo(text: string): Memory {
  const kb = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line);
    if (match) kb.set(match[1]!, Number(match[2]));
  }
  const total = kb.get("MemTotal");
  if (!total) throw new Error("/proc/meminfo has no MemTotal");
  // Kernels before 3.14 have no MemAvailable; free + page cache is the old approximation.
  const available =
    kb.get("MemAvailable") ??
    (kb.get("MemFree") ?? 0) + (kb.get("Buffers") ?? 0) + (kb.get("Cached") ?? 0);
  const used = Math.max(0, total - available);
  return { totalMb: total / 1024, usedMb: used / 1024, usedPct: (used / total) * 100 };
}

export interface DiskCounters {
  name: string;
  sectorsRead: number;
  sectorsWritten: number;
}

/** Every device line of /proc/diskstats (sectors are always 512 bytes there). */
export function parseDiskstats(text: string): DiskCounters[] {
  const disks: DiskCounters[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const sectorsRead = Number(fields[5]);
    const sectorsWritten = Number(fields[9]);
    if (!Number.isFinite(sectorsRead) || !Number.isFinite(sectorsWritten)) continue;
    disks.push({ name: fields[2]!, sectorsRead, sectorsWritten });
  }
  return disks;
}

const VIRTUAL = /^(loop|ram|zram|dm-|md|nbd|sr|fd)\d*/;
const PARTITION = /^(?:(?:[shv]d|xvd)[a-z]+\d+|(?:nvme\d+n\d+|mmcblk\d+|nbd\d+)p\d+)$/;

/**
 * Whole physical disks only: partitions would count their disk's bytes twice, and loop, zram,
 * device-mapper and md devices sit on top of disks already counted. `physical`, when given (the
 * non-virtual names under /sys/block), is the authority; the name rules are the fallback.
 */
export function isWholeDisk(name: string, physical?: ReadonlySet<string>): boolean {
  if (physical) return physical.has(name);
  return !VIRTUAL.test(name) && !PARTITION.test(name);
}

/** Read and write bytes/s of the whole disks between two readings. */
export function diskRates(
  before: readonly DiskCounters[],
  after: readonly DiskCounters[],
  elapsedMs: number,
  physical?: ReadonlySet<string>,
): { readBps: number; writeBps: number } | null {
  if (elapsedMs <= 0) return null;
  const previous = new Map(before.map((d) => [d.name, d]));
  let read = 0;
  let written = 0;
  for (const disk of after) {
    const prior = previous.get(disk.name);
    if (!prior || !isWholeDisk(disk.name, physical)) continue;
    // A disk removed and re-added restarts its counters: skip that interval, don't go negative.
    read += Math.max(0, disk.sectorsRead - prior.sectorsRead);
    written += Math.max(0, disk.sectorsWritten - prior.sectorsWritten);
  }
  const seconds = elapsedMs / 1000;
  return { readBps: (read * 512) / seconds, writeBps: (written * 512) / seconds };
}
