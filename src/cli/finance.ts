import type { Command } from "commander";
import { describeError, NightshiftError, NotFoundError } from "../errors.js";
import { type FinanceAgent, openFinanceAgent } from "../finance/agent.js";
import { askQuestion } from "../finance/ask.js";
import { categorizeTransactions } from "../finance/categorize.js";
import { financeCorrectionHandler } from "../finance/corrections.js";
import { formatMoney } from "../finance/import/amounts.js";
import { modelExtractor } from "../finance/import/extract.js";
import { layoutProposer } from "../finance/import/propose-layout.js";
import { type ImportResult, importStatementFile } from "../finance/importer.js";
import { maskNumber } from "../finance/mask.js";
import { previewStatementFile } from "../finance/preview.js";
import { uncheckedReason } from "../finance/reconcile.js";
import { computeSpend, describeSpend } from "../finance/spend.js";
import {
  type FinanceStatement,
  type FinanceTransaction,
  statementToJson,
  transactionToJson,
} from "../ledger/finance-store.js";
import type { CliContext } from "./context.js";
import { describePreview } from "./finance-preview.js";
import { importProgressPrinter } from "./import-progress.js";
import { personName } from "./kb.js";
import { wholeNumber } from "./options.js";
import { count, formatLocalTime, formatTable, printJson, reportError } from "./output.js";

/** What an import needs: the parser's layouts and, when they fail, the models' help. */
function importDeps(agent: FinanceAgent) {
  return {
    store: agent.store,
    config: agent.config.finance,
    review: agent.review,
    kb: agent.kb,
    extract: (bytes: Uint8Array, name: string) =>
      modelExtractor(agent.runtime(), agent.config.finance)(bytes, name),
    proposeLayout: (text: string, name: string) =>
      layoutProposer(agent.runtime(), agent.config.finance)(text, name),
  };
}

async function withAgent<T>(
  context: CliContext,
  fn: (agent: FinanceAgent) => Promise<T>,
): Promise<T> {
  const agent = await openFinanceAgent(context.ledger(), context.loaded().config);
  try {
    return await fn(agent);
  } finally {
    await agent.close();
  }
}

