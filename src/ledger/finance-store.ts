import type { Statement } from "better-sqlite3";
import type { Db } from "./db.js";

/** The finance agent's tables (see migrations/0008-finance.sql). Amounts are integer cents. */

export type AccountKind = "bank" | "card";
export type ReconcileStatus = "reconciled" | "mismatch" | "unchecked";
export type CategorySource = "rule" | "model" | "audit" | "person";

export interface FinanceAccount {
  id: number;
  name: string;
  numberMasked: string | null;
  kind: AccountKind;
  currency: string;
  createdAt: number;
}

export interface FinanceStatement {
  id: number;
  accountId: number;
  accountName: string;
  fileName: string;
  fileSha256: string;
  format: "pdf" | "csv" | "ofx";
  extraction: "parser" | "model";
  periodStart: string | null;
  periodEnd: string | null;
  openingCents: number | null;
  closingCents: number | null;
  printedTotals: { label: string; side: string; cents: number }[];
  debitsCents: number;
  creditsCents: number;
  reconcileStatus: ReconcileStatus;
  differenceCents: number | null;
  flags: string[];
  transactionCount: number;
  duplicatesSkipped: number;
  importedAt: number;
}

export interface FinanceTransaction {
  id: number;
  accountId: number;
  statementId: number;
  position: number;
  date: string;
  amountCents: number;
  description: string;
  payee: string | null;
  bankId: string | null;
  balanceCents: number | null;
  category: string | null;
  categorySource: CategorySource | null;
  confidence: number | null;
  categoryActionId: string | null;
  duplicateOf: number | null;
  flags: string[];
  createdAt: number;
}

export type NewStatement = Omit<FinanceStatement, "id" | "accountName">;
export type NewTransaction = Omit<
  FinanceTransaction,
  "id" | "category" | "categorySource" | "confidence" | "categoryActionId"
>;

export interface TransactionFilter {
  from?: string | undefined;
  /** Inclusive ISO date. */
  to?: string | undefined;
  statementId?: number | undefined;
  uncategorized?: boolean | undefined;
  flag?: string | undefined;
  limit?: number | undefined;
}

type Row = Record<string, unknown>;

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function fromRow<T>(row: Row, jsonKeys: string[]): T {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) {
    out[camel(key)] = jsonKeys.includes(key) ? JSON.parse(String(value)) : value;
  }
  return out as T;
}

function toParams(value: object, jsonKeys: string[]): Row {
  const out: Row = {};
  for (const [key, v] of Object.entries(value)) {
    out[snake(key)] = jsonKeys.includes(snake(key)) ? JSON.stringify(v) : v;
  }
  return out;
}

const STATEMENT_COLUMNS =
  "s.*, a.name AS account_name FROM finance_statements s JOIN finance_accounts a ON a.id = s.account_id";

export class FinanceStore {
  private readonly stmts: Record<string, Statement>;

