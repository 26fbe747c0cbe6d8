import { beforeAll, beforeEach, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import type { KnowledgeStore } from "../../src/ledger/stores/index.js";

const person = (ref = "ann") => ({ kind: "person" as const, ref });
const run = (ref: string) => ({ kind: "audit_run" as const, ref });

/** One engine's knowledge store, opened on a ledger the contract may empty between cases. */
export interface KnowledgeHarness {
  store: KnowledgeStore;
  /** Empties the knowledge tables. */
  reset(): Promise<void>;
  /** A second, independent connection to the same ledger: another daemon, another machine. */
  other(): Promise<{ store: KnowledgeStore; close(): Promise<void> }>;
}

/**
 * The knowledge base's contract: every engine behind KnowledgeStore passes these same cases
 * (test/ledger/knowledge-contract.test.ts runs them on SQLite and on PostgreSQL), through the
 * KnowledgeBase the agents, the audit, the CLI and the API use. Full-text search answers the
 * same queries with the same entries in the same order on both engines.
 */
export function knowledgeContract(open: () => Promise<KnowledgeHarness>): void {
  let harness: KnowledgeHarness;
  let clock: ManualClock;
  let kb: KnowledgeBase;

  beforeAll(async () => {
    harness = await open();
  });
  beforeEach(async () => {
    await harness.reset();
    clock = new ManualClock();
    kb = new KnowledgeBase(harness.store, { clock });
  });

  it("keeps every change as a numbered version with its provenance", async () => {
    const rule = { match: "contains", field: "payee", value: "STARBUCKS", category: "Coffee" };
    await kb.put(
      { scope: "finance", key: "payee:starbucks", content: "Starbucks is Coffee", data: rule },
      person(),
    );
    clock.advance(1000);
    await kb.put(
      { scope: "finance", key: "payee:starbucks", content: "Starbucks is Dining" },
      run("r1"),
    );
    clock.advance(1000);
    await kb.remove("finance", "payee:starbucks", { kind: "correction", ref: "c9" });

    const history = await kb.history("finance", "payee:starbucks");
    expect(
      history.map((v) => [v.version, v.content, v.deleted, v.provenance.kind, v.provenance.ref]),
    ).toEqual([
      [1, "Starbucks is Coffee", false, "person", "ann"],
      [2, "Starbucks is Dining", false, "audit_run", "r1"],
      [3, "Starbucks is Dining", true, "correction", "c9"],
    ]);
    expect(history[0]!.data).toEqual(rule);
    expect(history[1]!.provenance.at - history[0]!.provenance.at).toBe(1000);
    expect(await kb.get("finance", "payee:starbucks")).toBeUndefined();
    expect(await kb.list()).toEqual([]);
    expect(await kb.list({ includeDeleted: true })).toHaveLength(1);
  });

  it("does not add a version when the same content is written again", async () => {
    const first = await kb.put(
      { scope: "shared", key: "tz", content: "User lives in Lisbon" },
      run("r1"),
    );
    const again = await kb.put(
      { scope: "shared", key: "tz", content: "User lives in Lisbon" },
      run("r1"),
    );
    expect(again.version).toBe(first.version);
    expect(await kb.history("shared", "tz")).toHaveLength(1);
  });

  it("refuses bad scopes, keys, empty content and empty provenance with clear messages", async () => {
    await expect(kb.put({ scope: "bad scope", key: "k", content: "x" }, person())).rejects.toThrow(
      /invalid knowledge scope "bad scope"/,
    );
    await expect(
      kb.put({ scope: "finance", key: " lead", content: "x" }, person()),
    ).rejects.toThrow(/invalid knowledge key/);
    await expect(kb.put({ scope: "finance", key: "k", content: "  " }, person())).rejects.toThrow(
      /needs some content/,
    );
    await expect(kb.put({ scope: "finance", key: "k", content: "x" }, person(""))).rejects.toThrow(
      /needs a ref/,
    );
  });

  it("ranks entries that share more and rarer words first", async () => {
    await kb.put(
      { scope: "finance", key: "coffee", content: "Starbucks coffee purchases are Coffee" },
      person(),
    );
    await kb.put(
      { scope: "finance", key: "groceries", content: "Whole Foods purchases are Groceries" },
      person(),
    );
    await kb.put(
      { scope: "finance", key: "fuel", content: "Shell station purchases are Fuel" },
      person(),
    );
    const hits = await kb.searchText({ text: "STARBUCKS #1234 coffee", scopes: ["finance"] });
    expect(hits[0]!.key).toBe("coffee");
    expect(hits).toHaveLength(1);
    const purchases = await kb.searchText({ text: "whole foods purchases", scopes: ["finance"] });
    expect(purchases.map((h) => h.key)[0]).toBe("groceries");
    expect(purchases.length).toBe(3);
    expect(purchases[0]!.score).toBeGreaterThan(purchases[1]!.score);
  });

  it.each([
    ['"unbalanced coffee'],
    ["NEAR(coffee fuel, 2)"],
    ["coffee*"],
    ["((( coffee"],
    ["content: coffee OR"],
    ["^coffee AND NOT -"],
    ["coffee\u0000'; DROP TABLE kb_entries; --"],
  ])("treats hostile query %j as plain words", async (text) => {
    await kb.put({ scope: "finance", key: "coffee", content: "coffee near the office" }, person());
    const hits = await kb.searchText({ text, scopes: ["finance"] });
    expect(hits.map((h) => h.key)).toEqual(["coffee"]);
  });

  it("finds nothing, without error, for text with no words", async () => {
    await kb.put({ scope: "finance", key: "coffee", content: "coffee" }, person());
    expect(await kb.searchText({ text: '"*()^:' })).toEqual([]);
  });

  it("shows an agent its own and shared entries, never another agent's", async () => {
    await kb.put(
      { scope: "calendar", key: "standup", content: "daily standup at 9 with the team" },
      person(),
    );
    await kb.put(
      { scope: "finance", key: "team-lunch", content: "team lunch is Dining" },
      person(),
    );
    await kb.put(
      { scope: "shared", key: "team", content: "the team is Ann, Bob and Cy" },
      person(),
    );
    const finance = await kb.search({ agent: "finance", text: "team standup" });
    expect(finance.map((h) => `${h.scope}/${h.key}`).sort()).toEqual([
      "finance/team-lunch",
      "shared/team",
    ]);
    const calendar = await kb.search({ agent: "calendar", text: "team lunch" });
    expect(calendar.map((h) => h.scope).sort()).toEqual(["calendar", "shared"]);
  });

  it("rolls an entry back by writing the old version again, keeping the history", async () => {
    await kb.put({ scope: "finance", key: "k", content: "one" }, person());
    await kb.put({ scope: "finance", key: "k", content: "two" }, run("r1"));
    await kb.put({ scope: "finance", key: "k", content: "three" }, run("r2"));
    const rolled = await kb.rollback("finance", "k", 1, person("bob"));
    expect(rolled).toMatchObject({ version: 4, content: "one", note: "rollback to v1" });
    expect((await kb.history("finance", "k")).map((v) => v.content)).toEqual([
      "one",
      "two",
      "three",
      "one",
    ]);
    expect(await kb.searchText({ text: "three" })).toEqual([]);
    expect((await kb.searchText({ text: "one" })).map((h) => h.version)).toEqual([4]);
    await expect(kb.rollback("finance", "k", 9, person())).rejects.toThrow(
      /has no version 9 \(versions 1 to 4\)/,
    );
    await expect(kb.rollback("finance", "nope", 1, person())).rejects.toThrow(
      /no knowledge entry finance\/nope/,
    );
  });

  it("reverts exactly what one audit run wrote and leaves later edits by a person alone", async () => {
    await kb.put({ scope: "finance", key: "a", content: "a by person" }, person());
    await kb.put({ scope: "finance", key: "b", content: "b by person" }, person());
    await kb.put({ scope: "finance", key: "a", content: "a by run" }, run("r1"));
    await kb.put({ scope: "finance", key: "a", content: "a by run, refined" }, run("r1"));
    await kb.put({ scope: "finance", key: "new", content: "created by run" }, run("r1"));
    await kb.put({ scope: "finance", key: "edited", content: "created by run" }, run("r1"));
    await kb.put({ scope: "finance", key: "edited", content: "fixed by a person" }, person("bob"));
    await kb.put({ scope: "finance", key: "other", content: "by another run" }, run("r2"));

    const report = await kb.revertRun("r1", person("ann"));
    expect(report.reverted.map((r) => [r.key, r.deleted]).sort()).toEqual([
      ["a", false],
      ["new", true],
    ]);
    expect(report.skipped).toEqual([
      {
        scope: "finance",
        key: "edited",
        reason: expect.stringMatching(/changed after the run \(v2 by person bob\)/),
      },
    ]);
    expect((await kb.get("finance", "a"))!.content).toBe("a by person");
    expect((await kb.get("finance", "a"))!.note).toBe("revert of run r1");
    expect(await kb.get("finance", "new")).toBeUndefined();
    expect((await kb.get("finance", "edited"))!.content).toBe("fixed by a person");
    expect((await kb.get("finance", "b"))!.version).toBe(1);
    expect((await kb.get("finance", "other"))!.version).toBe(1);
    expect(await kb.history("finance", "a")).toHaveLength(4);

    const again = await kb.revertRun("r1", person("ann"));
    expect(again.reverted).toEqual([]);
    expect(
      again.skipped
        .filter((s) => s.reason === "already reverted")
        .map((s) => s.key)
        .sort(),
    ).toEqual(["a", "new"]);
    await expect(kb.revertRun("r404", person())).rejects.toThrow(
      /audit run r404 wrote no knowledge entries/,
    );
  });

  it("brings back an entry the run deleted, searchable again", async () => {
    await kb.put({ scope: "shared", key: "tz", content: "user lives in Lisbon" }, person());
    await kb.remove("shared", "tz", run("r3"));
    expect(await kb.searchText({ text: "Lisbon" })).toEqual([]);
    const report = await kb.revertRun("r3", person());
    expect(report.reverted).toEqual([
      { scope: "shared", key: "tz", from: 2, to: 3, deleted: false },
    ]);
    expect((await kb.searchText({ text: "Lisbon" })).map((h) => [h.key, h.version])).toEqual([
      ["tz", 3],
    ]);
  });

  it("lists what one run wrote, for the audit report", async () => {
    await kb.put({ scope: "finance", key: "a", content: "x" }, run("r1"));
    await kb.put({ scope: "shared", key: "b", content: "y" }, run("r1"));
    await kb.put({ scope: "shared", key: "c", content: "z" }, run("r2"));
    expect((await kb.writtenBy("audit_run", "r1")).map((e) => e.key)).toEqual(["a", "b"]);
  });

  it("answers the same queries with the same entries in the same order on every engine", async () => {
    const entries = [
      ["finance", "coffee", "Starbucks and Blue Bottle purchases are Coffee"],
      ["finance", "groceries", "Whole Foods and Lidl purchases are Groceries"],
      ["finance", "fuel", "Shell and BP station purchases are Fuel"],
      ["finance", "rent", "The monthly transfer to Mr Silva is Rent, not a purchase"],
      ["calendar", "standup", "The daily standup is at 9:30 with the platform team"],
      ["shared", "home", "The user lives in Lisbon and works from home on Fridays"],
    ] as const;
    for (const [scope, key, content] of entries) await kb.put({ scope, key, content }, person());
    const keys = async (text: string, scopes?: string[], limit?: number) =>
      (
        await kb.searchText({
          text,
          ...(scopes ? { scopes } : {}),
          ...(limit === undefined ? {} : { limit }),
        })
      ).map((h) => h.key);
    // Stemming: "purchased" and "purchase" find "purchases" (porter on SQLite, english on PostgreSQL).
    expect((await keys("purchased")).sort()).toEqual(["coffee", "fuel", "groceries", "rent"]);
    expect(await keys("lidl groceries")).toEqual(["groceries"]);
    expect((await keys("standup in Lisbon")).sort()).toEqual(["home", "standup"]);
    expect(await keys("standup in Lisbon", ["shared"])).toEqual(["home"]);
    expect(await keys("standup in Lisbon", ["finance"])).toEqual([]);
    // A word of the key weighs more than the same word in another entry's content.
    await kb.put(
      { scope: "finance", key: "shell", content: "an oil company's stations" },
      person(),
    );
    expect((await keys("shell"))[0]).toBe("shell");
    expect(await keys("purchases", undefined, 2)).toHaveLength(2);
    await kb.remove("finance", "fuel", person());
    expect(await keys("station")).toEqual(["shell"]);
  });

  it("keeps a key's exact text, data and unicode as written", async () => {
    const data = { z: 1, a: [1, "ü", null], nested: { b: true, a: "\u0001" } };
    const key = "payee:Café Ölmühle — 東京 🍵";
    await kb.put(
      { scope: "finance", key, content: "naïve café ☕ text\nsecond line", data },
      person(),
    );
    const entry = (await kb.get("finance", key))!;
    expect(entry.content).toBe("naïve café ☕ text\nsecond line");
    expect(JSON.stringify(entry.data)).toBe(JSON.stringify(data));
    const again = await kb.put({ scope: "finance", key, content: entry.content, data }, person());
    expect(again.version).toBe(1);
    expect((await kb.searchText({ text: "café" })).map((h) => h.key)).toEqual([key]);
  });

  it("refuses a NUL character in a key or the content and writes nothing", async () => {
    await expect(
      kb.put({ scope: "finance", key: "k", content: "a\u0000b" }, person()),
    ).rejects.toThrow(/NUL character/);
    await expect(
      kb.put({ scope: "finance", key: "k\u0000", content: "x" }, person()),
    ).rejects.toThrow(/invalid knowledge key/);
    expect(await kb.list({ includeDeleted: true })).toEqual([]);
  });

  it("lists entries by scope then key, bytewise, with a limit", async () => {
    for (const key of ["b", "B", "a", "é"]) {
      await kb.put({ scope: "shared", key, content: `entry ${key}` }, person());
    }
    await kb.put({ scope: "finance", key: "z", content: "z" }, person());
    expect((await kb.list()).map((e) => `${e.scope}/${e.key}`)).toEqual([
      "finance/z",
      "shared/B",
      "shared/a",
      "shared/b",
      "shared/é",
    ]);
    expect(await kb.list({ scope: "shared", limit: 2 })).toHaveLength(2);
    expect(await kb.scopesOf("z")).toEqual(["finance"]);
  });

  it("imports several entries in one change: all land, or none", async () => {
    const results = await kb.putMany(
      [
        { scope: "shared", key: "a", content: "one" },
        { scope: "shared", key: "a", content: "two" },
        { scope: "shared", key: "b", content: "b" },
      ],
      { kind: "import", ref: "/tmp/kb.ndjson" },
    );
    expect(results.map((r) => [r.entry.key, r.entry.version, r.changed])).toEqual([
      ["a", 1, true],
      ["a", 2, true],
      ["b", 1, true],
    ]);
    // A version that is not current + 1 (another writer's) refuses the whole change.
    await expect(
      harness.store.append([
        { ...row("shared", "c", 1), content: "new" },
        { ...row("shared", "a", 2), content: "stale" },
      ]),
    ).rejects.toThrow(/changed while version 2 was being written/);
    expect(await kb.get("shared", "c")).toBeUndefined();
    expect((await kb.get("shared", "a"))!.content).toBe("two");
  });

  it("imports onto existing entries: unchanged ones keep their version, the rest move on", async () => {
    await kb.put({ scope: "shared", key: "same", content: "kept" }, person());
    await kb.put({ scope: "shared", key: "edit", content: "old" }, person());
    await kb.put({ scope: "finance", key: "gone", content: "was here" }, person());
    await kb.remove("finance", "gone", person());
    const results = await kb.putMany(
      [
        { scope: "shared", key: "edit", content: "new" },
        { scope: "shared", key: "same", content: "kept" },
        { scope: "finance", key: "gone", content: "back" },
        { scope: "finance", key: "fresh", content: "first" },
        { scope: "shared", key: "edit", content: "newer" },
      ],
      { kind: "import", ref: "kb.ndjson" },
    );
    expect(results.map((r) => [r.entry.key, r.entry.version, r.changed])).toEqual([
      ["edit", 2, true],
      ["same", 1, false],
      ["gone", 3, true],
      ["fresh", 1, true],
      ["edit", 3, true],
    ]);
    const current = await harness.store.currentMany([
      { scope: "shared", key: "edit" },
      { scope: "finance", key: "gone" },
      { scope: "finance", key: "never" },
      { scope: "shared", key: "same" },
    ]);
    expect(current.map((c) => [c.scope, c.key, c.version, c.content, c.deleted]).sort()).toEqual([
      ["finance", "gone", 3, "back", false],
      ["shared", "edit", 3, "newer", false],
      ["shared", "same", 1, "kept", false],
    ]);
    expect((await kb.history("shared", "edit")).map((v) => v.content)).toEqual([
      "old",
      "new",
      "newer",
    ]);
    expect((await kb.search({ agent: "finance", text: "back", limit: 5 })).length).toBe(1);
  });

  it("embeds each live entry once per model and drops the vector when the text changes", async () => {
    await kb.put({ scope: "finance", key: "k1", content: "alpha" }, person());
    await kb.put({ scope: "finance", key: "k2", content: "beta" }, person());
    await kb.put({ scope: "calendar", key: "k3", content: "alpha" }, person());
    const store = harness.store;
    const pending = await store.needingEmbedding("m1", 10);
    expect(pending.map((r) => r.key)).toEqual(["k1", "k2", "k3"]);
    const vectors: Record<string, number[]> = { k1: [1, 0, 0], k2: [0, 1, 0], k3: [0.9, 0.1, 0] };
    for (const r of pending) {
      await store.setEmbedding(r.id, r.content, Float32Array.from(vectors[r.key]!), "m1");
    }
    expect(await store.needingEmbedding("m1", 10)).toEqual([]);
    expect(await store.needingEmbedding("m2", 10)).toHaveLength(3);
    expect(await store.hasEmbeddings("m1", ["finance"])).toBe(true);
    expect(await store.hasEmbeddings("m2", undefined)).toBe(false);
    const near = await store.nearest("m1", Float32Array.from([1, 0.05, 0]), undefined, 2);
    expect(near.map((m) => m.entry.key)).toEqual(["k1", "k3"]);
    expect(near[0]!.score).toBeCloseTo(0.9988, 3);
    expect(Array.from(near[0]!.entry.embedding!)).toEqual([1, 0, 0]);
    const scoped = await store.nearest("m1", Float32Array.from([1, 0, 0]), ["finance"], 5);
    expect(scoped.map((m) => m.entry.key)).toEqual(["k1", "k2"]);
    // A stale vector (the text changed after it was read) is not stored.
    const k2 = (await store.current("finance", "k2"))!;
    await kb.put({ scope: "finance", key: "k2", content: "gamma" }, person());
    await store.setEmbedding(k2.id, k2.content, Float32Array.from([0, 1, 0]), "m1");
    expect((await store.needingEmbedding("m1", 10)).map((r) => r.key)).toEqual(["k2"]);
    // Same text again (a rollback to it) keeps nothing stale either: only k2 waits.
    await kb.put({ scope: "finance", key: "k1", content: "alpha" }, person());
    expect((await store.current("finance", "k1"))!.embeddingModel).toBe("m1");
  });

  it("numbers versions without gaps or repeats while two daemons write the same entry", async () => {
    const other = await harness.other();
    try {
      const first = new KnowledgeBase(harness.store, { clock });
      const second = new KnowledgeBase(other.store, { clock });
      const writes = (base: KnowledgeBase, name: string) => async () => {
        for (let i = 0; i < 20; i++) {
          await base.put({ scope: "shared", key: "hot", content: `${name} ${i}` }, person(name));
          await base.put({ scope: "shared", key: `${name}-${i}`, content: "own" }, person(name));
        }
      };
      await Promise.all([writes(first, "one")(), writes(second, "two")()]);
      const history = await kb.history("shared", "hot");
      expect(history.map((v) => v.version)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(new Set(history.map((v) => v.content)).size).toBe(40);
      expect((await kb.get("shared", "hot"))!.version).toBe(40);
      expect(await kb.list()).toHaveLength(41);
      // A rollback racing a put still lands on top of whatever is current, as a new version.
      await Promise.all([
        first.rollback("shared", "hot", 1, person("one")),
        second.put({ scope: "shared", key: "hot", content: "last word" }, person("two")),
      ]);
      const after = await kb.history("shared", "hot");
      expect(after.map((v) => v.version)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    } finally {
      await other.close();
    }
  });
}

function row(scope: string, key: string, version: number) {
  return {
    scope,
    key,
    version,
    content: "x",
    data: null,
    deleted: false,
    sourceKind: "person" as const,
    sourceRef: "ann",
    createdAt: 0,
    note: null,
  };
}
