import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiHandler } from "../../src/api/handler.js";
import { parseConfig } from "../../src/config.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { tempLedger } from "../support/temp-ledger.js";

const T0 = Date.parse("2026-01-20T12:00:00Z");

/** Two months of a card's spending, written through the store as an import writes them. */
async function seed(stores: LedgerStores): Promise<number[]> {
  const finance = stores.finance;
  const account = await finance.ensureAccount({
    name: "card …4242",
    numberMasked: "…4242",
    kind: "card",
    currency: "USD",
    createdAt: T0,
  });
  const statementId = (await finance.insertStatement({
    accountId: account.id,
    fileName: "card.csv",
    fileSha256: "abc",
    format: "csv",
    extraction: "parser",
    periodStart: "2025-12-01",
    periodEnd: "2026-01-31",
    openingCents: null,
    closingCents: null,
    printedTotals: [],
    debitsCents: 12_85 + 89_99 + 45_00,
    creditsCents: 0,
    reconcileStatus: "unchecked",
    differenceCents: null,
    flags: ["no_balances"],
    transactionCount: 3,
    duplicatesSkipped: 0,
    importedAt: T0,
  }))!;
  const rows = [
    ["2025-12-27", -12_85, "CHIPOTLE 1234"],
    ["2026-01-05", -89_99, "AMAZON MKTPLACE"],
    ["2026-01-09", -45_00, "SHELL OIL 57444"],
  ] as const;
  const ids: number[] = [];
  for (const [position, [date, amountCents, description]] of rows.entries()) {
    const id = await finance.insertTransaction({
      accountId: account.id,
      statementId,
      position,
      date,
      amountCents,
      description,
      payee: description.split(" ")[0]!,
      bankId: null,
      balanceCents: null,
      duplicateOf: null,
      flags: [],
      createdAt: T0,
    });
    ids.push(id!);
  }
  return ids;
}

const engines = [
  { engine: "sqlite", available: true },
  { engine: "postgres", available: postgresUrl !== null },
] as const;

describe.each(engines)("/v0/finance on $engine", ({ engine, available }) => {
  let server: Server;
  let base: string;
  let stores: LedgerStores;
  let kb: KnowledgeBase;
  let ids: number[];
  let cleanup: () => void;

  beforeAll(async () => {
    if (!available) return;
    const temp = tempLedger();
    cleanup = temp.cleanup;
    const config = parseConfig({});
    const url =
      engine === "postgres" ? await createTestDatabase("finance_api", { migrated: true }) : null;
    stores = url
      ? await PostgresActionLedger.open(url)
      : new SqliteActionLedger(temp.ledger, false);
    ids = await seed(stores);
    kb = new KnowledgeBase(stores.knowledge);
    // As daemon.ts wires it: on PostgreSQL the local SQLite file is there, but every route
    // reads and writes the selected engine's stores.
    const api = createApiHandler({
      ledger: temp.ledger,
      kb,
      config,
      stores,
      ...(url ? { actionReads: stores.actions } : {}),
      log: () => {},
    });
    server = createServer((req, res) => void api(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    if (!available) return;
    await new Promise((resolve) => server.close(resolve));
    if (engine === "postgres") await stores.close();
    cleanup();
  });

  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it.skipIf(!available)(
    "lists the statements and the month's transactions, newest first",
    async () => {
      const statements = await get("/v0/finance/statements");
      expect(statements.body.statements).toEqual([
        expect.objectContaining({
          file_name: "card.csv",
          transaction_count: 3,
          flags: ["no_balances"],
        }),
      ]);
      const january = await get("/v0/finance/transactions?month=2026-01");
      expect(january.body).toMatchObject({
        total: 2,
        transactions: [
          { description: "SHELL OIL 57444", amount_cents: -4500 },
          { description: "AMAZON MKTPLACE", amount_cents: -8999 },
        ],
      });
      const amazon = await get("/v0/finance/transactions?q=amazon");
      expect(amazon.body.total).toBe(1);
      expect((await get("/v0/finance/transactions?month=2026-13")).status).toBe(400);
    },
  );

  it.skipIf(!available)("sums spending by month and category in exact cents", async () => {
    const spending = await get("/v0/finance/spending?month=2026-01");
    expect(spending.body).toMatchObject({ months: ["2025-12", "2026-01"], month: "2026-01" });
    expect(JSON.stringify(spending.body)).toContain("13499");
  });

  it.skipIf(!available)(
    "recategorizes a transaction and teaches the payee's rule, both in the selected ledger",
    async () => {
      const response = await fetch(`${base}/v0/finance/transactions/${ids[0]}/category`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ category: "Restaurants", by: "sam" }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        transaction: { id: ids[0], category: "restaurants", category_source: "person" },
        note: expect.stringContaining(`re-categorized #${ids[0]} uncategorized → restaurants`),
      });
      expect(await stores.finance.transactionById(ids[0]!)).toMatchObject({
        category: "restaurants",
      });
      const rules = await kb.list({ scope: "finance" });
      expect(rules.map((entry) => entry.data)).toContainEqual(
        expect.objectContaining({ value: "CHIPOTLE", category: "restaurants" }),
      );
    },
  );
});
