/**
 * Where the copy reads a PostgreSQL table's rows from in a SQLite ledger: the table of the same
 * name, or, where the engines shape a concept differently, a query yielding PostgreSQL's columns.
 */
export interface TableSource {
  /** The columns the source yields, by PostgreSQL's names. */
  columns: string[];
  /** A SELECT yielding those columns and a unique, ordered "$rowid"; absent: the table itself. */
  query?: string;
  /** Why a row of the table may be missing from the query (reported with the count). */
  unreadable?: string;
}

/**
 * PostgreSQL's correction_deliveries carries the correction's own columns (a daemon on another
 * host may hold no corrections row for it: a review decision's correction), where SQLite joins
 * its corrections table (migration 0010) for them.
 */
const DELIVERIES: TableSource = {
  columns: [
    "correction_id",
    "agent",
    "status",
    "created_at",
    "acknowledged_at",
    "acknowledged_via",
    "note",
    "attempts",
    "next_attempt_at",
    "last_error",
    "action_id",
    "source",
    "run_id",
    "original",
    "corrected",
    "reasoning",
    "reviewer_model",
    "confidence_after",
  ],
  query: `SELECT d.rowid AS "$rowid", d.correction_id, d.agent, d.status, d.created_at,
      d.acknowledged_at, d.acknowledged_via, d.note, d.attempts, d.next_attempt_at, d.last_error,
      c.action_id, c.source, c.run_id, c.original, c.corrected, c.reasoning, c.reviewer_model,
      c.confidence_after
    FROM correction_deliveries d JOIN corrections c ON c.id = d.correction_id`,
  unreadable: "its correction is not in the corrections table, so it cannot be delivered",
};

const SOURCES: Record<string, TableSource> = { correction_deliveries: DELIVERIES };

/** The source of PostgreSQL table `name`, given the SQLite ledger's tables and their columns. */
export function sourceOf(name: string, sqlite: Map<string, string[]>): TableSource {
  const special = SOURCES[name];
  // A SQLite ledger from before the join's tables existed has only the plain table (or none).
  if (special && sqlite.has("corrections")) return special;
  return { columns: sqlite.get(name) ?? [] };
}
