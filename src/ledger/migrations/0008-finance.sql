-- The finance agent's tables. Amounts are integer cents (positive: money in; negative: money out).
-- Account and card numbers are stored masked (…1234) only.
CREATE TABLE finance_accounts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  number_masked TEXT,
  kind TEXT NOT NULL DEFAULT 'bank' CHECK (kind IN ('bank', 'card')),
  currency TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE finance_statements (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES finance_accounts (id),
  file_name TEXT NOT NULL,
  file_sha256 TEXT NOT NULL UNIQUE,
  format TEXT NOT NULL CHECK (format IN ('pdf', 'csv', 'ofx')),
  -- parser: read by code; model: extracted by a model and accepted because it reconciled
  extraction TEXT NOT NULL DEFAULT 'parser' CHECK (extraction IN ('parser', 'model')),
  period_start TEXT,
  period_end TEXT,
  opening_cents INTEGER,
  closing_cents INTEGER,
  -- JSON [{label, side, cents}] as printed
  printed_totals TEXT NOT NULL DEFAULT '[]',
  debits_cents INTEGER NOT NULL,
  credits_cents INTEGER NOT NULL,
  -- reconciled: balances and totals agree; mismatch: they do not (difference_cents says by how
  -- much); unchecked: the file prints nothing to check against
  reconcile_status TEXT NOT NULL CHECK (reconcile_status IN ('reconciled', 'mismatch', 'unchecked')),
  difference_cents INTEGER,
  flags TEXT NOT NULL DEFAULT '[]',
  transaction_count INTEGER NOT NULL,
  duplicates_skipped INTEGER NOT NULL DEFAULT 0,
  imported_at INTEGER NOT NULL
) STRICT;

CREATE TABLE finance_transactions (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES finance_accounts (id),
  statement_id INTEGER NOT NULL REFERENCES finance_statements (id),
  -- order within its statement, as printed
  position INTEGER NOT NULL,
  date TEXT NOT NULL,
  amount_cents INTEGER NOT NULL,
  description TEXT NOT NULL,
  payee TEXT,
  -- the bank's own id (OFX FITID)
  bank_id TEXT,
  balance_cents INTEGER,
  category TEXT,
  category_source TEXT CHECK (category_source IN ('rule', 'model', 'audit', 'person')),
  confidence REAL,
  -- the runtime action that categorized it, so the audit's corrections find their way back
  category_action_id TEXT,
  duplicate_of INTEGER REFERENCES finance_transactions (id),
  flags TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX finance_transactions_bank_id ON finance_transactions (account_id, bank_id)
  WHERE bank_id IS NOT NULL;
CREATE INDEX finance_transactions_match ON finance_transactions (account_id, amount_cents, date);
CREATE INDEX finance_transactions_date ON finance_transactions (date);
CREATE INDEX finance_transactions_statement ON finance_transactions (statement_id, position);
CREATE INDEX finance_transactions_action ON finance_transactions (category_action_id)
  WHERE category_action_id IS NOT NULL;
