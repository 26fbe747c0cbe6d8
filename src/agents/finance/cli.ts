import type { Command } from "commander";
import { describeError, NightshiftError, NotFoundError } from "../../errors.js";
import { type FinanceAgent, openFinanceAgent } from "../../finance/agent.js";
import { askQuestion } from "../../finance/ask.js";
import { categorizeTransactions } from "../../finance/categorize.js";
import { financeCorrectionHandler } from "../../finance/corrections.js";
import { formatMoney } from "../../finance/import/amounts.js";
import { modelExtractor } from "../../finance/import/extract.js";
import { layoutProposer } from "../../finance/import/propose-layout.js";
import { importStatementFile } from "../../finance/importer.js";
import { previewStatementFile } from "../../finance/preview.js";
import { computeSpend, describeSpend } from "../../finance/spend.js";
import { statementToJson, transactionToJson } from "../../views/finance.js";
import { describePreview } from "../../views/finance-preview.js";
import { importProgressPrinter } from "../../views/import-progress.js";
import { formatTable } from "../../views/table.js";
import { printJson, reportError } from "../../views/terminal.js";
import type { AgentCliContext } from "../agent.js";
import { personName, wholeNumber } from "../command-options.js";
import {
  accountCurrency,
  currencies,
  describeImport,
  importToJson,
  snakeKeys,
  statementColumns,
  transactionColumns,
} from "./cli-output.js";
import { financeParts } from "./parts.js";

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
  context: AgentCliContext,
  fn: (agent: FinanceAgent) => Promise<T>,
): Promise<T> {
  const agent = await openFinanceAgent(await financeParts(context));
  try {
    return await fn(agent);
  } finally {
    await agent.close();
  }
}

export function registerFinance(program: Command, context: AgentCliContext): void {
  const finance = program
    .command("finance")
    .description("the finance agent: import statements, categorize spending, ask questions");

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
                    `${describeImport(part, flags.showNumbers ?? false, await accountCurrency(agent, part.account))}\n`,
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
        const statements = await agent.store.statements();
        if (flags.json) return printJson(statements.map(statementToJson));
        if (statements.length === 0)
          return void process.stdout.write(
            "no statements imported yet; `nightshift finance import FILE`\n",
          );
        process.stdout.write(
          `${formatTable(statements, statementColumns(await currencies(agent)))}\n`,
        );
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
          const rows = await agent.store.transactions({
            from: flags.month ? `${flags.month}-01` : undefined,
            to: flags.month ? `${flags.month}-31` : undefined,
            uncategorized: flags.uncategorized,
            flag: flags.flag,
            limit: flags.limit,
          });
          if (flags.json) return printJson(rows.map(transactionToJson));
          process.stdout.write(
            `${formatTable(rows, transactionColumns(await currencies(agent)))}\n`,
          );
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
          const facts = await computeSpend(agent.store, flags, agent.config.finance.currency);
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
            kb: agent.requireKb("nightshift finance categorize"),
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
  const t = Number.isInteger(id) ? await agent.store.transactionById(id) : undefined;
  if (!t)
    throw new NotFoundError(
      `no transaction ${txn}; \`nightshift finance transactions\` lists them`,
    );
  const by = personName(flags.by);
  const kb = agent.requireKb("nightshift finance categorize TXN --category");
  const note = await financeCorrectionHandler({ store: agent.store, kb }).apply({
    correctionId: `person:${by}:${agent.clock.now()}`,
    actionId: t.categoryActionId ?? "",
    agent: "finance",
    original: { categories: [{ transaction_id: t.id, category: t.category }] },
    corrected: { categories: [{ transaction_id: t.id, category: flags.category }] },
    source: "person",
  });
  const updated = (await agent.store.transactionById(t.id))!;
  if (flags.json) return printJson({ transaction: transactionToJson(updated), note });
  const rule = updated.payee
    ? `; payee "${updated.payee}" will be ${updated.category} from now on`
    : "";
  process.stdout.write(`${note ?? "applied"}${rule}\n`);
}
