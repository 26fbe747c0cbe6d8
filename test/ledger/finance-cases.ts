import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  FinanceStore,
  NewStatement,
  NewTransaction,
} from "../../src/ledger/stores/finance.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";

const T0 = Date.parse("2026-03-02T08:00:00Z");

/** Two openings of one ledger: two daemons on two machines (or two processes on one file). */
export interface TwoMachines {
  first: LedgerStores;
  second: LedgerStores;
}

function statement(accountId: number, over: Partial<NewStatement> = {}): NewStatement {
  return {
    accountId,
    fileName: "march.csv",
    fileSha256: `sha-${Math.random().toString(36).slice(2)}`,
    format: "csv",
    extraction: "parser",
    periodStart: "2026-03-01",
    periodEnd: "2026-03-31",
    openingCents: 1_000_00,
    closingCents: 900_00,
    printedTotals: [{ label: "Total debits", side: "debit", cents: 100_00 }],
    debitsCents: 100_00,
    creditsCents: 0,
    reconcileStatus: "reconciled",
    differenceCents: null,
    flags: [],
    transactionCount: 0,
    duplicatesSkipped: 0,
    importedAt: T0,
    ...over,
  };
}

function txn(accountId: number, statementId: number, over: Partial<NewTransaction> = {}) {
  return {
    accountId,
    statementId,
    position: 0,
    date: "2026-03-05",
    amountCents: -12_85,
    description: "CHIPOTLE 1234",
    payee: "CHIPOTLE",
    bankId: null,
    balanceCents: null,
    duplicateOf: null,
    flags: [],
    createdAt: T0,
    ...over,
  } satisfies NewTransaction;
}

/**
 * The finance store's contract: every engine behind FinanceStore passes these same cases
 * (test/ledger/finance-contract.test.ts runs them on SQLite and on PostgreSQL).
 */
