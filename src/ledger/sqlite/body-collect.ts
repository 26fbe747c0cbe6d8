import {
  existsSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setImmediate } from "node:timers/promises";
import { BODY_REF_PREFIX, bodyRefSha256 } from "../body-store.js";
import type { Db } from "../db.js";
import type { BodyFilesReport } from "../stores/retention.js";

/**
 * Deletes the large-body files (body-store.ts) that no remaining action refers to, after a prune
 * dropped the bodies of compressed rows and deleted aggregated ones. Files are shared (named by
 * content), so a file goes only when no row at all names it.
 *
 * The gateway writes (or reuses) a file before the row naming it commits, so a file can be in use
 * by a row not yet visible to the scan. Such a file has a fresh modification time (a reused file
 * is touched, see BodyStore), so only files untouched for `graceMs` are taken. To take one, the
 * file is first renamed away (atomic): a writer that finds it gone from then on writes it anew,
 * and if its time turns out fresh after all (a writer touched it just before), it is put back.
 */
export const BODY_GRACE_MS = 60 * 60_000;
const ROWID_STEP = 20_000;
const TOMBSTONE = ".gc-";

export async function collectBodyFiles(
  db: Db,
  dir: string,
  graceMs = BODY_GRACE_MS,
): Promise<BodyFilesReport | null> {
  if (!existsSync(dir)) return null;
  const report: BodyFilesReport = { deleted: 0, bytes: 0, recent: 0 };
  const files = bodyFiles(dir);
  if (files.length === 0) return report;
  const referenced = await referencedBodies(db);
  const now = fileSystemNow(dir);
  for (const file of files) {
    if (file.stale) {
      restoreTombstone(file.path);
      continue;
    }
    if (referenced.has(file.sha256)) continue;
    takeFile(file.path, now, graceMs, report);
  }
  return report;
}

interface BodyFile {
  sha256: string;
  path: string;
  /** A file a killed collection renamed away and never finished with. */
  stale: boolean;
}

function bodyFiles(dir: string): BodyFile[] {
  const files: BodyFile[] = [];
  for (const shard of readdirSync(dir)) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue;
    for (const name of readdirSync(join(dir, shard))) {
      const match = /^([0-9a-f]{64})\.json(\.gc-\d+)?$/.exec(name);
      if (!match) continue;
      files.push({ sha256: match[1]!, path: join(dir, shard, name), stale: !!match[2] });
    }
  }
  return files;
}

/**
 * Every sha256 a row still names, in rowid ranges with a pause between them (the daemon's event
 * loop runs meanwhile). octet_length() reads a value's size without its content, so the bodies
 * themselves (kilobytes, on overflow pages) are never loaded: a reference is ~110 bytes.
 */
async function referencedBodies(db: Db): Promise<Set<string>> {
  const max = Number(db.prepare("SELECT coalesce(max(rowid), 0) FROM actions").pluck().get());
  const isRef = (column: string) =>
    `(octet_length(${column}) < 256 AND substr(${column}, 1, ${BODY_REF_PREFIX.length}) = @prefix)`;
  const select = db.prepare(
    `SELECT CASE WHEN ${isRef("request")} THEN request END AS request,
       CASE WHEN ${isRef("response")} THEN response END AS response
     FROM actions WHERE rowid > @from AND rowid <= @to AND (${isRef("request")} OR ${isRef("response")})`,
  );
  const shas = new Set<string>();
  for (let from = 0; from < max; from += ROWID_STEP) {
    const rows = select.all({ from, to: from + ROWID_STEP, prefix: BODY_REF_PREFIX }) as Array<{
      request: string | null;
      response: string | null;
    }>;
    for (const row of rows) {
      for (const text of [row.request, row.response]) {
        const sha256 = bodyRefSha256(text);
        if (sha256) shas.add(sha256);
      }
    }
    await setImmediate();
  }
  return shas;
}

/** The file system's own clock (file times are compared with file times, whatever the Clock). */
function fileSystemNow(dir: string): number {
  const marker = join(dir, `${TOMBSTONE}now-${process.pid}`);
  writeFileSync(marker, "");
  try {
    return statSync(marker).mtimeMs;
  } finally {
    rmSync(marker, { force: true });
  }
}

function takeFile(path: string, now: number, graceMs: number, report: BodyFilesReport): void {
  const tombstone = `${path}${TOMBSTONE}${process.pid}`;
  try {
    renameSync(path, tombstone);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const stats = statSync(tombstone);
  if (now - stats.mtimeMs < graceMs) {
    report.recent++;
    restoreTombstone(tombstone);
    return;
  }
  unlinkSync(tombstone);
  report.deleted++;
  report.bytes += stats.size;
}

/** Puts a renamed-away file back, unless a writer has written it anew meanwhile. */
function restoreTombstone(tombstone: string): void {
  const path = tombstone.slice(0, tombstone.lastIndexOf(TOMBSTONE));
  if (existsSync(path)) unlinkSync(tombstone);
  else renameSync(tombstone, path);
}
