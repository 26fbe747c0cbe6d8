import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "./config.js";

/**
 * Where a running daemon listens, kept in the data dir as daemon.json, so `nightshift status`
 * finds a daemon started with `--port` or `--host` instead of guessing from the config. Written
 * once listening, removed on a clean stop; a record whose process is gone is reported as stale.
 */
export interface DaemonRecord {
  pid: number;
  url: string;
  host: string;
  port: number;
  version: string;
  started_at: string;
  /**
   * The model servers this daemon sends calls to: the config's, or those `serve --upstream` named.
   * Absent in a record an older version wrote. The file is owner-only, like nightshift.yaml, which
   * holds the same URLs.
   */
  upstreams?: Config["upstreams"];
}

export type DaemonLookup =
  | { state: "none" }
  | { state: "running"; record: DaemonRecord }
  | { state: "stale"; record: DaemonRecord };

export function daemonRecordPath(home: string): string {
  return join(home, "daemon.json");
}

export function writeDaemonRecord(home: string, record: DaemonRecord): void {
  const path = daemonRecordPath(home);
  // Written whole and renamed, so a reader never sees half a record.
  writeFileSync(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** Removes the record if it is still this process's (a second daemon may have replaced it). */
export function removeDaemonRecord(home: string, pid = process.pid): void {
  const found = readDaemonRecord(home);
  if (found.state !== "none" && found.record.pid === pid) {
    rmSync(daemonRecordPath(home), { force: true });
  }
}

export function readDaemonRecord(home: string): DaemonLookup {
  let record: DaemonRecord;
  try {
    record = JSON.parse(readFileSync(daemonRecordPath(home), "utf8")) as DaemonRecord;
  } catch {
    // Absent, or not ours to interpret: status then falls back to the configured address.
    return { state: "none" };
  }
  if (typeof record.pid !== "number" || typeof record.url !== "string") return { state: "none" };
  return { state: isAlive(record.pid) ? "running" : "stale", record };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
