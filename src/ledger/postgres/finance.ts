import type pg from "pg";
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
import { inTransaction } from "./transaction.js";

/**
 * Finance transactions on every machine take turns under this transaction-scoped advisory lock,
 * so an import's duplicate check sees every import committed before it (READ COMMITTED alone
 * would let two overlapping files both miss each other). Released at COMMIT or ROLLBACK, also
 * when the holder's connection dies.
 */
const FINANCE_LOCK = 0x6e_73_66_69; // "nsfi"

type Row = Record<string, unknown>;
type Queryable = Pick<pg.Pool, "query"> | Pick<pg.PoolClient, "query">;

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const fromRow = <T>(row: Row): T =>
  Object.fromEntries(Object.entries(row).map(([key, value]) => [camel(key), value])) as T;

const STATEMENT_SELECT =
  "SELECT s.*, a.name AS account_name FROM finance_statements s JOIN finance_accounts a ON a.id = s.account_id";
const sortedFlags = (flags: string[]) => JSON.stringify([...new Set(flags)].sort());

/** Many transactions in one statement, in the given order (ids follow it), one array a column. */
const INSERT_TRANSACTIONS = `INSERT INTO finance_transactions (account_id, statement_id, position,
    date, amount_cents, description, payee, bank_id, balance_cents, duplicate_of, flags, created_at)
  SELECT a, s, p, d, amount, descr, payee, bank, balance, dup, f::jsonb, c
  FROM unnest($1::int8[], $2::int8[], $3::int4[], $4::text[], $5::int8[], $6::text[], $7::text[],
    $8::text[], $9::int8[], $10::int8[], $11::text[], $12::int8[])
    WITH ORDINALITY AS t(a, s, p, d, amount, descr, payee, bank, balance, dup, f, c, n)
  ORDER BY n
  ON CONFLICT (account_id, bank_id) WHERE bank_id IS NOT NULL DO NOTHING
  RETURNING id, statement_id, position`;

function transactionArrays(values: readonly NewTransaction[]): unknown[][] {
  return [
    values.map((t) => t.accountId),
    values.map((t) => t.statementId),
    values.map((t) => t.position),
    values.map((t) => t.date),
    values.map((t) => t.amountCents),
    values.map((t) => t.description),
    values.map((t) => t.payee),
    values.map((t) => t.bankId),
    values.map((t) => t.balanceCents),
    values.map((t) => t.duplicateOf),
    values.map((t) => JSON.stringify(t.flags)),
    values.map((t) => t.createdAt),
  ];
}

/** Reads and writes over the pool, or over one connection inside a transaction. */
class PostgresFinanceQueries implements FinanceWrites {
  constructor(protected readonly db: Queryable) {}

  private async rows<T>(text: string, values: unknown[] = []): Promise<T[]> {
    const result = await (this.db as pg.Pool).query<Row>(text, values);
    return result.rows.map((row) => fromRow<T>(row));
  }

  private async first<T>(text: string, values: unknown[] = []): Promise<T | undefined> {
    return (await this.rows<T>(text, values))[0];
  }

  account(id: number) {
    return this.first<FinanceAccount>("SELECT * FROM finance_accounts WHERE id = $1", [id]);
  }

  accountByName(name: string) {
    return this.first<FinanceAccount>("SELECT * FROM finance_accounts WHERE name = $1", [name]);
  }

  accountByNumber(masked: string, kind: AccountKind) {
    return this.first<FinanceAccount>(
      "SELECT * FROM finance_accounts WHERE number_masked = $1 AND kind = $2 ORDER BY id LIMIT 1",
      [masked, kind],
    );
  }

  accounts() {
    // COLLATE "C": the same order as SQLite's byte-wise text comparison.
    return this.rows<FinanceAccount>('SELECT * FROM finance_accounts ORDER BY name COLLATE "C"');
  }

  async ensureAccount(value: NewAccount) {
    await this.db.query(
      `INSERT INTO finance_accounts (name, number_masked, kind, currency, created_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING`,
      [value.name, value.numberMasked, value.kind, value.currency, value.createdAt],
    );
    return (await this.accountByName(value.name))!;
  }

  statement(id: number) {
    return this.first<FinanceStatement>(`${STATEMENT_SELECT} WHERE s.id = $1`, [id]);
  }

  statementBySha(sha256: string) {
    return this.first<FinanceStatement>(`${STATEMENT_SELECT} WHERE s.file_sha256 = $1`, [sha256]);
  }

  statements() {
    return this.rows<FinanceStatement>(
      `${STATEMENT_SELECT} ORDER BY s.period_end DESC NULLS LAST, s.id DESC`,
    );
  }

  async insertStatement(s: NewStatement) {
    const inserted = await this.first<{ id: number }>(
      `INSERT INTO finance_statements (account_id, file_name, file_sha256, format, extraction,
        period_start, period_end, opening_cents, closing_cents, printed_totals, debits_cents,
        credits_cents, reconcile_status, difference_cents, flags, transaction_count,
        duplicates_skipped, imported_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15::jsonb,
        $16, $17, $18)
       ON CONFLICT (file_sha256) DO NOTHING RETURNING id`,
      [
        s.accountId,
        s.fileName,
        s.fileSha256,
        s.format,
        s.extraction,
        s.periodStart,
        s.periodEnd,
        s.openingCents,
        s.closingCents,
        JSON.stringify(s.printedTotals),
        s.debitsCents,
        s.creditsCents,
        s.reconcileStatus,
        s.differenceCents,
        JSON.stringify(s.flags),
        s.transactionCount,
        s.duplicatesSkipped,
        s.importedAt,
      ],
    );
    return inserted?.id ?? null;
  }

