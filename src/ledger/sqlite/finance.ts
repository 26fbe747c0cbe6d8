import type { Statement } from "better-sqlite3";
import type { Db } from "../db.js";
import type {
  AccountKind,
  CategoryChange,
  FinanceAccount,
  FinanceStatement,
  FinanceStore,
  FinanceTransaction,
  FinanceWrites,
  NewAccount,
  NewStatement,
  NewTransaction,
  TransactionFilter,
} from "../stores/finance.js";

/** The finance agent's tables (migrations/0008-finance.sql). Amounts are integer cents. */

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

const STATEMENT_JSON = ["printed_totals", "flags"];
const TRANSACTION_JSON = ["flags"];
const account = (row: Row | undefined) => (row ? fromRow<FinanceAccount>(row, []) : undefined);
const statement = (row: Row | undefined) =>
  row ? fromRow<FinanceStatement>(row, STATEMENT_JSON) : undefined;
const transaction = (row: Row | undefined) =>
  row ? fromRow<FinanceTransaction>(row, TRANSACTION_JSON) : undefined;

const STATEMENT_COLUMNS =
  "s.*, a.name AS account_name FROM finance_statements s JOIN finance_accounts a ON a.id = s.account_id";

function prepare(db: Db) {
  const p = (sql: string) => db.prepare(sql);
  return {
    accountByName: p("SELECT * FROM finance_accounts WHERE name = ?"),
    accountById: p("SELECT * FROM finance_accounts WHERE id = ?"),
    accountByNumber: p(
      "SELECT * FROM finance_accounts WHERE number_masked = ? AND kind = ? ORDER BY id LIMIT 1",
    ),
    accounts: p("SELECT * FROM finance_accounts ORDER BY name"),
    insertAccount: p(`INSERT INTO finance_accounts (name, number_masked, kind, currency, created_at)
      VALUES (@name, @number_masked, @kind, @currency, @created_at) ON CONFLICT (name) DO NOTHING`),
    statementBySha: p(`SELECT ${STATEMENT_COLUMNS} WHERE s.file_sha256 = ?`),
    statementById: p(`SELECT ${STATEMENT_COLUMNS} WHERE s.id = ?`),
    statements: p(`SELECT ${STATEMENT_COLUMNS} ORDER BY s.period_end DESC, s.id DESC`),
    insertStatement: p(`INSERT INTO finance_statements (account_id, file_name, file_sha256, format,
      extraction, period_start, period_end, opening_cents, closing_cents, printed_totals,
      debits_cents, credits_cents, reconcile_status, difference_cents, flags, transaction_count,
      duplicates_skipped, imported_at) VALUES (@account_id, @file_name, @file_sha256, @format,
      @extraction, @period_start, @period_end, @opening_cents, @closing_cents, @printed_totals,
      @debits_cents, @credits_cents, @reconcile_status, @difference_cents, @flags,
      @transaction_count, @duplicates_skipped, @imported_at)
      ON CONFLICT (file_sha256) DO NOTHING`),
    setCounts: p(
      "UPDATE finance_statements SET transaction_count = ?, duplicates_skipped = ? WHERE id = ?",
    ),
    byBankId: p("SELECT * FROM finance_transactions WHERE account_id = ? AND bank_id = ?"),
    candidates: p(`SELECT * FROM finance_transactions WHERE account_id = ? AND amount_cents = ?
      AND date BETWEEN ? AND ? AND statement_id != ? AND duplicate_of IS NULL ORDER BY date, id`),
    insertTransaction: p(`INSERT INTO finance_transactions (account_id, statement_id, position,
      date, amount_cents, description, payee, bank_id, balance_cents, duplicate_of, flags,
      created_at) VALUES (@account_id, @statement_id, @position, @date, @amount_cents,
      @description, @payee, @bank_id, @balance_cents, @duplicate_of, @flags, @created_at)
      ON CONFLICT (account_id, bank_id) WHERE bank_id IS NOT NULL DO NOTHING`),
    transactionById: p("SELECT * FROM finance_transactions WHERE id = ?"),
    setCategory: p(`UPDATE finance_transactions SET category = ?, category_source = ?,
      confidence = ?, category_action_id = coalesce(?, category_action_id),
      flags = coalesce(?, flags) WHERE id = ?`),
    setFlags: p("UPDATE finance_transactions SET flags = ? WHERE id = ?"),
    setDuplicateOf: p("UPDATE finance_transactions SET duplicate_of = ? WHERE id = ?"),
    categories: p(
      "SELECT DISTINCT category FROM finance_transactions WHERE category IS NOT NULL ORDER BY 1",
    ),
    months: p("SELECT DISTINCT substr(date, 1, 7) FROM finance_transactions ORDER BY 1"),
  } satisfies Record<string, Statement>;
}

const sortedFlags = (flags: string[]) => JSON.stringify([...new Set(flags)].sort());

/**
 * The finance store on the embedded engine: the same prepared statements as ever, behind the
 * async seam (each call resolves at once). `transaction` holds SQLite's write lock (BEGIN
 * IMMEDIATE), so another process importing waits for it (busy_timeout) and then sees this import.
 */
