import type { Db } from "../db.js";
import type { TableSource } from "./copy-sources.js";
import type { PgColumn, PgTable } from "./table-schema.js";

function quoted(columns: readonly { name: string }[]): string {
  return columns.map((c) => `"${c.name}"`).join(", ");
}

/** Reads a SQLite table in rowid order (or key order for a WITHOUT ROWID table), in batches. */
export class TableReader {
  readonly total: number;
  /** Rows of the table itself that its source (a join) does not yield. */
  readonly unreadable: number;
  private readonly select: (after: number, limit: number) => Record<string, unknown>[];
  private readonly byRowid: boolean;

  constructor(
    db: Db,
    table: PgTable,
    from: TableSource,
    columns: PgColumn[],
    private readonly fill: Record<string, unknown> = {},
  ) {
    this.total = Number(db.prepare(`SELECT count(*) FROM "${table.name}"`).pluck().get());
    const readable = from.query
      ? Number(db.prepare(`SELECT count(*) FROM (${from.query})`).pluck().get())
      : this.total;
    this.unreadable = this.total - readable;
    this.byRowid = from.query !== undefined || hasRowid(db, table.name);
    const list = quoted(columns);
    if (from.query) {
      const statement = db.prepare<[number, number], Record<string, unknown>>(
        `SELECT "$rowid", ${list} FROM (${from.query}) WHERE "$rowid" > ? ORDER BY "$rowid" LIMIT ?`,
      );
      this.select = (after, limit) => statement.all(after, limit);
    } else if (this.byRowid) {
      const statement = db.prepare<[number, number], Record<string, unknown>>(
        `SELECT rowid AS "$rowid", ${list} FROM "${table.name}" WHERE rowid > ? ORDER BY rowid LIMIT ?`,
      );
      this.select = (after, limit) => statement.all(after, limit);
    } else {
      const keyed = table.primaryKey.filter((name) => columns.some((c) => c.name === name));
      const order = keyed.length ? quoted(keyed.map((name) => ({ name }))) : list;
      const statement = db.prepare<[number, number], Record<string, unknown>>(
        `SELECT ${list} FROM "${table.name}" ORDER BY ${order} LIMIT ? OFFSET ?`,
      );
      this.select = (after, limit) => statement.all(limit, Math.max(after, 0));
    }
  }
  /** The next batch after `position`, and the position after it (a rowid, or an offset). */
  after(position: number, limit: number): { rows: Record<string, unknown>[]; last: number } {
    const rows = this.select(position, limit).map((row) => ({ ...this.fill, ...row }));
    if (rows.length === 0) return { rows, last: position };
    const last = this.byRowid
      ? Number(rows[rows.length - 1]!.$rowid)
      : Math.max(position, 0) + rows.length;
    return { rows, last };
  }
}

function hasRowid(db: Db, table: string): boolean {
  try {
    db.prepare(`SELECT rowid FROM "${table}" LIMIT 1`).get();
    return true;
  } catch {
    return false;
  }
}
