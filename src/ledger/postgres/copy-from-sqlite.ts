import type pg from "pg";
import { NightshiftError } from "../../errors.js";
import type { ActionRow } from "../actions.js";
import { BodyStore } from "../body-store.js";
import type { Db } from "../db.js";
import { COPY_BATCH, copyBatchValues, RowDigest } from "./copy-rows.js";
import { BodyInliner, type BodyProblem, chunkByBodyBytes } from "./inline-bodies.js";
import { withoutNul } from "./insert.js";

export interface CopyProgress {
  phase: "copy" | "verify";
  done: number;
  total: number;
  /** Rows per second in this phase so far. */
  rate: number;
}

export interface CopyOptions {
  /** The SQLite ledger to copy from (read only). */
  db: Db;
  /** Names this copy in ledger_copies, so a second run resumes it: the SQLite file's real path. */
  source: string;
  pool: pg.Pool;
  /** Where the SQLite ledger keeps large bodies as files; default: `source` + ".bodies". */
  bodiesDir?: string;
  batchSize?: number;
  onProgress?: (progress: CopyProgress) => void;
}

export interface CopyResult {
  total: number;
  /** Rows sent in this run (a resumed run sends only what the last one had not committed). */
  copied: number;
  /** Where this run started: the rows an earlier, interrupted run had committed. */
  resumedFrom: number;
  copySeconds: number;
  copyRate: number;
  verified: number;
  /** sha256 over every action, identical on both sides. */
  digest: string;
  /** Actions found missing by the verification (written after the checkpoint passed them) and copied then. */
  repaired: number;
  /**
   * Actions not copied because a body file they refer to is missing or corrupt, by id and path;
   * a run after restoring the files copies them. While any is left, the copy is not verified.
   */
  bodyProblems: BodyProblem[];
}

/**
 * Copies a SQLite ledger's actions (and their flag rows) into PostgreSQL in id order, one batch
 * per statement with its checkpoint, reading the next batch while the last is in flight; then
 * verifies that every source action is in PostgreSQL, field for field, by count and sha256.
 */
export async function copySqliteLedger(options: CopyOptions): Promise<CopyResult> {
  const batchSize = options.batchSize ?? 5000;
  const bodies = new BodyInliner(
    new BodyStore(options.bodiesDir ?? `${options.source}.bodies`, Number.POSITIVE_INFINITY),
  );
  const client = await options.pool.connect();
  try {
    const copy = await copyActions(client, options, batchSize, bodies);
    let verify = await verifyActions(client, options, batchSize, bodies);
    let repaired = 0;
    if (verify.missing.length > 0) {
      repaired = verify.missing.length;
      await sendMissing(client, options, verify.missing, batchSize);
      verify = await verifyActions(client, options, batchSize, bodies);
    }
    if (verify.missing.length > 0 || verify.differing.length > 0) {
      const ids = [...verify.missing.map((r) => r.id), ...verify.differing].slice(0, 5);
      throw new NightshiftError(
        `verification failed: ${verify.missing.length} actions missing and ${verify.differing.length} different in PostgreSQL (first: ${ids.join(", ")}); rows already there are never overwritten`,
        { status: 500, code: "ledger" },
      );
    }
    const bodyProblems = [...bodies.problems.values()];
    if (bodyProblems.length === 0) {
      await client.query(
        `UPDATE ledger_copies SET verified_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
         WHERE source = $1`,
        [options.source],
      );
    }
    return { ...copy, verified: verify.count, digest: verify.digest, repaired, bodyProblems };
  } finally {
    client.release();
  }
}