export function registerFinance(program: Command, context: CliContext): void {
  const finance = program
    .command("finance")
    .description("The finance agent: import statements, categorize spending, ask questions");

  finance
    .command("import")
    .description(
      "Import bank or card statements (PDF, CSV, OFX/QFX); each file is checked and imported whole or not at all",
    )
    .argument("<files...>", "statement files")
    .option(
      "--account <name>",
      "the account the files belong to (needed when a file prints no account number)",
    )
    .option(
      "--show-numbers",
      "show account numbers in full in this output (they are stored masked)",
    )
    .option("--dry-run", "show what would be imported (layout, first rows, checks); change nothing")
    .option("--json", "print JSON")
    .action(
      async (
        files: string[],
        flags: { account?: string; showNumbers?: boolean; json?: boolean; dryRun?: boolean },
      ) => {
        await withAgent(context, async (agent) => {
          const deps = importDeps(agent);
          const results: unknown[] = [];
          let failed = false;
          for (const file of files) {
            try {
              if (flags.dryRun) {
                const preview = await previewStatementFile(file, deps, { account: flags.account });
                results.push(snakeKeys(preview));
                if (!flags.json) process.stdout.write(`${describePreview(preview)}\n`);
                continue;
              }
              const progress = importProgressPrinter();
              const result = await importStatementFile(file, deps, {
                account: flags.account,
                onProgress: progress,
              }).finally(progress.done);
              for (const part of [result, ...(result.more ?? [])]) {
                results.push(importToJson(part, flags.showNumbers ?? false));
                if (!flags.json)
                  process.stdout.write(
                    `${describeImport(part, flags.showNumbers ?? false, accountCurrency(agent, part.account))}\n`,
                  );
              }
            } catch (error) {
              if (!(error instanceof NightshiftError)) throw error;
              failed = true;
              results.push({ file, status: "failed", error: describeError(error) });
              if (!flags.json) reportError(error);
            }
          }
          if (flags.json) printJson(results);
          if (failed) process.exitCode = 1;
        });
      },
    );

  finance
    .command("statements")
    .description("List imported statements with their reconciliation status")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }) => {
      await withAgent(context, async (agent) => {
        const statements = agent.store.statements();
        if (flags.json) return printJson(statements.map(statementToJson));
        if (statements.length === 0)
          return void process.stdout.write(
            "no statements imported yet; `nightshift finance import FILE`\n",
          );
        process.stdout.write(`${formatTable(statements, statementColumns(currencies(agent)))}\n`);
      });
    });

  finance
    .command("transactions")
    .description("List transactions (ids for `finance categorize`)")
    .option("--month <YYYY-MM>", "only this month")
    .option("--uncategorized", "only those without a category")
    .option("--flag <flag>", "only those with this flag (duplicate_suspect, low_confidence, ...)")
    .option("--limit <n>", "at most this many", wholeNumber("--limit"))
    .option("--json", "print JSON")
    .action(
      async (flags: {
        month?: string;
        uncategorized?: boolean;
        flag?: string;
        limit?: number;
        json?: boolean;
      }) => {
        if (flags.month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(flags.month)) {
          throw new NightshiftError(`--month "${flags.month}": expected YYYY-MM, like 2026-01`);
        }
        await withAgent(context, async (agent) => {
          const rows = agent.store.transactions({
            from: flags.month ? `${flags.month}-01` : undefined,
            to: flags.month ? `${flags.month}-31` : undefined,
            uncategorized: flags.uncategorized,
            flag: flags.flag,
            limit: flags.limit,
          });
          if (flags.json) return printJson(rows.map(transactionToJson));
          process.stdout.write(`${formatTable(rows, transactionColumns(currencies(agent)))}\n`);
        });
      },
    );

  finance
    .command("spend")
    .description("Spending figures computed from your data, with no model")
    .option("--category <category>", "only this category")
    .option("--merchant <merchant>", "only this merchant (matched in payee or description)")
    .option("--month <YYYY-MM>", "the month (default: the latest month with data)")
    .option("--json", "print JSON")
    .action(
      async (flags: { category?: string; merchant?: string; month?: string; json?: boolean }) => {
        await withAgent(context, async (agent) => {
          const facts = computeSpend(agent.store, flags, agent.config.finance.currency);
          if (flags.json) return printJson(snakeKeys(facts));
          process.stdout.write(`${describeSpend(facts)}\n`);
          if (facts.topMerchants.length > 1) {
            process.stdout.write(
              `\n${formatTable(facts.topMerchants, [
                { header: "MERCHANT", value: (m) => m.merchant, max: 40 },
                { header: "VISITS", value: (m) => String(m.visits), align: "right" },
                {
                  header: "SPENT",
                  value: (m) => formatMoney(m.totalCents, facts.currency),
                  align: "right",
                },
              ])}\n`,
            );
          }
        });
      },
    );

  finance
    .command("categorize")
    .description(
      "Categorize uncategorized transactions (rules, then models); or set one yourself with TXN --category",
    )
    .argument("[txn]", "a transaction id (from `finance transactions`)")
    .option("--category <category>", "the category for TXN; also becomes a rule for its payee")
    .option("--by <name>", "who decided (default: your login name)")
    .option("--json", "print JSON")
    .action(
      async (
        txn: string | undefined,
        flags: { category?: string; by?: string; json?: boolean },
      ) => {
        await withAgent(context, async (agent) => {
          if (txn !== undefined || flags.category !== undefined)
            return recategorize(agent, txn, flags);
          const report = await categorizeTransactions({
            store: agent.store,
            kb: agent.kb,
            config: agent.config.finance,
            runtime: agent.runtime(),
          });
          if (flags.json) printJson(snakeKeys(report));
          else {
            process.stdout.write(
              `categorized ${report.byRule} by rule and ${report.byModel} by model (${report.lowConfidence} low confidence, flagged for the audit); ${report.left} left\n`,
            );
          }
          // What the models could not do is a failure, even when the rules did some of the work.
          if (report.modelError) {
            throw new NightshiftError(
              `${report.left} ${report.left === 1 ? "transaction stays" : "transactions stay"} uncategorized: ${report.modelError}`,
              { status: 502 },
            );
          }
        });
      },
    );

  finance
    .command("ask")
    .description('Ask about your spending: "How much did I spend on restaurants last month?"')
    .argument("<question>", "the question, quoted")
    .option("--json", "print JSON")
    .action(async (question: string, flags: { json?: boolean }) => {
      await withAgent(context, async (agent) => {
        const result = await askQuestion(question, {
          store: agent.store,
          config: agent.config.finance,
          clock: agent.clock,
          runtime: agent.runtime(),
        });
        if (flags.json) return printJson(snakeKeys(result));
        process.stdout.write(`${result.answer}\n`);
        if (result.mismatches.length) {
          process.stdout.write(
            `(the model's answer was not shown: ${result.mismatches.join("; ")}; flagged for the audit)\n`,
          );
        }
      });
    });
}

