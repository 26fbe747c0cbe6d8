import type pg from "pg";
import { KnowledgeConflictError, type KnowledgeVersionRow } from "../stores/knowledge.js";
import { KnowledgeSql } from "./knowledge-sql.js";

const entryId = (r: { scope: string; key: string }) => `${r.scope}\u0000${r.key}`;

/** The columns of kb_entries (and the first nine of kb_versions) as arrays, one per column. */
function entryArrays(rows: readonly KnowledgeVersionRow[]): unknown[][] {
  return [
    rows.map((r) => r.scope),
    rows.map((r) => r.key),
    rows.map((r) => r.version),
    rows.map((r) => r.content),
    rows.map((r) => (r.data === null || r.data === undefined ? null : JSON.stringify(r.data))),
    rows.map((r) => r.deleted),
    rows.map((r) => r.sourceKind),
    rows.map((r) => r.sourceRef),
    rows.map((r) => r.createdAt),
  ];
}

/**
 * Appends a change's versions inside the caller's transaction, in three round trips whatever
 * its size (an import of thousands of entries): lock the entries it touches and read their
 * versions, check each new version is its entry's latest + 1, then write every version and each
 * entry's last one in one statement. UNIQUE (scope, key, version) still catches two daemons
 * writing the first version of one new entry (nothing to lock yet).
 */
export async function appendVersions(
  client: pg.ClientBase,
  rows: readonly KnowledgeVersionRow[],
  vectors: boolean,
): Promise<void> {
  const last = new Map<string, KnowledgeVersionRow>();
  for (const row of rows) last.set(entryId(row), row);
  const entries = [...last.values()];
  const { rows: locked } = await client.query<{ scope: string; key: string; version: number }>(
    KnowledgeSql.lockMany,
    [entries.map((e) => e.scope), entries.map((e) => e.key)],
  );
  const latest = new Map(locked.map((r) => [entryId(r), r.version]));
  for (const row of rows) {
    if (row.version !== (latest.get(entryId(row)) ?? 0) + 1) {
      throw new KnowledgeConflictError(row.scope, row.key, row.version);
    }
    latest.set(entryId(row), row.version);
  }
  await client.query(vectors ? KnowledgeSql.appendWithVector : KnowledgeSql.append, [
    ...entryArrays(entries),
    ...entryArrays(rows),
    rows.map((r) => r.note),
  ]);
}
