import { createHash } from "node:crypto";
import type pg from "pg";
import type { Db } from "../db.js";
import { sourceOf, type TableSource } from "./copy-sources.js";
import { withoutNul } from "./insert.js";
import { TableReader } from "./table-reader.js";
import {
  type PgColumn,
  type PgTable,
  readPgTables,
  referencedFirst,
  sqliteTables,
} from "./table-schema.js";
import { inTransaction } from "./transaction.js";

/** Tables `copySqliteLedger` copies itself (with their own checks), or that only one engine has. */
const COPIED_ELSEWHERE = new Set([
  "actions",
  "action_flags",
  "ledger_copies",
  "ledger_table_copies",
]);

export interface TableCopyProgress {
  table: string;
  done: number;
  total: number;
}

export interface TableCopyResult {
  table: string;
  total: number;
  /** Rows sent in this run; a resumed run sends only what the last one had not committed. */
  copied: number;
  resumedFrom: number;
  /** Rows of the SQLite table found in PostgreSQL afterwards, by their key. */
  verified: number;
  /** sha256 over the keys of the rows verified (the same on both sides by construction). */
  keyDigest: string | null;
  /** Why the table was not copied; nothing was written to it. */
  skipped?: string;
  /** Rows of the table its source query cannot read (a delivery whose correction is gone), and why. */
  unreadable?: number;
  why?: string;
}

export interface TableCopyOptions {
  db: Db;
  source: string;
  pool: pg.Pool;
  batchSize?: number;
  onProgress?: (progress: TableCopyProgress) => void;
  /**
   * Values for columns PostgreSQL has and SQLite does not, by column name: the monitor's `host`
   * (the machine the SQLite ledger belongs to), for one.
   */
  fill?: Record<string, unknown>;
}

/**
 * Copies every other table of a SQLite ledger (knowledge, review, audit, finance, monitor,
 * scheduler, retention) into the PostgreSQL tables of the same name, column by column name,
 * parents before children. Each batch commits with its checkpoint, so a second run resumes.
 * Rows already in PostgreSQL are never overwritten. A table another machine already wrote to is
 * left alone when its rows cannot be told apart from ours (integer ids from a sequence would
 * collide, or no key at all), and the result says so.
 */
export async function copySqliteTables(options: TableCopyOptions): Promise<TableCopyResult[]> {
  const client = await options.pool.connect();
  let pgTables: Map<string, PgTable>;
  try {
    pgTables = await readPgTables(client);
  } finally {
    client.release();
  }
  const sqlite = sqliteTables(options.db);
  const results: TableCopyResult[] = [];
  const common: PgTable[] = [];
  for (const name of sqlite.keys()) {
    if (COPIED_ELSEWHERE.has(name)) continue;
    const table = pgTables.get(name);
    if (table) common.push(table);
    else results.push(skipped(name, options.db, "PostgreSQL has no table of that name"));
  }
  for (const table of referencedFirst(common)) {
    results.push(await copyTable(table, sourceOf(table.name, sqlite), options));
  }
  return results;
}

function skipped(table: string, db: Db, why: string): TableCopyResult {
  const total = Number(db.prepare(`SELECT count(*) FROM "${table}"`).pluck().get());
  return { table, total, copied: 0, resumedFrom: 0, verified: 0, keyDigest: null, skipped: why };
}

async function copyTable(
  table: PgTable,
  from: TableSource,
  options: TableCopyOptions,
): Promise<TableCopyResult> {
  const { db, pool, source } = options;
  const sqliteColumns = from.columns;
  const fill = options.fill ?? {};
  const known = (name: string) => sqliteColumns.includes(name) || name in fill;
  const columns = table.columns.filter((c) => !c.generated && known(c.name));
  const required = table.columns.find(
    (c) => !c.generated && !c.nullable && !c.hasDefault && !known(c.name),
  );
  if (required) {
    return skipped(
      table.name,
      db,
      `column ${required.name} is required in PostgreSQL and SQLite has none`,
    );
  }
  const mark = await pool.query<{ last_rowid: number; copied: number }>(
    "SELECT last_rowid, copied FROM ledger_table_copies WHERE source = $1 AND table_name = $2",
    [source, table.name],
  );
  if (mark.rows.length === 0) {
    const why = await collisionRisk(pool, table);
    if (why) return skipped(table.name, db, why);
  }
  const reader = new TableReader(
    db,
    table,
    from,
    columns.filter((c) => sqliteColumns.includes(c.name)),
    fill,
  );
  const total = reader.total;
  const resumedFrom = Number(mark.rows[0]?.copied ?? 0);
  let position = Number(mark.rows[0]?.last_rowid ?? -Number.MAX_SAFE_INTEGER);
  let copied = resumedFrom;
  const batchSize = options.batchSize ?? 1000;
  const insert = insertStatement(table, columns);
  for (let batch = reader.after(position, batchSize); batch.rows.length > 0; ) {
    const values = JSON.stringify(batch.rows.map((row) => toPg(row, columns)));
    copied += batch.rows.length;
    position = batch.last;
    await inTransaction(pool, async (tx) => {
      await tx.query(insert, [values]);
      await tx.query(CHECKPOINT, [source, table.name, position, copied, total]);
    });
    options.onProgress?.({ table: table.name, done: copied, total });
    batch = reader.after(position, batchSize);
  }
  await moveSequences(pool, table, columns);
  const verify = await verifyTable(pool, reader, table, columns, batchSize);
  await pool.query(
    `UPDATE ledger_table_copies SET verified_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
      WHERE source = $1 AND table_name = $2`,
    [source, table.name],
  );
  return {
    table: table.name,
    total,
    copied: copied - resumedFrom,
    resumedFrom,
    verified: verify.found,
    keyDigest: verify.digest,
    ...(reader.unreadable > 0 ? { unreadable: reader.unreadable, why: from.unreadable } : {}),
  };
}