async function recategorize(
  agent: FinanceAgent,
  txn: string | undefined,
  flags: { category?: string; by?: string; json?: boolean },
) {
  if (txn === undefined || flags.category === undefined) {
    throw new NightshiftError(
      "set a category with both: `nightshift finance categorize TXN --category CATEGORY`",
    );
  }
  const id = Number(txn.replace(/^#/, ""));
  const t = Number.isInteger(id) ? agent.store.transactionById(id) : undefined;
  if (!t)
    throw new NotFoundError(
      `no transaction ${txn}; \`nightshift finance transactions\` lists them`,
    );
  const by = personName(flags.by);
  const note = await financeCorrectionHandler(agent).apply({
    correctionId: `person:${by}:${agent.clock.now()}`,
    actionId: t.categoryActionId ?? "",
    agent: "finance",
    original: { categories: [{ transaction_id: t.id, category: t.category }] },
    corrected: { categories: [{ transaction_id: t.id, category: flags.category }] },
    source: "person",
  });
  await agent.kb.settled();
  const updated = agent.store.transactionById(t.id)!;
  if (flags.json) return printJson({ transaction: transactionToJson(updated), note });
  const rule = updated.payee
    ? `; payee "${updated.payee}" will be ${updated.category} from now on`
    : "";
  process.stdout.write(`${note ?? "applied"}${rule}\n`);
}

function describeImport(result: ImportResult, showNumbers: boolean, currency: string): string {
  if (result.status === "already_imported") {
    return `${result.file}: already imported (statement ${result.statementId}, ${result.account}); nothing changed`;
  }
  const number = showNumbers && result.accountNumber ? ` (${result.accountNumber})` : "";
  const period = result.periodStart ? ` for ${result.periodStart} to ${result.periodEnd}` : "";
  const parts = [
    `${result.file}: imported ${count(result.imported, "transaction")} into "${result.account}"${number}${period}`,
  ];
  if (result.duplicatesSkipped)
    parts.push(`${result.duplicatesSkipped} already in the ledger (same bank id), skipped`);
  if (result.duplicateSuspects)
    parts.push(
      `${result.duplicateSuspects} possible duplicate(s) flagged for review (\`nightshift review\`)`,
    );
  const r = result.reconciliation;
  if (r.status === "reconciled") parts.push("reconciled: balances and totals agree");
  else if (r.status === "unchecked")
    parts.push(
      `unchecked: ${uncheckedReason(r.flags ?? []) ?? "nothing printed to check against"}`,
    );
  else
    parts.push(
      `DOES NOT RECONCILE (difference ${formatMoney(r.differenceCents ?? 0, currency)}): ${r.problems.join("; ")}`,
    );
  return [...parts, ...result.warnings.map((w) => `warning: ${w}`)].join("\n  ");
}

function importToJson(
  result: ImportResult | { file: string; status: "failed"; error: string },
  showNumbers: boolean,
) {
  if (result.status === "failed") return result;
  const { reconciliation, accountNumber, ...rest } = result;
  return {
    file: rest.file,
    status: rest.status,
    statement_id: rest.statementId,
    account: rest.account,
    account_number:
      accountNumber === null ? null : showNumbers ? accountNumber : maskNumber(accountNumber),
    format: rest.format,
    extraction: rest.extraction,
    period_start: rest.periodStart,
    period_end: rest.periodEnd,
    imported: rest.imported,
    duplicates_skipped: rest.duplicatesSkipped,
    duplicate_suspects: rest.duplicateSuspects,
    reconcile_status: reconciliation.status,
    unchecked_reason: uncheckedReason(reconciliation.flags ?? []),
    difference_cents: reconciliation.differenceCents,
    debits_cents: reconciliation.debitsCents,
    credits_cents: reconciliation.creditsCents,
    problems: reconciliation.problems,
    flags: reconciliation.flags ?? [],
    layout: rest.layout ?? null,
    warnings: rest.warnings,
  };
}

function accountCurrency(agent: FinanceAgent, name: string): string {
  const account = agent.store.accounts().find((a) => a.name === name);
  return account?.currency ?? agent.config.finance.currency;
}

/** Each account's currency, so every figure is shown in its own (a euro account is not dollars). */
function currencies(agent: FinanceAgent): (accountId: number) => string {
  const byId = new Map(agent.store.accounts().map((a) => [a.id, a.currency]));
  return (accountId) => byId.get(accountId) ?? agent.config.finance.currency;
}

const statementColumns = (currencyOf: (accountId: number) => string) => [
  { header: "ID", value: (s: FinanceStatement) => String(s.id), align: "right" as const },
  { header: "ACCOUNT", value: (s: FinanceStatement) => s.accountName, max: 24 },
  { header: "FILE", value: (s: FinanceStatement) => s.fileName, max: 32 },
  {
    header: "PERIOD",
    value: (s: FinanceStatement) => (s.periodStart ? `${s.periodStart}..${s.periodEnd}` : "-"),
  },
  {
    header: "TXNS",
    value: (s: FinanceStatement) => String(s.transactionCount),
    align: "right" as const,
  },
  {
    header: "CHECK",
    value: (s: FinanceStatement) =>
      s.reconcileStatus === "unchecked"
        ? `unchecked: ${uncheckedReason(s.flags) ?? "nothing to check against"}`
        : s.reconcileStatus === "mismatch"
          ? "FLAGGED"
          : "reconciled",
    max: 60,
  },
  {
    header: "DIFFERENCE",
    value: (s: FinanceStatement) =>
      s.differenceCents ? formatMoney(s.differenceCents, currencyOf(s.accountId)) : "-",
    align: "right" as const,
  },
  {
    header: "IMPORTED",
    value: (s: FinanceStatement) => formatLocalTime(s.importedAt),
  },
  { header: "FLAGS", value: (s: FinanceStatement) => s.flags.join(",") },
];

const transactionColumns = (currencyOf: (accountId: number) => string) => [
  { header: "ID", value: (t: FinanceTransaction) => String(t.id), align: "right" as const },
  { header: "DATE", value: (t: FinanceTransaction) => t.date },
  {
    header: "AMOUNT",
    value: (t: FinanceTransaction) => formatMoney(t.amountCents, currencyOf(t.accountId)),
    align: "right" as const,
  },
  { header: "DESCRIPTION", value: (t: FinanceTransaction) => t.description, max: 40 },
  { header: "CATEGORY", value: (t: FinanceTransaction) => t.category ?? "-" },
  { header: "BY", value: (t: FinanceTransaction) => t.categorySource ?? "-" },
  { header: "FLAGS", value: (t: FinanceTransaction) => t.flags.join(",") },
];

/** --json speaks the ledger's snake_case, whatever the library's camelCase. */
function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      snakeKeys(v),
    ]),
  );
}