async function copyActions(
  client: pg.PoolClient,
  options: CopyOptions,
  batchSize: number,
  bodies: BodyInliner,
) {
  const { db, source } = options;
  const total = Number(db.prepare("SELECT count(*) FROM actions").pluck().get());
  const { rows: marks } = await client.query<{ last_id: string; copied: number }>(
    "SELECT last_id, copied FROM ledger_copies WHERE source = $1",
    [source],
  );
  const resumedFrom = Number(marks[0]?.copied ?? 0);
  let copied = resumedFrom;
  const select = db.prepare<[string, number], ActionRow>(
    "SELECT * FROM actions WHERE id > ? ORDER BY id LIMIT ?",
  );
  const t0 = performance.now();
  let rows = select.all(marks[0]?.last_id ?? "", batchSize);
  while (rows.length > 0) {
    const last = rows[rows.length - 1]!.id;
    let next: ActionRow[] = [];
    const chunks = chunkByBodyBytes(rows);
    for (const [i, chunk] of chunks.entries()) {
      const send = bodies.inline(chunk);
      copied += send.length;
      const at = chunk[chunk.length - 1]!.id;
      const sent = client.query(COPY_BATCH, [...copyBatchValues(send), source, at, copied, total]);
      // Read the next batch while PostgreSQL writes this one.
      if (i === chunks.length - 1) next = select.all(last, batchSize);
      await sent;
    }
    const seconds = (performance.now() - t0) / 1000;
    options.onProgress?.({
      phase: "copy",
      done: copied,
      total,
      rate: (copied - resumedFrom) / seconds,
    });
    rows = next;
  }
  const copySeconds = (performance.now() - t0) / 1000;
  const sent = copied - resumedFrom;
  return { total, copied: sent, resumedFrom, copySeconds, copyRate: sent / (copySeconds || 1e-9) };
}

async function verifyActions(
  client: pg.PoolClient,
  options: CopyOptions,
  batchSize: number,
  bodies: BodyInliner,
) {
  const select = options.db.prepare<[string, number], ActionRow>(
    "SELECT * FROM actions WHERE id > ? ORDER BY id LIMIT ?",
  );
  const total = Number(options.db.prepare("SELECT count(*) FROM actions").pluck().get());
  const sourceDigest = new RowDigest();
  const targetDigest = new RowDigest();
  const missing: ActionRow[] = [];
  const differing: string[] = [];
  const t0 = performance.now();
  for (let rows = select.all("", batchSize); rows.length > 0; ) {
    for (const chunk of chunkByBodyBytes(rows)) {
      // A row whose body file cannot be read is a body problem, reported as such, not compared.
      const inlined = bodies.inline(chunk);
      const ids = inlined.map((r) => withoutNul(r.id) as string);
      const { rows: found } = await client.query<ActionRow>(
        "SELECT * FROM actions WHERE id = ANY($1::text[])",
        [ids],
      );
      const byId = new Map(found.map((r) => [r.id, r]));
      for (const row of inlined) {
        const canonical = sourceDigest.add(row);
        const target = byId.get(withoutNul(row.id) as string);
        if (!target) missing.push(row);
        else if (targetDigest.add(target) !== canonical) differing.push(row.id);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const done = sourceDigest.count;
    options.onProgress?.({ phase: "verify", done, total, rate: done / seconds });
    rows = select.all(rows[rows.length - 1]!.id, batchSize);
  }
  const digest = sourceDigest.digest();
  const agreed = missing.length === 0 && differing.length === 0;
  if (agreed && targetDigest.digest() !== digest) throw new Error("digests differ on equal rows");
  return { count: sourceDigest.count, digest, missing, differing };
}

/** Copies rows the checkpoint had passed (written to SQLite later), keeping the checkpoint. */
async function sendMissing(
  client: pg.PoolClient,
  options: CopyOptions,
  rows: ActionRow[],
  batchSize: number,
): Promise<void> {
  const { rows: marks } = await client.query<{ last_id: string; copied: number; total: number }>(
    "SELECT last_id, copied, total FROM ledger_copies WHERE source = $1",
    [options.source],
  );
  const mark = marks[0]!;
  for (let i = 0; i < rows.length; i += batchSize) {
    const batch = rows.slice(i, i + batchSize);
    await client.query(COPY_BATCH, [
      ...copyBatchValues(batch),
      options.source,
      mark.last_id,
      mark.copied,
      mark.total,
    ]);
  }
}
