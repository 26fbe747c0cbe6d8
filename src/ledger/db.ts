import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
} from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { NightshiftError } from "../errors.js";

export type Db = Database.Database;

// Both src/ledger (tsx) and dist/ledger (built) sit two levels below the package root, and the
// SQL files ship in src/ledger/migrations either way.
const MIGRATIONS_DIR = fileURLToPath(new URL("../../src/ledger/migrations/", import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface OpenOptions {
  readonly?: boolean;
  migrationsDir?: string;
}

/**
 * Opens (creating if needed, owner-only) the ledger database and applies pending migrations.
 * WAL lets readers (the CLI, the API) run beside the gateway's writer; synchronous=NORMAL keeps
 * every committed transaction through a process kill, which is the durability the ledger
 * promises, at a fraction of FULL's fsync cost.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  if (!options.readonly) createOwnerOnly(path);
  let db: Db;
  try {
    db = new Database(path, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
    });
  } catch (error) {
    throw new NightshiftError(`cannot open the ledger at ${path}: ${(error as Error).message}`, {
      status: 500,
      code: "ledger",
      cause: error,
    });
  }
  db.pragma("busy_timeout = 5000");
  if (!options.readonly) {
    // Only possible before the file is first written (even switching to WAL writes it): with it,
    // pruning gives freed pages back in small steps instead of needing one full, write-blocking
    // VACUUM (see src/retention/space.ts).
    if (db.pragma("page_count", { simple: true }) === 0) db.pragma("auto_vacuum = INCREMENTAL");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    // Ingest speed: a larger page cache keeps the indexes' hot pages in memory, and checkpointing
    // every ~40 MB of WAL instead of every 4 MB turns many small copy-backs into few large ones
    // (measured: about 1.5x the actions/s). journal_size_limit trims the WAL after a checkpoint.
    db.pragma("cache_size = -65536");
    db.pragma("wal_autocheckpoint = 10000");
    db.pragma("journal_size_limit = 67108864");
    db.pragma("foreign_keys = ON");
    migrate(db, loadMigrations(options.migrationsDir ?? MIGRATIONS_DIR));
  }
  return db;
}

function createOwnerOnly(path: string): void {
  if (path === ":memory:" || existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // SQLite gives the -wal and -shm files the database file's mode, so this covers all three.
  closeSync(openSync(path, "a", 0o600));
}

export function loadMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}-[a-z0-9-]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(`${dir}/${file}`, "utf8"),
    }));
}

/** Applies each migration not yet recorded, in order, each in its own transaction. */
export function migrate(db: Db, migrations: Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const applied = new Set(
    db
      .prepare("SELECT version FROM schema_migrations")
      .pluck()
      .all()
      .map((v) => Number(v)),
  );
  const record = db.prepare(
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
  );
  const done: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
    })();
    done.push(migration.version);
  }
  return done;
}

/** Bytes on disk: the database plus its write-ahead log. */
export function databaseSize(path: string): number {
  let total = 0;
  for (const file of [path, `${path}-wal`]) {
    if (existsSync(file)) total += statSync(file).size;
  }
  return total;
}