  constructor(readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.stmts = {
      accountByName: p("SELECT * FROM finance_accounts WHERE name = ?"),
      accountById: p("SELECT * FROM finance_accounts WHERE id = ?"),
      accountByNumber: p(
        "SELECT * FROM finance_accounts WHERE number_masked = ? AND kind = ? ORDER BY id LIMIT 1",
      ),
      accounts: p("SELECT * FROM finance_accounts ORDER BY name"),
      insertAccount:
        p(`INSERT INTO finance_accounts (name, number_masked, kind, currency, created_at)
        VALUES (@name, @number_masked, @kind, @currency, @created_at)`),
      statementBySha: p(`SELECT ${STATEMENT_COLUMNS} WHERE s.file_sha256 = ?`),
      statementById: p(`SELECT ${STATEMENT_COLUMNS} WHERE s.id = ?`),
      statements: p(`SELECT ${STATEMENT_COLUMNS} ORDER BY s.period_end DESC, s.id DESC`),
      insertStatement:
        p(`INSERT INTO finance_statements (account_id, file_name, file_sha256, format,
        extraction, period_start, period_end, opening_cents, closing_cents, printed_totals,
        debits_cents, credits_cents, reconcile_status, difference_cents, flags, transaction_count,
        duplicates_skipped, imported_at) VALUES (@account_id, @file_name, @file_sha256, @format,
        @extraction, @period_start, @period_end, @opening_cents, @closing_cents, @printed_totals,
        @debits_cents, @credits_cents, @reconcile_status, @difference_cents, @flags,
        @transaction_count, @duplicates_skipped, @imported_at)`),
      setCounts: p(
        "UPDATE finance_statements SET transaction_count = ?, duplicates_skipped = ? WHERE id = ?",
      ),
      byBankId: p("SELECT * FROM finance_transactions WHERE account_id = ? AND bank_id = ?"),
      candidates: p(`SELECT * FROM finance_transactions WHERE account_id = ? AND amount_cents = ?
        AND date BETWEEN ? AND ? AND statement_id != ? AND duplicate_of IS NULL ORDER BY date, id`),
      insertTransaction: p(`INSERT INTO finance_transactions (account_id, statement_id, position,
        date, amount_cents, description, payee, bank_id, balance_cents, duplicate_of, flags,
        created_at) VALUES (@account_id, @statement_id, @position, @date, @amount_cents,
        @description, @payee, @bank_id, @balance_cents, @duplicate_of, @flags, @created_at)`),
      transactionById: p("SELECT * FROM finance_transactions WHERE id = ?"),
      setCategory: p(`UPDATE finance_transactions SET category = ?, category_source = ?,
        confidence = ?, category_action_id = coalesce(?, category_action_id) WHERE id = ?`),
      setFlags: p("UPDATE finance_transactions SET flags = ? WHERE id = ?"),
      setDuplicateOf: p("UPDATE finance_transactions SET duplicate_of = ? WHERE id = ?"),
      categories: p(
        "SELECT DISTINCT category FROM finance_transactions WHERE category IS NOT NULL ORDER BY 1",
      ),
      months: p("SELECT DISTINCT substr(date, 1, 7) FROM finance_transactions ORDER BY 1"),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  accountByName(name: string): FinanceAccount | undefined {
    const row = this.stmts.accountByName!.get(name) as Row | undefined;
    return row ? fromRow(row, []) : undefined;
  }

  account(id: number): FinanceAccount | undefined {
    const row = this.stmts.accountById!.get(id) as Row | undefined;
    return row ? fromRow(row, []) : undefined;
  }

  accountByNumber(masked: string, kind: AccountKind): FinanceAccount | undefined {
    const row = this.stmts.accountByNumber!.get(masked, kind) as Row | undefined;
    return row ? fromRow(row, []) : undefined;
  }

  accounts(): FinanceAccount[] {
    return (this.stmts.accounts!.all() as Row[]).map((row) => fromRow(row, []));
  }

  insertAccount(account: Omit<FinanceAccount, "id">): FinanceAccount {
    const result = this.stmts.insertAccount!.run(toParams(account, []));
    return this.account(Number(result.lastInsertRowid))!;
  }

  statementBySha(sha: string): FinanceStatement | undefined {
    const row = this.stmts.statementBySha!.get(sha) as Row | undefined;
    return row ? fromRow(row, ["printed_totals", "flags"]) : undefined;
  }

  statement(id: number): FinanceStatement | undefined {
    const row = this.stmts.statementById!.get(id) as Row | undefined;
    return row ? fromRow(row, ["printed_totals", "flags"]) : undefined;
  }

  statements(): FinanceStatement[] {
    return (this.stmts.statements!.all() as Row[]).map((row) =>
      fromRow(row, ["printed_totals", "flags"]),
    );
  }

  insertStatement(statement: NewStatement): number {
    const params = toParams(statement, ["printed_totals", "flags"]);
    return Number(this.stmts.insertStatement!.run(params).lastInsertRowid);
  }

  setStatementCounts(id: number, imported: number, skipped: number): void {
    this.stmts.setCounts!.run(imported, skipped, id);
  }

  byBankId(accountId: number, bankId: string): FinanceTransaction | undefined {
    const row = this.stmts.byBankId!.get(accountId, bankId) as Row | undefined;
    return row ? fromRow(row, ["flags"]) : undefined;
  }

  /** Same account and amount, dated in [from, to], from another statement, not itself a copy. */
  duplicateCandidates(
    accountId: number,
    amountCents: number,
    from: string,
    to: string,
    statementId: number,
  ): FinanceTransaction[] {
    const rows = this.stmts.candidates!.all(accountId, amountCents, from, to, statementId) as Row[];
    return rows.map((row) => fromRow(row, ["flags"]));
  }

  insertTransaction(transaction: NewTransaction): number {
    const params = toParams(transaction, ["flags"]);
    return Number(this.stmts.insertTransaction!.run(params).lastInsertRowid);
  }

  transactionById(id: number): FinanceTransaction | undefined {
    const row = this.stmts.transactionById!.get(id) as Row | undefined;
    return row ? fromRow(row, ["flags"]) : undefined;
  }

  transactions(filter: TransactionFilter = {}): FinanceTransaction[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.from) where.push("date >= ?") && params.push(filter.from);
    if (filter.to) where.push("date <= ?") && params.push(filter.to);
    if (filter.statementId !== undefined) {
      where.push("statement_id = ?");
      params.push(filter.statementId);
    }
    if (filter.uncategorized) where.push("category IS NULL");
    if (filter.flag) {
      where.push("EXISTS (SELECT 1 FROM json_each(flags) WHERE value = ?)");
      params.push(filter.flag);
    }
    const sql = `SELECT * FROM finance_transactions ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY date, statement_id, position ${filter.limit ? `LIMIT ${Math.floor(filter.limit)}` : ""}`;
    return (this.db.prepare(sql).all(...params) as Row[]).map((row) => fromRow(row, ["flags"]));
  }

  setCategory(
    id: number,
    category: string,
    source: CategorySource,
    confidence: number | null,
    actionId: string | null,
  ): void {
    this.stmts.setCategory!.run(category, source, confidence, actionId, id);
  }

  setFlags(id: number, flags: string[]): void {
    this.stmts.setFlags!.run(JSON.stringify([...new Set(flags)].sort()), id);
  }

  setDuplicateOf(id: number, duplicateOf: number | null): void {
    this.stmts.setDuplicateOf!.run(duplicateOf, id);
  }

  /** Every category in use. */
  categories(): string[] {
    return this.stmts.categories!.pluck().all() as string[];
  }

  /** "YYYY-MM" of every month with at least one transaction, oldest first. */
  months(): string[] {
    return this.stmts.months!.pluck().all() as string[];
  }
}

export function transactionToJson(t: FinanceTransaction): Record<string, unknown> {
  return Object.fromEntries(Object.entries(t).map(([key, value]) => [snake(key), value]));
}

export function statementToJson(s: FinanceStatement): Record<string, unknown> {
  const json = Object.fromEntries(Object.entries(s).map(([key, value]) => [snake(key), value]));
  json.imported_at = new Date(s.importedAt).toISOString();
  return json;
}
