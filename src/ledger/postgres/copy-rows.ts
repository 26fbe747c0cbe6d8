import { createHash, type Hash } from "node:crypto";
import { type ActionRow, COLUMNS } from "../actions.js";
import { ARRAY_TYPES, withoutNul } from "./insert.js";

/**
 * Every stored column of an action, including what the audit and retention set later (a
 * compressed row's summaries and hashes: its bodies are gone, so they are all it has).
 */
export const ALL_COLUMNS = [
  ...COLUMNS,
  "audit_status",
  "tier",
  "request_summary",
  "response_summary",
  "request_sha256",
  "response_sha256",
  "reasoning_sha256",
  "compressed_at",
  "aggregated_at",
] as const;

const RETENTION_TYPES: Partial<Record<string, string>> = {
  compressed_at: "int8[]",
  aggregated_at: "int8[]",
};

const FLAGS_AT = ALL_COLUMNS.length + 1;
const CHECKPOINT_AT = FLAGS_AT + 3;

/**
 * One batch of the copy and its checkpoint in a single statement (so a single round trip, and
 * atomic: a copy killed mid-way resumes exactly after the last batch that committed). Rows
 * already present are left as they are.
 */
export const COPY_BATCH = `WITH copied AS (
    INSERT INTO actions (${ALL_COLUMNS.join(", ")})
    SELECT * FROM unnest(${ALL_COLUMNS.map((c, i) => `$${i + 1}::${ARRAY_TYPES[c] ?? RETENTION_TYPES[c] ?? "text[]"}`).join(", ")})
    ON CONFLICT (id) DO NOTHING RETURNING 1
  ), flagged AS (
    INSERT INTO action_flags (flag, started_at, action_id)
    SELECT * FROM unnest($${FLAGS_AT}::text[], $${FLAGS_AT + 1}::int8[], $${FLAGS_AT + 2}::text[])
    ON CONFLICT DO NOTHING RETURNING 1
  )
  INSERT INTO ledger_copies (source, last_id, copied, total, updated_at)
  VALUES ($${CHECKPOINT_AT}, $${CHECKPOINT_AT + 1}, $${CHECKPOINT_AT + 2}, $${CHECKPOINT_AT + 3},
    (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
  ON CONFLICT (source) DO UPDATE SET last_id = EXCLUDED.last_id, copied = EXCLUDED.copied,
    total = EXCLUDED.total, updated_at = EXCLUDED.updated_at`;

/** The batch's parameters, column by column, then the flag rows (from each row's flags JSON). */
export function copyBatchValues(rows: readonly ActionRow[]): unknown[] {
  const values: unknown[][] = ALL_COLUMNS.map((column) =>
    rows.map((row) => withoutNul(row[column as keyof ActionRow])),
  );
  const flags: [unknown[], number[], unknown[]] = [[], [], []];
  for (const row of rows) {
    for (const flag of JSON.parse(row.flags) as string[]) {
      flags[0].push(withoutNul(flag));
      flags[1].push(row.started_at);
      flags[2].push(withoutNul(row.id));
    }
  }
  return [...values, ...flags];
}

/** A row as both engines must hold it: the fields in column order, NUL as PostgreSQL keeps it. */
export function canonicalRow(row: ActionRow): string {
  return JSON.stringify(ALL_COLUMNS.map((column) => withoutNul(row[column as keyof ActionRow])));
}

/** A running sha256 over rows in id order; two sides agree when their digests do. */
export class RowDigest {
  private readonly hash: Hash = createHash("sha256");
  count = 0;

  add(row: ActionRow): string {
    const canonical = canonicalRow(row);
    this.hash.update(canonical);
    this.hash.update("\n");
    this.count += 1;
    return canonical;
  }

  digest(): string {
    return this.hash.digest("hex");
  }
}