export function financeStoreContract(open: () => Promise<TwoMachines>, engine: string): void {
  let machines: TwoMachines;
  let store: FinanceStore;
  let n = 0;
  const account = () =>
    store.ensureAccount({
      name: `acct-${++n}`,
      numberMasked: "…1234",
      kind: "bank",
      currency: "USD",
      createdAt: T0,
    });
  beforeAll(async () => {
    machines = await open();
    store = machines.first.finance;
  });
  afterAll(async () => {
    await machines?.first.close();
    await machines?.second.close();
  });

  it("reads back a statement and its transactions as written, amounts exact to the cent", async () => {
    const a = await account();
    const big = 90_071_992_547_409; // cents: just under 2^53 / 100 dollars, still exact
    const sid = (await store.insertStatement(
      statement(a.id, { openingCents: big, closingCents: -big, flags: ["b", "a"] }),
    ))!;
    const tid = (await store.insertTransaction(
      txn(a.id, sid, { amountCents: -big, balanceCents: 1, bankId: "FIT-1", flags: ["x"] }),
    ))!;
    await store.setStatementCounts(sid, 1, 0);
    expect(await store.statement(sid)).toMatchObject({
      id: sid,
      accountName: a.name,
      openingCents: big,
      closingCents: -big,
      printedTotals: [{ label: "Total debits", side: "debit", cents: 100_00 }],
      flags: ["b", "a"],
      transactionCount: 1,
      periodEnd: "2026-03-31",
    });
    const t = await store.transactionById(tid);
    expect(t).toEqual({
      ...txn(a.id, sid, { amountCents: -big, balanceCents: 1, bankId: "FIT-1", flags: ["x"] }),
      id: tid,
      category: null,
      categorySource: null,
      confidence: null,
      categoryActionId: null,
    });
    expect(Number.isInteger(t!.amountCents)).toBe(true);
    expect(await store.byBankId(a.id, "FIT-1")).toEqual(t);
    expect(await store.statementBySha("no-such")).toBeUndefined();
  });

  it("gives the existing account for a name taken, whatever else is passed", async () => {
    const a = await account();
    const again = await store.ensureAccount({ ...a, currency: "EUR", numberMasked: null });
    expect(again).toEqual(a);
    expect(await store.accountByNumber("…1234", "bank")).toMatchObject({ numberMasked: "…1234" });
    expect((await store.accounts()).map((x) => x.name)).toContain(a.name);
  });

  it("turns away a second statement with the same file hash, writing nothing", async () => {
    const a = await account();
    const first = statement(a.id, { fileSha256: `same-${engine}` });
    expect(await store.insertStatement(first)).toBeTypeOf("number");
    expect(await store.insertStatement({ ...first, fileName: "copy.csv" })).toBeNull();
    expect((await store.statements()).filter((s) => s.fileSha256 === `same-${engine}`)).toEqual([
      expect.objectContaining({ fileName: "march.csv" }),
    ]);
  });

  it("turns away a transaction whose bank id the account already holds; no bank id never clashes", async () => {
    const a = await account();
    const sid = (await store.insertStatement(statement(a.id)))!;
    expect(await store.insertTransaction(txn(a.id, sid, { bankId: "F1" }))).toBeTypeOf("number");
    expect(await store.insertTransaction(txn(a.id, sid, { bankId: "F1", position: 1 }))).toBeNull();
    expect(await store.insertTransaction(txn(a.id, sid, { position: 2 }))).toBeTypeOf("number");
    expect(await store.insertTransaction(txn(a.id, sid, { position: 3 }))).toBeTypeOf("number");
    expect(await store.transactions({ statementId: sid })).toHaveLength(3);
  });

  it("filters and orders transactions by date, then statement and position", async () => {
    const a = await account();
    const sid = (await store.insertStatement(statement(a.id)))!;
    const rows = [
      { date: "2026-04-02", position: 0, flags: ["low_confidence"] },
      { date: "2026-04-01", position: 2, flags: [] },
      { date: "2026-04-01", position: 1, flags: ["duplicate_suspect", "low_confidence"] },
      { date: "2026-05-30", position: 3, flags: [] },
    ];
    const ids = [];
    for (const row of rows) ids.push((await store.insertTransaction(txn(a.id, sid, row)))!);
    const of = async (filter: Parameters<FinanceStore["transactions"]>[0]) =>
      (await store.transactions({ statementId: sid, ...filter })).map((t) => t.id);
    expect(await of({})).toEqual([ids[2], ids[1], ids[0], ids[3]]);
    expect(await of({ from: "2026-04-01", to: "2026-04-30" })).toEqual([ids[2], ids[1], ids[0]]);
    expect(await of({ flag: "low_confidence" })).toEqual([ids[2], ids[0]]);
    expect(await of({ flag: "low" })).toEqual([]);
    expect(await of({ limit: 2 })).toEqual([ids[2], ids[1]]);
    await store.setCategory(ids[1]!, {
      category: "food",
      source: "rule",
      confidence: 1,
      actionId: null,
    });
    expect(await of({ uncategorized: true })).toEqual([ids[2], ids[0], ids[3]]);
    expect(await store.months()).toEqual(expect.arrayContaining(["2026-04", "2026-05"]));
    expect(await store.categories()).toContain("food");
  });

  it("finds duplicate candidates: same account and amount, in the window, from another statement", async () => {
    const a = await account();
    const s1 = (await store.insertStatement(statement(a.id)))!;
    const s2 = (await store.insertStatement(statement(a.id)))!;
    const inWindow = (await store.insertTransaction(txn(a.id, s1, { date: "2026-03-04" })))!;
    await store.insertTransaction(txn(a.id, s1, { date: "2026-03-20" }));
    await store.insertTransaction(txn(a.id, s1, { amountCents: -1 }));
    const copy = (await store.insertTransaction(txn(a.id, s1, { duplicateOf: inWindow })))!;
    await store.insertTransaction(txn(a.id, s2, { date: "2026-03-05" }));
    const found = await store.duplicateCandidates(a.id, -12_85, "2026-03-01", "2026-03-09", s2);
    expect(found.map((t) => t.id)).toEqual([inWindow]);
    expect(copy).toBeTypeOf("number");
  });

  it("writes a statement's transactions in one call: ids in order, null for a known bank id", async () => {
    const a = await account();
    const s1 = (await store.insertStatement(statement(a.id)))!;
    const s2 = (await store.insertStatement(statement(a.id)))!;
    const known = (await store.insertTransaction(txn(a.id, s1, { bankId: "K1" })))!;
    const ids = await store.insertTransactions([
      txn(a.id, s2, { position: 0, bankId: "N1", flags: ["duplicate_suspect"] }),
      txn(a.id, s2, { position: 1, bankId: "K1" }),
      txn(a.id, s2, { position: 2, duplicateOf: known, payee: null }),
      txn(a.id, s2, { position: 3, bankId: "N1" }),
    ]);
    expect(ids[1]).toBeNull();
    expect(ids[3]).toBeNull();
    expect(ids[0]).toBeGreaterThan(known);
    expect(ids[2]).toBeGreaterThan(ids[0]!);
    const rows = await store.transactions({ statementId: s2 });
    expect(rows.map((t) => [t.id, t.position, t.bankId, t.duplicateOf, t.payee, t.flags])).toEqual([
      [ids[0], 0, "N1", null, "CHIPOTLE", ["duplicate_suspect"]],
      [ids[2], 2, null, known, null, []],
    ]);
    expect(await store.insertTransactions([])).toEqual([]);
    expect((await store.byBankIds(a.id, ["K1", "N1", "zz"])).map((t) => t.id).sort()).toEqual(
      [known, ids[0]].sort(),
    );
    expect(await store.byBankIds(a.id, [])).toEqual([]);
  });

  it("finds duplicate candidates of several amounts at once, by date then id", async () => {
    const a = await account();
    const s1 = (await store.insertStatement(statement(a.id)))!;
    const s2 = (await store.insertStatement(statement(a.id)))!;
    const late = (await store.insertTransaction(txn(a.id, s1, { date: "2026-03-08" })))!;
    const other = (await store.insertTransaction(
      txn(a.id, s1, { date: "2026-03-02", amountCents: -5_00 }),
    ))!;
    const early = (await store.insertTransaction(txn(a.id, s1, { date: "2026-03-02" })))!;
    await store.insertTransaction(txn(a.id, s1, { date: "2026-03-03", amountCents: -1 }));
    await store.insertTransaction(txn(a.id, s1, { date: "2026-04-20" }));
    await store.insertTransaction(txn(a.id, s2, { date: "2026-03-05" }));
    const found = await store.duplicateCandidatesMany(
      a.id,
      [-12_85, -5_00, -12_85],
      "2026-03-01",
      "2026-03-09",
      s2,
    );
    // other and early share a date; other was written first, so its id is lower.
    expect(found.map((t) => t.id)).toEqual([other, early, late]);
  });

  it("sets a category, keeping the deciding action when none is given, and flags sorted once", async () => {
    const a = await account();
    const sid = (await store.insertStatement(statement(a.id)))!;
    const id = (await store.insertTransaction(txn(a.id, sid, { flags: ["z"] })))!;
    await store.setCategory(id, {
      category: "restaurants",
      source: "model",
      confidence: 0.62,
      actionId: "act-1",
      flags: ["low_confidence", "z", "low_confidence"],
    });
    await store.setCategory(id, {
      category: "food",
      source: "person",
      confidence: 1,
      actionId: null,
    });
    expect(await store.transactionById(id)).toMatchObject({
      category: "food",
      categorySource: "person",
      confidence: 1,
      categoryActionId: "act-1",
      flags: ["low_confidence", "z"],
    });
    await store.setFlags(id, ["b", "a", "b"]);
    await store.setDuplicateOf(id, id);
    expect(await store.transactionById(id)).toMatchObject({ flags: ["a", "b"], duplicateOf: id });
  });

  it("lands all of a transaction or none of it", async () => {
    const a = await account();
    const sha = `rolled-back-${engine}`;
    await expect(
      store.transaction(async (tx) => {
        const sid = (await tx.insertStatement(statement(a.id, { fileSha256: sha })))!;
        await tx.insertTransaction(txn(a.id, sid));
        expect(await tx.statementBySha(sha)).toBeDefined();
        throw new Error("the parser found a problem late");
      }),
    ).rejects.toThrow("late");
    expect(await store.statementBySha(sha)).toBeUndefined();
    const kept = await store.transaction(async (tx) => {
      const sid = (await tx.insertStatement(statement(a.id, { fileSha256: `${sha}-2` })))!;
      await tx.insertTransaction(txn(a.id, sid));
      return sid;
    });
    expect(await store.transactions({ statementId: kept })).toHaveLength(1);
  });

  it("shows one machine's committed import to the other", async () => {
    const a = await account();
    const sid = await machines.second.finance.transaction(async (tx) =>
      tx.insertStatement(statement(a.id, { fileSha256: `seen-${engine}` })),
    );
    expect((await store.statementBySha(`seen-${engine}`))?.id).toBe(sid);
  });

  describe.skipIf(engine === "sqlite")("across machines (a transaction held open)", () => {
    it("makes a second machine's same-file statement wait, then turns it away", async () => {
      const a = await account();
      const sha = `race-${engine}`;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let inserted!: () => void;
      const firstInserted = new Promise<void>((resolve) => (inserted = resolve));
      const first = store.transaction(async (tx) => {
        const id = await tx.insertStatement(statement(a.id, { fileSha256: sha }));
        inserted();
        await held;
        return id;
      });
      await firstInserted;
      const second = machines.second.finance.insertStatement(statement(a.id, { fileSha256: sha }));
      release();
      expect(await first).toBeTypeOf("number");
      expect(await second).toBeNull();
    });

    it("runs finance transactions of two machines one after the other", async () => {
      const order: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const firstIn = new Promise<void>((resolve) => (entered = resolve));
      const first = store.transaction(async () => {
        entered();
        order.push("first in");
        await held;
        order.push("first out");
      });
      await firstIn;
      const second = machines.second.finance.transaction(async () => {
        order.push("second in");
      });
      // The second waits on the first's lock; let it try before the first lets go.
      await new Promise((resolve) => setImmediate(resolve));
      release();
      await Promise.all([first, second]);
      expect(order).toEqual(["first in", "first out", "second in"]);
    });
  });
}
