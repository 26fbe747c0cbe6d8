import { systemClock } from "../clock.js";
import { NightshiftError, NotFoundError } from "../errors.js";
import { DEFAULT_CATEGORIES } from "../finance/categorize.js";
import { financeCorrectionHandler } from "../finance/corrections.js";
import { SqliteActionLedger } from "../ledger/sqlite/action-ledger.js";
import type { FinanceStore } from "../ledger/stores/finance.js";
import { spendingSummary, statementToJson, transactionToJson } from "../views/finance.js";
import { intParam, readJsonBody } from "./http.js";
import type { Deps, Request, Route } from "./route-types.js";
import { personOf } from "./routes-knowledge.js";

/** The finance agent's data: statements, transactions, spending; recategorize one transaction. */
export const financeRoutes: Route[] = [
  { method: "GET", pattern: ["finance", "statements"], handler: statements },
  { method: "GET", pattern: ["finance", "transactions"], handler: transactions },
  { method: "GET", pattern: ["finance", "spending"], handler: spending },
  {
    method: "POST",
    pattern: ["finance", "transactions", ":id", "category"],
    handler: recategorize,
  },
];

/** The selected engine's finance store; the SQLite ledger's when the caller passes no stores. */
function financeStore(deps: Deps): FinanceStore {
  return (deps.stores ?? new SqliteActionLedger(deps.ledger, false)).finance;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

function monthParam(r: Request): string | undefined {
  const month = r.query.get("month");
  if (month === null || month === "") return undefined;
  if (!MONTH.test(month))
    throw new NightshiftError(`month=${month}: expected YYYY-MM, like 2026-01`);
  return month;
}

async function statements(_r: Request, deps: Deps) {
  return { statements: (await financeStore(deps).statements()).map(statementToJson) };
}

/** Newest first; `q` matches the description or payee, case-insensitively. */
async function transactions(r: Request, deps: Deps) {
  const month = monthParam(r);
  const q = (r.query.get("q") ?? "").trim().toLowerCase();
  const rows = await financeStore(deps).transactions({
    from: month ? `${month}-01` : undefined,
    to: month ? `${month}-31` : undefined,
    uncategorized: r.query.get("uncategorized") === "1" || undefined,
    flag: r.query.get("flag") || undefined,
  });
  const matching = q
    ? rows.filter((t) => `${t.description} ${t.payee ?? ""}`.toLowerCase().includes(q))
    : rows;
  const limit = intParam(r.query, "limit", 200, 2000);
  return {
    transactions: matching.reverse().slice(0, limit).map(transactionToJson),
    total: matching.length,
    categories: DEFAULT_CATEGORIES,
  };
}

async function spending(r: Request, deps: Deps) {
  const store = financeStore(deps);
  const months = await store.months();
  const month = monthParam(r) ?? months.at(-1) ?? null;
  return { months, ...spendingSummary(await store.transactions(), month) };
}

/**
 * A person's category for one transaction, applied as the CLI's `finance categorize TXN
 * --category C` does: through the finance correction handler, which also teaches a rule.
 */
async function recategorize(r: Request, deps: Deps) {
  const body = await readJsonBody(r.req);
  const category = body.category;
  if (typeof category !== "string" || category.trim() === "") {
    throw new NightshiftError('send the new category: {"category": "Groceries"}');
  }
  const store = financeStore(deps);
  const id = Number(r.segments[0]);
  const t = Number.isInteger(id) ? await store.transactionById(id) : undefined;
  if (!t)
    throw new NotFoundError(
      `no transaction ${r.segments[0]}; GET /v0/finance/transactions lists them`,
    );
  const by = personOf(r, body);
  const note = await financeCorrectionHandler({ store, kb: deps.kb }).apply({
    correctionId: `person:${by}:${(deps.clock ?? systemClock).now()}`,
    actionId: t.categoryActionId ?? "",
    agent: "finance",
    original: { categories: [{ transaction_id: t.id, category: t.category }] },
    corrected: { categories: [{ transaction_id: t.id, category: category.trim() }] },
    source: "person",
  });
  return { transaction: transactionToJson((await store.transactionById(t.id))!), note };
}