const CHECKPOINT = `INSERT INTO ledger_table_copies (source, table_name, last_rowid, copied, total, updated_at)
  VALUES ($1, $2, $3, $4, $5, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
  ON CONFLICT (source, table_name) DO UPDATE SET last_rowid = excluded.last_rowid,
    copied = excluded.copied, total = excluded.total, updated_at = excluded.updated_at`;

/** Why copying into a table that already has rows (not from this copy) could corrupt it, if so. */
async function collisionRisk(pool: pg.Pool, table: PgTable): Promise<string | null> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int8 AS n FROM (SELECT 1 FROM "${table.name}" LIMIT 1) t`,
  );
  if (Number(rows[0]!.n) === 0) return null;
  if (!table.hasUnique) {
    return "PostgreSQL's table already has rows and no key to tell them from the ones copied";
  }
  const keyed = table.columns.filter((c) => table.primaryKey.includes(c.name));
  if (keyed.some((c) => c.sequenced)) {
    return `PostgreSQL's table already has rows written elsewhere and its ids (${table.primaryKey.join(", ")}) come from a sequence, so copied ids would collide with theirs; copy into a database no daemon has written to yet`;
  }
  return null;
}

function quoted(columns: readonly { name: string }[]): string {
  return columns.map((c) => `"${c.name}"`).join(", ");
}

function insertStatement(table: PgTable, columns: PgColumn[]): string {
  const list = quoted(columns);
  const overriding = columns.some((c) => c.identity) ? " OVERRIDING SYSTEM VALUE" : "";
  const conflict = table.hasUnique ? " ON CONFLICT DO NOTHING" : "";
  return `INSERT INTO "${table.name}" (${list})${overriding}
    SELECT ${list} FROM json_populate_recordset(NULL::"${table.name}", $1::json)${conflict}`;
}

/** A SQLite value as json_populate_recordset reads it into the PostgreSQL column's type. */
function toPgValue(value: unknown, column: PgColumn): unknown {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return `\\x${value.toString("hex")}`;
  if (typeof value === "bigint") return value.toString();
  switch (column.type) {
    case "json":
    case "jsonb":
    case "ARRAY":
      // SQLite keeps JSON as text; a JSON string would arrive as a JSON string, not its value.
      if (typeof value === "string") {
        try {
          return JSON.parse(value);
        } catch {
          return value;
        }
      }
      return value;
    case "boolean":
      return typeof value === "number" ? value !== 0 : value;
    case "timestamp with time zone":
    case "timestamp without time zone":
      return typeof value === "number" ? new Date(value).toISOString() : value;
    default:
      return withoutNul(value);
  }
}

function toPg(row: Record<string, unknown>, columns: PgColumn[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of columns) out[column.name] = toPgValue(row[column.name], column);
  return out;
}

/** Moves each sequence past the ids copied in, so the next row PostgreSQL numbers is new. */
async function moveSequences(pool: pg.Pool, table: PgTable, columns: PgColumn[]): Promise<void> {
  for (const column of columns.filter((c) => c.sequenced)) {
    await pool.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), m) FROM (SELECT max("${column.name}") AS m FROM "${table.name}") t
        WHERE m IS NOT NULL`,
      [`"${table.name}"`, column.name],
    );
  }
}

/** Counts the SQLite rows whose key is in PostgreSQL, and hashes those keys in order. */
async function verifyTable(
  pool: pg.Pool,
  reader: TableReader,
  table: PgTable,
  columns: PgColumn[],
  batchSize: number,
): Promise<{ found: number; digest: string | null }> {
  const key = columns.filter((c) => table.primaryKey.includes(c.name));
  if (key.length === 0 || key.length !== table.primaryKey.length) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int8 AS n FROM "${table.name}"`,
    );
    return { found: Math.min(Number(rows[0]!.n), reader.total), digest: null };
  }
  const hash = createHash("sha256");
  const on = key.map((c) => `s."${c.name}" IS NOT DISTINCT FROM t."${c.name}"`).join(" AND ");
  const query = `SELECT count(*)::int8 AS n FROM json_populate_recordset(NULL::"${table.name}", $1::json) s
    WHERE EXISTS (SELECT 1 FROM "${table.name}" t WHERE ${on})`;
  let found = 0;
  let position = -Number.MAX_SAFE_INTEGER;
  for (let batch = reader.after(position, batchSize); batch.rows.length > 0; ) {
    const keys = batch.rows.map((row) => toPg(row, key));
    for (const k of keys) hash.update(`${JSON.stringify(key.map((c) => k[c.name]))}\n`);
    const { rows } = await pool.query<{ n: number }>(query, [JSON.stringify(keys)]);
    found += Number(rows[0]!.n);
    position = batch.last;
    batch = reader.after(position, batchSize);
  }
  return { found, digest: hash.digest("hex") };
}
