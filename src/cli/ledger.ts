import { existsSync, realpathSync } from "node:fs";
import type { Command } from "commander";
import { NightshiftError } from "../errors.js";
import { openDatabase } from "../ledger/db.js";
import type { CopyProgress } from "../ledger/postgres/copy-from-sqlite.js";
import { maskUrl } from "../ledger/postgres/url.js";
import type { CliContext } from "./context.js";
import { printJson } from "./output.js";

interface MigrateFlags {
  to: string;
  from?: string;
  batch: string;
  json?: boolean;
}

export function registerLedger(program: Command, context: CliContext): void {
  const ledger = program.command("ledger").description("the ledger's engine: SQLite or PostgreSQL");
  ledger
    .command("migrate")
    .description(
      "copy the SQLite ledger's actions into PostgreSQL, verified by counts and sha256; run it again to resume",
    )
    .requiredOption("--to <url>", "the PostgreSQL ledger: postgres://user:password@host/db")
    .option("--from <file>", "the SQLite ledger to copy (default: the data dir's)")
    .option("--batch <n>", "actions per statement", "5000")
    .option("--json", "print the result as JSON")
    .action(async (flags: MigrateFlags) => {
      const from = flags.from ?? context.loaded().dbPath;
      const result = await migrateLedger(from, flags.to, parseBatch(flags.batch));
      if (flags.json) return printJson(result);
      process.stdout.write(
        `copied ${result.copied} actions to ${result.target} in ${result.copy_seconds.toFixed(1)} s (${Math.round(result.copy_rate)}/s)` +
          `${result.resumed_from ? `, resuming after ${result.resumed_from}` : ""}\n` +
          `verified ${result.verified} of ${result.total} actions: sha256 ${result.sha256} on both sides` +
          `${result.repaired ? ` (${result.repaired} missing actions copied during verification)` : ""}\n`,
      );
    });
}

function parseBatch(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 50_000) {
    throw new NightshiftError(`--batch ${value}: expected a whole number from 1 to 50000`);
  }
  return n;
}

async function migrateLedger(from: string, to: string, batchSize: number) {
  // The pg client loads with this command only, not with every command's start-up.
  const { checkPostgresUrl, connectionError, openPool } = await import(
    "../ledger/postgres/pool.js"
  );
  const { migratePostgres } = await import("../ledger/postgres/migrate.js");
  const { copySqliteLedger } = await import("../ledger/postgres/copy-from-sqlite.js");
  checkPostgresUrl(to, "--to");
  if (!existsSync(from)) throw new NightshiftError(`no SQLite ledger at ${from} to copy (--from)`);
  const db = openDatabase(from, { readonly: true });
  const pool = openPool(to, { max: 2 });
  try {
    try {
      await migratePostgres(pool);
    } catch (error) {
      throw connectionError(to, error);
    }
    const progress = progressPrinter();
    const result = await copySqliteLedger({
      db,
      source: realpathSync(from),
      pool,
      batchSize,
      onProgress: progress,
    });
    progress.done();
    return {
      source: from,
      target: maskUrl(to),
      total: result.total,
      copied: result.copied,
      resumed_from: result.resumedFrom,
      copy_seconds: result.copySeconds,
      copy_rate: result.copyRate,
      verified: result.verified,
      sha256: result.digest,
      repaired: result.repaired,
    };
  } finally {
    db.close();
    await pool.end();
  }
}

/** Progress on stderr, at most twice a second: one updating line on a terminal, else lines. */
function progressPrinter(): ((p: CopyProgress) => void) & { done(): void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let shown = false;
  const print = (p: CopyProgress) => {
    const now = performance.now();
    if (now - last < (tty ? 500 : 2000) && p.done < p.total) return;
    last = now;
    shown = true;
    const pct = p.total ? ((100 * p.done) / p.total).toFixed(1) : "100.0";
    const line = `${p.phase}: ${p.done} of ${p.total} actions (${pct}%, ${Math.round(p.rate)}/s)`;
    process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
  };
  return Object.assign(print, {
    done: () => {
      if (tty && shown) process.stderr.write("\n");
    },
  });
}
