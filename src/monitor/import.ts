import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { z } from "zod";
import { NightshiftError } from "../errors.js";
import type { MonitorSample, MonitorStore } from "../ledger/stores/monitor.js";
import { DEFAULT_IDLE, hourStart, type IdleConfig, refreshRollups } from "./rollup.js";

const pct = z.number().min(0).max(100);
const amount = z.number().min(0);

const gpuLine = z.object({
  index: z.number().int().min(0),
  util_pct: pct.nullable().optional(),
  mem_used_mb: amount.nullable().optional(),
  mem_total_mb: amount.nullable().optional(),
  power_w: amount.nullable().optional(),
  temp_c: z.number().nullable().optional(),
});

/**
 * One NDJSON line of history from another monitor. ts is an ISO 8601 time or a number of
 * milliseconds since the epoch (seconds are accepted too: anything under 1e11 is taken as s).
 */
export const importLineSchema = z.object({
  ts: z.union([z.number().positive(), z.iso.datetime({ offset: true, local: true })]),
  cpu_pct: pct,
  ram_pct: pct,
  ram_used_mb: amount.nullable().optional(),
  disk_read_bps: amount.nullable().optional(),
  disk_write_bps: amount.nullable().optional(),
  gpus: z.array(gpuLine).default([]),
  user_active: z.boolean().nullable().optional(),
});

export type ImportLine = z.infer<typeof importLineSchema>;

export interface ImportProgress {
  phase: "checking" | "importing" | "rolling up";
  /** Lines read so far; hours done while rolling up. */
  lines: number;
  /** Bytes read of the file so far and its size (hours done and to do while rolling up). */
  bytes: number;
  totalBytes: number;
}

export interface ImportResult {
  file: string;
  samples: number;
  oldest: number | null;
  newest: number | null;
}

/** How many bad lines the error message lists before it just counts the rest. */
const MAX_REPORTED = 20;
/** Samples per insert: one multi-row statement each on PostgreSQL. */
const BATCH = 5000;

/**
 * Imports samples from an NDJSON file, all or nothing: the whole file is checked first, and any
 * bad line (reported by number: "line 17: cpu_pct: expected number, got string") fails the
 * import with nothing written. A good file goes in as one transaction; the rollups of the hours
 * it touched are then recomputed.
 */
export async function importSamples(
  store: MonitorStore,
  file: string,
  options: { now: number; idle?: IdleConfig; onProgress?: (p: ImportProgress) => void },
): Promise<ImportResult> {
  const totalBytes = await stat(file).then(
    (s) => s.size,
    (error: NodeJS.ErrnoException) => {
      throw new NightshiftError(`cannot read ${file}: ${error.code ?? error.message}`);
    },
  );
  const errors: string[] = [];
  let badLines = 0;
  await eachLine(file, totalBytes, "checking", options.onProgress, (text, n) => {
    const problem = checkLine(text);
    if (problem === null) return;
    badLines++;
    if (errors.length < MAX_REPORTED) errors.push(`line ${n}: ${problem}`);
  });
  if (badLines > 0) {
    const more = badLines > errors.length ? `\n  ... and ${badLines - errors.length} more` : "";
    throw new NightshiftError(
      `${file}: ${badLines} bad line${badLines > 1 ? "s" : ""}, nothing imported:\n  ${errors.join("\n  ")}${more}`,
    );
  }
  // One transaction for the samples and the rollups they change: a failure leaves no trace.
  return store.transaction(async (tx) => {
    const { result, hours } = await insertFile(tx, file, totalBytes, options.onProgress);
    await refreshRollups(tx, hours, options.now, options.idle ?? DEFAULT_IDLE, (done, total) =>
      options.onProgress?.({ phase: "rolling up", lines: done, bytes: done, totalBytes: total }),
    );
    return result;
  });
}

