import type pg from "pg";
import type { Db } from "../db.js";

/** A PostgreSQL column as the copy needs it. */
export interface PgColumn {
  name: string;
  /** information_schema's data_type: "jsonb", "ARRAY", "boolean", "timestamp with time zone", … */
  type: string;
  nullable: boolean;
  hasDefault: boolean;
  identity: boolean;
  generated: boolean;
  /** Filled by a sequence (serial or identity): moved past the copied ids afterwards. */
  sequenced: boolean;
}

export interface PgTable {
  name: string;
  columns: PgColumn[];
  primaryKey: string[];
  /** Whether any unique constraint (the primary key included) can tell a row already there. */
  hasUnique: boolean;
  /** Tables this one's foreign keys point to. */
  references: string[];
}

/** The base tables of the current schema, with what a copy into them must know. */
export async function readPgTables(client: pg.ClientBase): Promise<Map<string, PgTable>> {
  const { rows: columns } = await client.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: string;
    column_default: string | null;
    is_identity: string;
    is_generated: string;
  }>(`SELECT c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default,
             c.is_identity, c.is_generated
        FROM information_schema.columns c
        JOIN information_schema.tables t
          ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
       ORDER BY c.table_name, c.ordinal_position`);
  const { rows: constraints } = await client.query<{
    table_name: string;
    kind: string;
    columns: string[];
    target: string | null;
  }>(`SELECT rel.relname AS table_name, con.contype AS kind, target.relname AS target,
             ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
                    ORDER BY k.i) AS columns
        FROM pg_constraint con
        JOIN pg_class rel ON rel.oid = con.conrelid
        JOIN pg_namespace ns ON ns.oid = rel.relnamespace
        LEFT JOIN pg_class target ON target.oid = con.confrelid
       WHERE ns.nspname = current_schema() AND con.contype IN ('p', 'u', 'f')`);
  const { rows: uniqueIndexes } = await client.query<{ table_name: string }>(
    `SELECT t.relname AS table_name FROM pg_index i
       JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace ns ON ns.oid = t.relnamespace
      WHERE ns.nspname = current_schema() AND i.indisunique AND i.indpred IS NULL`,
  );
  const tables = new Map<string, PgTable>();
  for (const c of columns) {
    let table = tables.get(c.table_name);
    if (!table) {
      table = { name: c.table_name, columns: [], primaryKey: [], hasUnique: false, references: [] };
      tables.set(c.table_name, table);
    }
    table.columns.push({
      name: c.column_name,
      type: c.data_type,
      nullable: c.is_nullable === "YES",
      hasDefault: c.column_default !== null || c.is_identity === "YES",
      identity: c.is_identity === "YES",
      generated: c.is_generated === "ALWAYS",
      sequenced: c.is_identity === "YES" || /^nextval\(/.test(c.column_default ?? ""),
    });
  }
  for (const c of constraints) {
    const table = tables.get(c.table_name);
    if (!table) continue;
    if (c.kind === "p") table.primaryKey = c.columns;
    if (c.kind === "p" || c.kind === "u") table.hasUnique = true;
    if (c.kind === "f" && c.target && c.target !== c.table_name) table.references.push(c.target);
  }
  for (const u of uniqueIndexes) {
    const table = tables.get(u.table_name);
    if (table) table.hasUnique = true;
  }
  return tables;
}

/**
 * The SQLite ledger's own tables: not SQLite's, not the migrations record, not a full-text
 * index (a virtual table and its shadow tables), which each engine builds from its own rows.
 */
export function sqliteTables(db: Db): Map<string, string[]> {
  const rows = db
    .prepare<[], { name: string; sql: string | null }>(
      "SELECT name, sql FROM sqlite_schema WHERE type = 'table' ORDER BY name",
    )
    .all();
  const virtual = rows.filter((r) => /^CREATE VIRTUAL TABLE/i.test(r.sql ?? "")).map((r) => r.name);
  const tables = new Map<string, string[]>();
  for (const { name } of rows) {
    if (name.startsWith("sqlite_") || name === "schema_migrations") continue;
    if (virtual.some((v) => name === v || name.startsWith(`${v}_`))) continue;
    const columns = db
      .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${name}')`)
      .all()
      .map((c) => c.name);
    tables.set(name, columns);
  }
  return tables;
}

/** Tables in an order where every table comes after the tables its foreign keys point to. */
export function referencedFirst(tables: PgTable[]): PgTable[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: PgTable[] = [];
  const placed = new Set<string>();
  const visit = (table: PgTable, path: Set<string>) => {
    if (placed.has(table.name) || path.has(table.name)) return;
    path.add(table.name);
    for (const target of table.references) {
      const referenced = byName.get(target);
      if (referenced) visit(referenced, path);
    }
    placed.add(table.name);
    ordered.push(table);
  };
  for (const table of [...tables].sort((a, b) => a.name.localeCompare(b.name))) {
    visit(table, new Set());
  }
  return ordered;
}
