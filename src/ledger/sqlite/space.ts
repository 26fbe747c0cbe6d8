import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Db } from "../db.js";
import type { VacuumMode, VacuumReport } from "../stores/retention.js";

/**
 * Giving freed pages back to the file system.
 *
 * A ledger created by `openDatabase` has auto_vacuum=INCREMENTAL. One created before that (or
 * by another tool) has NONE: deleted rows leave free pages that SQLite reuses for new writes, so
 * the file stops growing but never shrinks. SQLite lets an existing database switch to
 * auto_vacuum=INCREMENTAL only through a full VACUUM, which rewrites
 * the file and holds the write lock throughout (the gateway's batched writer keeps its queue and
 * retries meanwhile; nothing is lost, but writes wait). So:
 *
 * - incremental database: `PRAGMA incremental_vacuum` in small steps, each a short transaction,
 *   with pauses between them — no long lock, ever;
 * - otherwise, when at least a quarter of the file is free (typically the first big prune) and
 *   the disk has room for a copy: one full VACUUM that also switches the file to incremental,
 *   so every later run takes the first path;
 * - otherwise the free pages stay for reuse;
 *
 * and in every case a wal_checkpoint(TRUNCATE), so the write-ahead log the prune filled is
 * folded in and cut back to zero bytes.
 */
/** Free pages (fraction of the file) from which `auto` mode runs a full VACUUM. */
export const FULL_VACUUM_FREE_FRACTION = 0.25;
const INCREMENTAL_FIRST_STEP_PAGES = 256;
const INCREMENTAL_MAX_STEP_PAGES = 8192;
const INCREMENTAL_STEP_MS = 10;
/** As for the moves (see Pacer): the gateway's writer finds any gap, so a short one will do. */
const VACUUM_PAUSE_RATIO = 0.25;

/**
 * Frees what the chosen mode frees; the caller then folds the log in with `truncateWal` (after
 * stopping anything that checkpoints meanwhile, which would keep a truncating checkpoint busy).
 */
export async function reclaimSpace(
  db: Db,
  dbPath: string,
  mode: VacuumMode,
  onProgress?: (fraction: number) => void,
): Promise<Omit<VacuumReport, "wal_busy" | "tables">> {
  const stats = pageStats(db);
  const freeFraction = stats.pageCount ? stats.freelistCount / stats.pageCount : 0;
  const report = (kind: VacuumReport["mode"], reason: string) => ({
    mode: kind,
    reason,
    free_fraction: Number(freeFraction.toFixed(4)),
  });
  if (mode === "never") return report("none", "vacuum turned off (--no-vacuum)");
  if (stats.freelistCount === 0) return report("none", "no free pages");
  if (stats.autoVacuum === 2 && mode === "auto") {
    await incrementalSteps(db, onProgress);
    return report("incremental", "auto_vacuum is incremental: freed pages returned in steps");
  }
  if (mode === "auto" && freeFraction < FULL_VACUUM_FREE_FRACTION) {
    return report(
      "none",
      `${percent(freeFraction)} of the file is free (under ${percent(FULL_VACUUM_FREE_FRACTION)}); SQLite reuses it for new rows`,
    );
  }
  const needed = stats.pageSize * (stats.pageCount - stats.freelistCount);
  const available = freeDiskBytes(dbPath);
  if (available < needed * 1.1) {
    return report(
      "none",
      `a full VACUUM needs about ${needed} bytes free next to the ledger and ${available} are`,
    );
  }
  vacuumToIncremental(db);
  return report("full", "rewrote the file and switched it to incremental auto_vacuum");
}

/**
 * Returns free pages in steps sized to hold the write lock about 10 ms each (a page can cost a
 * few microseconds or, when its parent must be found and rewritten, much more), leaving the lock
 * free a quarter as long after each: the gateway's writer then waits one step at most.
 */
async function incrementalSteps(db: Db, onProgress?: (fraction: number) => void): Promise<void> {
  let pages = INCREMENTAL_FIRST_STEP_PAGES;
  const free = pageStats(db).freelistCount;
  for (let left = free; left > 0; left = pageStats(db).freelistCount) {
    onProgress?.(1 - left / free);
    const started = performance.now();
    incrementalVacuum(db, pages);
    const held = performance.now() - started;
    const ideal = (pages * INCREMENTAL_STEP_MS) / Math.max(0.1, held);
    pages = Math.round(Math.min(INCREMENTAL_MAX_STEP_PAGES, Math.max(16, ideal, pages / 2)));
    await sleep(Math.max(2, held * VACUUM_PAUSE_RATIO));
  }
}

/**
 * Folds the write-ahead log into the database and cuts it to zero bytes. A reader in the middle
 * of a transaction (the gateway, the API) makes that fail with busy; retries a few seconds long
 * almost always find a moment without one, and otherwise a later prune truncates it.
 */
export async function truncateWal(db: Db): Promise<boolean> {
  // After a VACUUM the log holds the whole new file: copy it over first without blocking the
  // gateway's writer, so the truncating checkpoint only has a few new frames left to wait for.
  checkpoint(db, "PASSIVE");
  for (let attempt = 0; attempt < 25; attempt++) {
    if (checkpoint(db, "TRUNCATE").busy === 0) return true;
    // A writer waiting on its busy handler holds an old snapshot, which is what made this fail;
    // its handler polls every 100 ms by now, so leave it long enough to get its write in.
    await sleep(200);
  }
  return false;
}

function freeDiskBytes(path: string): number {
  const stats = statfsSync(dirname(path));
  return stats.bavail * stats.bsize;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

interface PageStats {
  pageSize: number;
  pageCount: number;
  freelistCount: number;
  /** 0 none, 1 full, 2 incremental. */
  autoVacuum: number;
}

function pageStats(db: Db): PageStats {
  return {
    pageSize: Number(db.pragma("page_size", { simple: true })),
    pageCount: Number(db.pragma("page_count", { simple: true })),
    freelistCount: Number(db.pragma("freelist_count", { simple: true })),
    autoVacuum: Number(db.pragma("auto_vacuum", { simple: true })),
  };
}

/** Frees up to `pages` free pages back to the file system; one short write transaction. */
function incrementalVacuum(db: Db, pages: number): void {
  db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(pages))})`);
}

/**
 * Rewrites the whole file with auto_vacuum=INCREMENTAL, which SQLite only lets an existing
 * database switch to through a VACUUM. Holds the write lock for its whole duration.
 */
function vacuumToIncremental(db: Db): void {
  db.pragma("auto_vacuum = INCREMENTAL");
  db.exec("VACUUM");
}

/**
 * Copies the write-ahead log into the database: PASSIVE copies what it can without waiting for
 * anyone; TRUNCATE waits for the writer and readers, then also cuts the log to zero bytes.
 */
function checkpoint(db: Db, mode: "PASSIVE" | "TRUNCATE"): { busy: number } {
  const rows = db.pragma(`wal_checkpoint(${mode})`) as Array<{ busy: number }>;
  return rows[0] ?? { busy: 0 };
}
