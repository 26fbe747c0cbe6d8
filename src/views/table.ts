/** Plain aligned text tables: the CLI's listings and the audit's text report share them. */

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
