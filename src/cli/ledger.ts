import { existsSync, realpathSync } from "node:fs";
import type { Command } from "commander";
import { NightshiftError } from "../errors.js";
import { openDatabase } from "../ledger/db.js";
import type { CopyProgress } from "../ledger/postgres/copy-from-sqlite.js";
import { maskUrl } from "../ledger/postgres/url.js";
import { monitorHostName } from "../ledger/stores/monitor.js";
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
      "copy the SQLite ledger (actions and every other table) into PostgreSQL, verified; run it again to resume",
    )
    .requiredOption("--to <url>", "the PostgreSQL ledger: postgres://user:password@host/db")
    .option("--from <file>", "the SQLite ledger to copy (default: the data dir's)")
    .option("--batch <n>", "actions per statement", "5000")
    .option("--json", "print the result as JSON")
    .action(async (flags: MigrateFlags) => {
      const from = flags.from ?? context.loaded().dbPath;
      const host = monitorHostName(context.loaded().config.monitor.host);
      const result = await migrateLedger(from, flags.to, parseBatch(flags.batch), host);
      if (flags.json) printJson(result);
      else printMigration(result);
      if (result.body_problems.length > 0) throw bodyProblemsError(result.body_problems);
      const notCopied = result.tables.filter((t) => t.skipped && t.total > 0);
      if (notCopied.length > 0) {
        throw new NightshiftError(
          `${notCopied.length} table(s) not copied: ${notCopied.map((t) => `${t.table} (${t.skipped})`).join("; ")}`,
        );
      }
      const short = result.tables.filter((t) => !t.skipped && t.verified < t.total);
      if (short.length > 0) {
        throw new NightshiftError(
          `${short.length} table(s) not fully copied: ${short.map((t) => `${t.table} (${t.total - t.verified} of ${t.total} rows missing${t.why ? `: ${t.why}` : ""})`).join("; ")}`,
        );
      }
    });
}

function bodyProblemsError(problems: Migration["body_problems"]): NightshiftError {
  const shown = problems
    .slice(0, 5)
    .map((p) => `action ${p.action_id} ${p.column}: ${p.path} (${p.problem})`);
  const more = problems.length > 5 ? `; and ${problems.length - 5} more (--json lists all)` : "";
  return new NightshiftError(
    `${problems.length} action(s) not copied because their body file is missing or corrupt: ${shown.join("; ")}${more}. Restore the files and run the same command again to copy them.`,
  );
}

function parseBatch(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 50_000) {
    throw new NightshiftError(`--batch ${value}: expected a whole number from 1 to 50000`);
  }
  return n;
}

async function migrateLedger(from: string, to: string, batchSize: number, host: string) {
  // The pg client loads with this command only, not with every command's start-up.
  const { checkPostgresUrl, connectionError, openPool } = await import(
    "../ledger/postgres/pool.js"
  );
  const { migratePostgres } = await import("../ledger/postgres/migrate.js");
  const { copySqliteLedger } = await import("../ledger/postgres/copy-from-sqlite.js");
  const { copySqliteTables } = await import("../ledger/postgres/copy-tables.js");
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
      // Bodies kept as files beside the ledger go into PostgreSQL's rows (BodyStore's layout).
      bodiesDir: `${realpathSync(from)}.bodies`,
      pool,
      batchSize,
      onProgress: progress,
    });
    const tables = await copySqliteTables({
      db,
      source: realpathSync(from),
      pool,
      // The monitor keeps samples per machine on PostgreSQL: this ledger's are this machine's.
      fill: { host },
      onProgress: (p) =>
        progress({ phase: `copy ${p.table}`, done: p.done, total: p.total, rate: Number.NaN }),
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
      body_problems: result.bodyProblems.map((p) => ({
        action_id: p.actionId,
        column: p.column,
        path: p.path,
        problem: p.why,
      })),
      tables: tables.map((t) => ({
        table: t.table,
        total: t.total,
        copied: t.copied,
        resumed_from: t.resumedFrom,
        verified: t.verified,
        ...(t.keyDigest ? { key_sha256: t.keyDigest } : {}),
        ...(t.skipped ? { skipped: t.skipped } : {}),
        ...(t.unreadable ? { unreadable: t.unreadable, why: t.why } : {}),
      })),
    };
  } finally {
    db.close();
    await pool.end();
  }
}

/** Progress on stderr, at most twice a second: one updating line on a terminal, else lines. */
type Migration = Awaited<ReturnType<typeof migrateLedger>>;

function printMigration(result: Migration): void {
  const lines = [
    `copied ${result.copied} actions to ${result.target} in ${result.copy_seconds.toFixed(1)} s (${Math.round(result.copy_rate)}/s)` +
      `${result.resumed_from ? `, resuming after ${result.resumed_from}` : ""}`,
    `verified ${result.verified} of ${result.total} actions: sha256 ${result.sha256} on both sides` +
      `${result.repaired ? ` (${result.repaired} missing actions copied during verification)` : ""}`,
  ];
  for (const p of result.body_problems) {
    lines.push(`  action ${p.action_id} not copied: ${p.column} body ${p.path}: ${p.problem}`);
  }
  for (const t of result.tables) {
    if (t.skipped) {
      lines.push(
        `  ${t.table}: ${t.total} row${t.total === 1 ? "" : "s"}, not copied: ${t.skipped}`,
      );
    } else {
      const resumed = t.resumed_from ? `, resuming after ${t.resumed_from}` : "";
      lines.push(
        `  ${t.table}: ${t.copied} of ${t.total} copied${resumed}, ${t.verified} verified by key`,
      );
    }
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** A progress line: CopyProgress, or a table's copy (phase "copy TABLE", rate unknown: NaN). */
type ProgressLine = Omit<CopyProgress, "phase"> & { phase: string };

function progressPrinter(): ((p: ProgressLine) => void) & { done(): void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let shown = false;
  const print = (p: ProgressLine) => {
    const now = performance.now();
    if (now - last < (tty ? 500 : 2000) && p.done < p.total) return;
    last = now;
    shown = true;
    const pct = p.total ? ((100 * p.done) / p.total).toFixed(1) : "100.0";
    const rate = Number.isFinite(p.rate) ? `, ${Math.round(p.rate)}/s` : "";
    const what = p.phase.startsWith("copy ") ? "rows" : "actions";
    const line = `${p.phase}: ${p.done} of ${p.total} ${what} (${pct}%${rate})`;
    process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
  };
  return Object.assign(print, {
    done: () => {
      if (tty && shown) process.stderr.write("\n");
    },
  });
}