/** Writes the (checked) file's samples BATCH at a time; returns them summed up and their hours. */
async function insertFile(
  store: MonitorStore,
  file: string,
  totalBytes: number,
  onProgress: ((p: ImportProgress) => void) | undefined,
): Promise<{ result: ImportResult; hours: number[] }> {
  const result: ImportResult = { file, samples: 0, oldest: null, newest: null };
  const hours = new Set<number>();
  let batch: MonitorSample[] = [];
  await eachLine(file, totalBytes, "importing", onProgress, async (text, n) => {
    const sample = toSample(parseCheckedLine(text, file, n));
    batch.push(sample);
    hours.add(hourStart(sample.ts));
    result.samples++;
    result.oldest = Math.min(result.oldest ?? sample.ts, sample.ts);
    result.newest = Math.max(result.newest ?? sample.ts, sample.ts);
    if (batch.length >= BATCH) {
      await store.insertMany(batch);
      batch = [];
    }
  });
  await store.insertMany(batch);
  return { result, hours: [...hours].sort((a, b) => a - b) };
}

/** A line the check passed; if it fails now, the file changed under the import. */
function parseCheckedLine(text: string, file: string, n: number): ImportLine {
  try {
    return importLineSchema.parse(JSON.parse(text));
  } catch {
    throw new NightshiftError(
      `${file} changed while it was imported (line ${n}: ${checkLine(text)}); nothing imported`,
    );
  }
}

/** The problem with one line, in words, or null when it is a good sample. */
export function checkLine(text: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  const result = importLineSchema.safeParse(parsed);
  if (result.success) return null;
  return result.error.issues.map((issue) => describeIssue(issue, parsed)).join("; ");
}

function describeIssue(issue: z.core.$ZodIssue, line: unknown): string {
  const path = issue.path.map(String).join(".") || "(line)";
  if (issue.code === "invalid_type") {
    const input = valueAt(line, issue.path);
    return `${path}: expected ${issue.expected}, got ${input === undefined ? "nothing" : typeName(input)}`;
  }
  if (issue.code === "too_small" || issue.code === "too_big") {
    const bound = issue.code === "too_small" ? "at least" : "at most";
    return `${path}: expected ${bound} ${String(issue.code === "too_small" ? issue.minimum : issue.maximum)}`;
  }
  if (path === "ts") return "ts: expected an ISO 8601 time or ms since the epoch";
  return `${path}: ${issue.message}`;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

function toSample(line: ImportLine): MonitorSample {
  const ts =
    typeof line.ts === "string"
      ? Date.parse(line.ts)
      : line.ts < 1e11
        ? Math.round(line.ts * 1000)
        : Math.round(line.ts);
  return {
    ts,
    cpuPct: line.cpu_pct,
    ramPct: line.ram_pct,
    ramUsedMb: line.ram_used_mb ?? null,
    diskReadBps: line.disk_read_bps ?? null,
    diskWriteBps: line.disk_write_bps ?? null,
    userActive: line.user_active ?? null,
    lastActiveAt: line.user_active ? ts : null,
    gpus: line.gpus.map((g) => ({
      index: g.index,
      vendor: null,
      utilPct: g.util_pct ?? null,
      memUsedMb: g.mem_used_mb ?? null,
      memTotalMb: g.mem_total_mb ?? null,
      powerW: g.power_w ?? null,
      tempC: g.temp_c ?? null,
    })),
    source: "import",
  };
}

async function eachLine(
  file: string,
  totalBytes: number,
  phase: ImportProgress["phase"],
  onProgress: ((p: ImportProgress) => void) | undefined,
  handle: (text: string, lineNumber: number) => void | Promise<void>,
): Promise<void> {
  const stream = createReadStream(file, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const raw of lines) {
    n++;
    if (raw.trim() !== "") await handle(raw, n);
    if (onProgress && n % 10_000 === 0) {
      onProgress({ phase, lines: n, bytes: stream.bytesRead, totalBytes });
    }
  }
  onProgress?.({ phase, lines: n, bytes: totalBytes, totalBytes });
}
