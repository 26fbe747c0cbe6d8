-- `nightshift ledger migrate --to postgres://…`: how far the copy of each SQLite ledger got, so an
-- interrupted copy resumes after the last committed batch (the checkpoint is written in the same
-- statement as the batch it follows).
CREATE TABLE ledger_copies (
  source text PRIMARY KEY,
  last_id text COLLATE "C" NOT NULL,
  copied bigint NOT NULL,
  total bigint NOT NULL,
  updated_at bigint NOT NULL,
  verified_at bigint
);
