import type pg from "pg";
import type { AuditStatus } from "../actions.js";

/** The tables retention prunes and vacuums, whose sizes it reports. */
export const PRUNED_TABLES = ["actions", "action_flags", "action_aggregates"] as const;

/**
 * SQL fragments about `actions a` that depend on which other tables exist. The audit's
 * corrections and the review queue refer to actions by id; where their tables exist they are
 * read (never written), so a ledger without them still prunes.
 */
export interface ReferenceSql {
  /** True when something refers to the row, so aggregation keeps it (compressed). */
  referenced: string;
  /** True when the row was corrected (its status, or a correction naming it). */
  corrected: string;
}

export async function referenceSql(pool: pg.Pool): Promise<ReferenceSql> {
  const { rows } = await pool.query<{ corrections: boolean; review: boolean }>(
    `SELECT to_regclass('corrections') IS NOT NULL AS corrections,
       to_regclass('review_items') IS NOT NULL AS review`,
  );
  const found = rows[0]!;
  const correctionRef = found.corrections
    ? "EXISTS (SELECT 1 FROM corrections c WHERE c.action_id = a.id)"
    : "false";
  const reviewRef = found.review
    ? "EXISTS (SELECT 1 FROM review_items r WHERE r.action_id = a.id)"
    : "false";
  return {
    // coalesce: NULL IN (...) is NULL, and NOT NULL would count an unaudited row as neither.
    referenced: `(coalesce(a.audit_status IN ('corrected', 'ruled', 'in_review'), false) OR ${correctionRef} OR ${reviewRef})`,
    corrected: `(coalesce(a.audit_status = 'corrected', false) OR ${correctionRef})`,
  };
}

/** Collects parameters and writes their $n placeholders. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** `a.audit_status` matching one status; IS NULL is written out, so the index serves it. */
  status(status: AuditStatus | null): string {
    return status === null ? "a.audit_status IS NULL" : `a.audit_status = ${this.add(status)}`;
  }
}
