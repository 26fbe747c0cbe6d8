-- `nightshift ledger migrate --to`: how far the copy of each of a SQLite ledger's other tables
-- (knowledge, review, audit, finance, monitor, scheduler, retention) got, so an interrupted copy
-- resumes after the last committed batch. The checkpoint commits in the batch's transaction.
CREATE TABLE ledger_table_copies (
  source text NOT NULL,
  table_name text NOT NULL,
  last_rowid bigint NOT NULL,
  copied bigint NOT NULL,
  total bigint NOT NULL,
  updated_at bigint NOT NULL,
  verified_at bigint,
  PRIMARY KEY (source, table_name)
);