export class SqliteFinanceStore implements FinanceStore {
  private readonly stmts: ReturnType<typeof prepare>;
  /** Transactions of this process take turns: SQLite has one transaction per connection. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: Db) {
    this.stmts = prepare(db);
  }

  transaction<T>(work: (tx: FinanceWrites) => Promise<T>): Promise<T> {
    const run = this.turn.then(() => this.inTransaction(work));
    this.turn = run.catch(() => undefined);
    return run;
  }

  private async inTransaction<T>(work: (tx: FinanceWrites) => Promise<T>): Promise<T> {
    // Inside a caller's own transaction (a test, a larger unit of work) a savepoint nests.
    const nested = this.db.inTransaction;
    this.db.exec(nested ? "SAVEPOINT finance" : "BEGIN IMMEDIATE");
    try {
      const result = await work(this);
      this.db.exec(nested ? "RELEASE finance" : "COMMIT");
      return result;
    } catch (error) {
      if (this.db.inTransaction) {
        this.db.exec(nested ? "ROLLBACK TO finance; RELEASE finance" : "ROLLBACK");
      }
      throw error;
    }
  }

  async account(id: number) {
    return account(this.stmts.accountById.get(id) as Row | undefined);
  }

  async accountByName(name: string) {
    return account(this.stmts.accountByName.get(name) as Row | undefined);
  }

  async accountByNumber(masked: string, kind: AccountKind) {
    return account(this.stmts.accountByNumber.get(masked, kind) as Row | undefined);
  }

  async accounts() {
    return (this.stmts.accounts.all() as Row[]).map((row) => account(row)!);
  }

  async ensureAccount(value: NewAccount) {
    this.stmts.insertAccount.run(toParams(value, []));
    return account(this.stmts.accountByName.get(value.name) as Row)!;
  }

  async statement(id: number) {
    return statement(this.stmts.statementById.get(id) as Row | undefined);
  }

  async statementBySha(sha256: string) {
    return statement(this.stmts.statementBySha.get(sha256) as Row | undefined);
  }

  async statements() {
    return (this.stmts.statements.all() as Row[]).map((row) => statement(row)!);
  }

  async insertStatement(value: NewStatement) {
    const result = this.stmts.insertStatement.run(toParams(value, STATEMENT_JSON));
    return result.changes === 0 ? null : Number(result.lastInsertRowid);
  }

  async setStatementCounts(id: number, imported: number, skipped: number) {
    this.stmts.setCounts.run(imported, skipped, id);
  }

  async byBankId(accountId: number, bankId: string) {
    return transaction(this.stmts.byBankId.get(accountId, bankId) as Row | undefined);
  }

  async duplicateCandidates(
    accountId: number,
    amountCents: number,
    from: string,
    to: string,
    statementId: number,
  ) {
    const rows = this.stmts.candidates.all(accountId, amountCents, from, to, statementId) as Row[];
    return rows.map((row) => transaction(row)!);
  }

  async byBankIds(accountId: number, bankIds: readonly string[]) {
    const found: FinanceTransaction[] = [];
    for (const id of new Set(bankIds)) {
      const row = await this.byBankId(accountId, id);
      if (row) found.push(row);
    }
    return found;
  }

  async duplicateCandidatesMany(
    accountId: number,
    amountsCents: readonly number[],
    from: string,
    to: string,
    statementId: number,
  ) {
    // An embedded file: a prepared lookup per amount costs microseconds, no round trip.
    const rows: FinanceTransaction[] = [];
    for (const amount of new Set(amountsCents)) {
      rows.push(...(await this.duplicateCandidates(accountId, amount, from, to, statementId)));
    }
    return rows.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.id - b.id));
  }

  async insertTransactions(values: readonly NewTransaction[]) {
    const ids: (number | null)[] = [];
    for (const value of values) ids.push(await this.insertTransaction(value));
    return ids;
  }

  async insertTransaction(value: NewTransaction) {
    const result = this.stmts.insertTransaction.run(toParams(value, TRANSACTION_JSON));
    return result.changes === 0 ? null : Number(result.lastInsertRowid);
  }

  async transactionById(id: number) {
    return transaction(this.stmts.transactionById.get(id) as Row | undefined);
  }

  async transactions(filter: TransactionFilter = {}) {
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
    return (this.db.prepare(sql).all(...params) as Row[]).map((row) => transaction(row)!);
  }

  async setCategory(id: number, change: CategoryChange) {
    const flags = change.flags ? sortedFlags(change.flags) : null;
    this.stmts.setCategory.run(
      change.category,
      change.source,
      change.confidence,
      change.actionId,
      flags,
      id,
    );
  }

  async setFlags(id: number, flags: string[]) {
    this.stmts.setFlags.run(sortedFlags(flags), id);
  }

  async setDuplicateOf(id: number, duplicateOf: number | null) {
    this.stmts.setDuplicateOf.run(duplicateOf, id);
  }

  async categories() {
    return this.stmts.categories.pluck().all() as string[];
  }

  async months() {
    return this.stmts.months.pluck().all() as string[];
  }
}
