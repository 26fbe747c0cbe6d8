import { describeError, isNightshiftError, NightshiftError } from "../errors.js";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: "left" | "right";
  /** Longer cells are cut with an ellipsis. */
  max?: number;
}

/** "2026-11-25 17:07" (":42" with seconds) in the machine's local time, as a person reads a clock. */
export function formatLocalTime(ms: number, withSeconds = false): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  const minutes = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return withSeconds ? `${minutes}:${pad(d.getSeconds())}` : minutes;
}

/** A plain aligned text table, the default output of listing commands. */
export function formatTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => clip(c.value(row), c.max)));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((r) => r[i]!.length)),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) =>
        columns[i]!.align === "right" ? v.padStart(widths[i]!) : v.padEnd(widths[i]!),
      )
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
}

function clip(value: string, max: number | undefined): string {
  const flat = value.replace(/\s+/g, " ");
  return max !== undefined && flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Expected errors become one stderr line; anything else is a bug and keeps its stack. */
export function reportError(error: unknown): number {
  if (isNightshiftError(error)) {
    process.stderr.write(`nightshift: ${describeError(error)}\n`);
  } else {
    process.stderr.write(
      `nightshift: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  return 1;
}

/** "2h", "30m", "7d" or an ISO date → ms since the epoch. */
export function parseSince(value: string, now = Date.now()): number {
  const relative = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(value.trim());
  if (relative) {
    const unit = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[relative[2] as "s"];
    return now - Number(relative[1]) * unit;
  }
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) {
    throw new NightshiftError(`"${value}" is not a duration (like 2h, 30m, 7d) or an ISO date`);
  }
  return parsed;
}

/** "1 action", "2 actions": a count with its noun in the right number. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
