/**
 * The finance agent's ledger: accounts, imported statements and their transactions. Amounts are
 * integer cents (positive: money in; negative: money out), never floats, on every engine. Account
 * and card numbers are stored masked (…1234) only.
 */

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

export interface PrintedTotal {
  label: string;
  side: string;
  cents: number;
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
  printedTotals: PrintedTotal[];
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

export type NewAccount = Omit<FinanceAccount, "id">;
export type NewStatement = Omit<FinanceStatement, "id" | "accountName">;
export type NewTransaction = Omit<
  FinanceTransaction,
  "id" | "category" | "categorySource" | "confidence" | "categoryActionId"
>;

export interface TransactionFilter {
  /** Inclusive ISO date. */
  from?: string | undefined;
  /** Inclusive ISO date. */
  to?: string | undefined;
  statementId?: number | undefined;
  uncategorized?: boolean | undefined;
  flag?: string | undefined;
  limit?: number | undefined;
}

export interface CategoryChange {
  category: string;
  source: CategorySource;
  confidence: number | null;
  /** The action that decided it; null keeps the one recorded before. */
  actionId: string | null;
  /** The transaction's flags afterwards (deduplicated and sorted when stored); omitted: unchanged. */
  flags?: string[] | undefined;
}

/** What the finance agent reads. */
export interface FinanceReads {
  account(id: number): Promise<FinanceAccount | undefined>;
  accountByName(name: string): Promise<FinanceAccount | undefined>;
  /** The oldest account with this masked number and kind. */
  accountByNumber(masked: string, kind: AccountKind): Promise<FinanceAccount | undefined>;
  /** By name. */
  accounts(): Promise<FinanceAccount[]>;
  statement(id: number): Promise<FinanceStatement | undefined>;
  statementBySha(sha256: string): Promise<FinanceStatement | undefined>;
  /** Newest period first. */
  statements(): Promise<FinanceStatement[]>;
  transactionById(id: number): Promise<FinanceTransaction | undefined>;
  /** By date, then statement and position. */
  transactions(filter?: TransactionFilter): Promise<FinanceTransaction[]>;
  /** The transaction of this account with this bank id (OFX FITID), if any. */
  byBankId(accountId: number, bankId: string): Promise<FinanceTransaction | undefined>;
  /** Same account and amount, dated in [from, to], from another statement, not itself a copy. */
  duplicateCandidates(
    accountId: number,
    amountCents: number,
    from: string,
    to: string,
    statementId: number,
  ): Promise<FinanceTransaction[]>;
  /** The account's transactions holding any of these bank ids (one read for a whole file). */
  byBankIds(accountId: number, bankIds: readonly string[]): Promise<FinanceTransaction[]>;
  /** duplicateCandidates for several amounts in one read, by date then id. */
  duplicateCandidatesMany(
    accountId: number,
    amountsCents: readonly number[],
    from: string,
    to: string,
    statementId: number,
  ): Promise<FinanceTransaction[]>;
  /** Every category in use. */
  categories(): Promise<string[]>;
  /** "YYYY-MM" of every month with at least one transaction, oldest first. */
  months(): Promise<string[]>;
}

/** What the finance agent writes; inside `FinanceStore.transaction`, all of it lands or none. */
export interface FinanceWrites extends FinanceReads {
  /**
   * The account with this name, created as given if there is none. Two machines creating the
   * same name at once get the same account.
   */
  ensureAccount(account: NewAccount): Promise<FinanceAccount>;
  /**
   * Records a statement; null when a statement with the same file_sha256 is already in the ledger
   * (another import of the same file got there first), in which case nothing was written.
   */
  insertStatement(statement: NewStatement): Promise<number | null>;
  setStatementCounts(id: number, imported: number, skipped: number): Promise<void>;
  /**
   * Records a transaction; null when the account already holds one with the same bank id (the
   * same transaction, from an overlapping file), in which case nothing was written.
   */
  insertTransaction(transaction: NewTransaction): Promise<number | null>;
  /**
   * insertTransaction for many rows in one write, in the given order; each row's id, or null
   * where its bank id was already there. Rows are told apart by (statementId, position).
   */
  insertTransactions(transactions: readonly NewTransaction[]): Promise<(number | null)[]>;
  setCategory(id: number, change: CategoryChange): Promise<void>;
  /** Stored deduplicated and sorted. */
  setFlags(id: number, flags: string[]): Promise<void>;
  setDuplicateOf(id: number, duplicateOf: number | null): Promise<void>;
}

export interface FinanceStore extends FinanceWrites {
  /**
   * Runs `work` in one transaction: everything it writes through `tx` lands together, or nothing
   * does when it throws. Finance transactions take turns, on one machine and across machines
   * sharing one ledger, so a duplicate check inside one sees every import committed before it.
   * `work` must only await `tx` (no network, no files): the embedded engine holds its write lock
   * for the whole of it.
   */
  transaction<T>(work: (tx: FinanceWrites) => Promise<T>): Promise<T>;
}