  async setStatementCounts(id: number, imported: number, skipped: number) {
    await this.db.query(
      "UPDATE finance_statements SET transaction_count = $1, duplicates_skipped = $2 WHERE id = $3",
      [imported, skipped, id],
    );
  }

  byBankId(accountId: number, bankId: string) {
    return this.first<FinanceTransaction>(
      "SELECT * FROM finance_transactions WHERE account_id = $1 AND bank_id = $2",
      [accountId, bankId],
    );
  }

  duplicateCandidates(
    accountId: number,
    amountCents: number,
    from: string,
    to: string,
    statementId: number,
  ) {
    return this.rows<FinanceTransaction>(
      `SELECT * FROM finance_transactions WHERE account_id = $1 AND amount_cents = $2
        AND date BETWEEN $3 AND $4 AND statement_id <> $5 AND duplicate_of IS NULL
        ORDER BY date, id`,
      [accountId, amountCents, from, to, statementId],
    );
  }

  async insertTransaction(t: NewTransaction) {
    const inserted = await this.first<{ id: number }>(
      `INSERT INTO finance_transactions (account_id, statement_id, position, date, amount_cents,
        description, payee, bank_id, balance_cents, duplicate_of, flags, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12)
       ON CONFLICT (account_id, bank_id) WHERE bank_id IS NOT NULL DO NOTHING RETURNING id`,
      [
        t.accountId,
        t.statementId,
        t.position,
        t.date,
        t.amountCents,
        t.description,
        t.payee,
        t.bankId,
        t.balanceCents,
        t.duplicateOf,
        JSON.stringify(t.flags),
        t.createdAt,
      ],
    );
    return inserted?.id ?? null;
  }

  byBankIds(accountId: number, bankIds: readonly string[]) {
    return this.rows<FinanceTransaction>(
      "SELECT * FROM finance_transactions WHERE account_id = $1 AND bank_id = ANY($2::text[])",
      [accountId, [...bankIds]],
    );
  }

  duplicateCandidatesMany(
    accountId: number,
    amountsCents: readonly number[],
    from: string,
    to: string,
    statementId: number,
  ) {
    return this.rows<FinanceTransaction>(
      `SELECT * FROM finance_transactions WHERE account_id = $1 AND amount_cents = ANY($2::int8[])
        AND date BETWEEN $3 AND $4 AND statement_id <> $5 AND duplicate_of IS NULL
        ORDER BY date COLLATE "C", id`,
      [accountId, [...new Set(amountsCents)], from, to, statementId],
    );
  }

  async insertTransactions(values: readonly NewTransaction[]) {
    if (values.length === 0) return [];
    const { rows } = await this.db.query<{ id: number; statement_id: number; position: number }>(
      INSERT_TRANSACTIONS,
      transactionArrays(values),
    );
    const ids = new Map(rows.map((r) => [`${r.statement_id}:${r.position}`, Number(r.id)]));
    return values.map((v) => ids.get(`${v.statementId}:${v.position}`) ?? null);
  }

  transactionById(id: number) {
    return this.first<FinanceTransaction>("SELECT * FROM finance_transactions WHERE id = $1", [id]);
  }

  transactions(filter: TransactionFilter = {}) {
    const where: string[] = [];
    const values: unknown[] = [];
    const param = (value: unknown) => `$${values.push(value)}`;
    if (filter.from) where.push(`date >= ${param(filter.from)}`);
    if (filter.to) where.push(`date <= ${param(filter.to)}`);
    if (filter.statementId !== undefined) where.push(`statement_id = ${param(filter.statementId)}`);
    if (filter.uncategorized) where.push("category IS NULL");
    if (filter.flag) where.push(`flags ? ${param(filter.flag)}`);
    const limit = filter.limit ? ` LIMIT ${param(Math.floor(filter.limit))}` : "";
    return this.rows<FinanceTransaction>(
      `SELECT * FROM finance_transactions ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY date, statement_id, position${limit}`,
      values,
    );
  }

  async setCategory(id: number, change: CategoryChange) {
    await this.db.query(
      `UPDATE finance_transactions SET category = $1, category_source = $2, confidence = $3,
        category_action_id = coalesce($4, category_action_id),
        flags = coalesce($5::jsonb, flags) WHERE id = $6`,
      [
        change.category,
        change.source,
        change.confidence,
        change.actionId,
        change.flags ? sortedFlags(change.flags) : null,
        id,
      ],
    );
  }

  async setFlags(id: number, flags: string[]) {
    await this.db.query("UPDATE finance_transactions SET flags = $1::jsonb WHERE id = $2", [
      sortedFlags(flags),
      id,
    ]);
  }

  async setDuplicateOf(id: number, duplicateOf: number | null) {
    await this.db.query("UPDATE finance_transactions SET duplicate_of = $1 WHERE id = $2", [
      duplicateOf,
      id,
    ]);
  }

  async categories() {
    const rows = await this.rows<{ category: string }>(
      'SELECT DISTINCT category COLLATE "C" AS category FROM finance_transactions WHERE category IS NOT NULL ORDER BY 1',
    );
    return rows.map((r) => r.category);
  }

  async months() {
    const rows = await this.rows<{ month: string }>(
      "SELECT DISTINCT substr(date, 1, 7) AS month FROM finance_transactions ORDER BY 1",
    );
    return rows.map((r) => r.month);
  }
}

/** The finance store on a PostgreSQL ledger that several daemons may share. */
export class PostgresFinanceStore extends PostgresFinanceQueries implements FinanceStore {
  constructor(private readonly pool: pg.Pool) {
    super(pool);
  }

  transaction<T>(work: (tx: FinanceWrites) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [FINANCE_LOCK]);
      return work(new PostgresFinanceQueries(client));
    });
  }
}
