import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import { toFtsQuery } from "../../src/knowledge/search.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { tempLedger } from "../support/temp-ledger.js";

const person = (ref = "ann") => ({ kind: "person" as const, ref });
const run = (ref: string) => ({ kind: "audit_run" as const, ref });

describe("knowledge base", () => {
  let ledger: Ledger;
  let cleanup: () => void;
  let clock: ManualClock;
  let kb: KnowledgeBase;

  beforeEach(() => {
    ({ ledger, cleanup } = tempLedger());
    clock = new ManualClock();
    kb = new KnowledgeBase(ledger, { clock });
  });
  afterEach(() => cleanup());

  it("keeps every change as a numbered version with its provenance", () => {
    const rule = { match: "contains", field: "payee", value: "STARBUCKS", category: "Coffee" };
    kb.put(
      { scope: "finance", key: "payee:starbucks", content: "Starbucks is Coffee", data: rule },
      person(),
    );
    clock.advance(1000);
    kb.put({ scope: "finance", key: "payee:starbucks", content: "Starbucks is Dining" }, run("r1"));
    clock.advance(1000);
    kb.remove("finance", "payee:starbucks", { kind: "correction", ref: "c9" });

    const history = kb.history("finance", "payee:starbucks");
    expect(
      history.map((v) => [v.version, v.content, v.deleted, v.provenance.kind, v.provenance.ref]),
    ).toEqual([
      [1, "Starbucks is Coffee", false, "person", "ann"],
      [2, "Starbucks is Dining", false, "audit_run", "r1"],
      [3, "Starbucks is Dining", true, "correction", "c9"],
    ]);
    expect(history[0]!.data).toEqual(rule);
    expect(history[1]!.provenance.at - history[0]!.provenance.at).toBe(1000);
    expect(kb.get("finance", "payee:starbucks")).toBeUndefined();
    expect(kb.list()).toEqual([]);
    expect(kb.list({ includeDeleted: true })).toHaveLength(1);
  });

  it("does not add a version when the same content is written again", () => {
    const first = kb.put(
      { scope: "shared", key: "tz", content: "User lives in Lisbon" },
      run("r1"),
    );
    const again = kb.put(
      { scope: "shared", key: "tz", content: "User lives in Lisbon" },
      run("r1"),
    );
    expect(again.version).toBe(first.version);
    expect(kb.history("shared", "tz")).toHaveLength(1);
  });

  it("refuses bad scopes, keys, empty content and empty provenance with clear messages", () => {
    expect(() => kb.put({ scope: "bad scope", key: "k", content: "x" }, person())).toThrow(
      /invalid knowledge scope "bad scope"/,
    );
    expect(() => kb.put({ scope: "finance", key: " lead", content: "x" }, person())).toThrow(
      /invalid knowledge key/,
    );
    expect(() => kb.put({ scope: "finance", key: "k", content: "  " }, person())).toThrow(
      /needs some content/,
    );
    expect(() => kb.put({ scope: "finance", key: "k", content: "x" }, person(""))).toThrow(
      /needs a ref/,
    );
  });

  it("ranks entries that share more and rarer words first", () => {
    kb.put(
      { scope: "finance", key: "coffee", content: "Starbucks coffee purchases are Coffee" },
      person(),
    );
    kb.put(
      { scope: "finance", key: "groceries", content: "Whole Foods purchases are Groceries" },
      person(),
    );
    kb.put(
      { scope: "finance", key: "fuel", content: "Shell station purchases are Fuel" },
      person(),
    );
    const hits = kb.searchText({ text: "STARBUCKS #1234 coffee", scopes: ["finance"] });
    expect(hits[0]!.key).toBe("coffee");
    expect(hits).toHaveLength(1);
    const purchases = kb.searchText({ text: "whole foods purchases", scopes: ["finance"] });
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
  ])("treats hostile query %j as plain words", (text) => {
    kb.put({ scope: "finance", key: "coffee", content: "coffee near the office" }, person());
    const hits = kb.searchText({ text, scopes: ["finance"] });
    expect(hits.map((h) => h.key)).toEqual(["coffee"]);
  });

  it("finds nothing, without error, for text with no words", () => {
    kb.put({ scope: "finance", key: "coffee", content: "coffee" }, person());
    expect(kb.searchText({ text: '"*()^:' })).toEqual([]);
    expect(toFtsQuery("NEAR(a b)")).toBe('"near" OR "a" OR "b"');
  });

  it("shows an agent its own and shared entries, never another agent's", async () => {
    kb.put(
      { scope: "calendar", key: "standup", content: "daily standup at 9 with the team" },
      person(),
    );
    kb.put({ scope: "finance", key: "team-lunch", content: "team lunch is Dining" }, person());
    kb.put({ scope: "shared", key: "team", content: "the team is Ann, Bob and Cy" }, person());
    const finance = await kb.search({ agent: "finance", text: "team standup" });
    expect(finance.map((h) => `${h.scope}/${h.key}`).sort()).toEqual([
      "finance/team-lunch",
      "shared/team",
    ]);
    const calendar = await kb.search({ agent: "calendar", text: "team lunch" });
    expect(calendar.map((h) => h.scope).sort()).toEqual(["calendar", "shared"]);
  });

  it("rolls an entry back by writing the old version again, keeping the history", () => {
    kb.put({ scope: "finance", key: "k", content: "one" }, person());
    kb.put({ scope: "finance", key: "k", content: "two" }, run("r1"));
    kb.put({ scope: "finance", key: "k", content: "three" }, run("r2"));
    const rolled = kb.rollback("finance", "k", 1, person("bob"));
    expect(rolled).toMatchObject({ version: 4, content: "one", note: "rollback to v1" });
    expect(kb.history("finance", "k").map((v) => v.content)).toEqual([
      "one",
      "two",
      "three",
      "one",
    ]);
    expect(kb.searchText({ text: "three" })).toEqual([]);
    expect(kb.searchText({ text: "one" }).map((h) => h.version)).toEqual([4]);
    expect(() => kb.rollback("finance", "k", 9, person())).toThrow(
      /has no version 9 \(versions 1 to 4\)/,
    );
    expect(() => kb.rollback("finance", "nope", 1, person())).toThrow(
      /no knowledge entry finance\/nope/,
    );
  });

  it("reverts exactly what one audit run wrote and leaves later edits by a person alone", () => {
    kb.put({ scope: "finance", key: "a", content: "a by person" }, person());
    kb.put({ scope: "finance", key: "b", content: "b by person" }, person());
    kb.put({ scope: "finance", key: "a", content: "a by run" }, run("r1"));
    kb.put({ scope: "finance", key: "a", content: "a by run, refined" }, run("r1"));
    kb.put({ scope: "finance", key: "new", content: "created by run" }, run("r1"));
    kb.put({ scope: "finance", key: "edited", content: "created by run" }, run("r1"));
    kb.put({ scope: "finance", key: "edited", content: "fixed by a person" }, person("bob"));
    kb.put({ scope: "finance", key: "other", content: "by another run" }, run("r2"));

    const report = kb.revertRun("r1", person("ann"));
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
    expect(kb.get("finance", "a")!.content).toBe("a by person");
    expect(kb.get("finance", "a")!.note).toBe("revert of run r1");
    expect(kb.get("finance", "new")).toBeUndefined();
    expect(kb.get("finance", "edited")!.content).toBe("fixed by a person");
    expect(kb.get("finance", "b")!.version).toBe(1);
    expect(kb.get("finance", "other")!.version).toBe(1);
    expect(kb.history("finance", "a")).toHaveLength(4);

    const again = kb.revertRun("r1", person("ann"));
    expect(again.reverted).toEqual([]);
    expect(
      again.skipped
        .filter((s) => s.reason === "already reverted")
        .map((s) => s.key)
        .sort(),
    ).toEqual(["a", "new"]);
    expect(() => kb.revertRun("r404", person())).toThrow(
      /audit run r404 wrote no knowledge entries/,
    );
  });

  it("brings back an entry the run deleted, searchable again", () => {
    kb.put({ scope: "shared", key: "tz", content: "user lives in Lisbon" }, person());
    kb.remove("shared", "tz", run("r3"));
    expect(kb.searchText({ text: "Lisbon" })).toEqual([]);
    const report = kb.revertRun("r3", person());
    expect(report.reverted).toEqual([
      { scope: "shared", key: "tz", from: 2, to: 3, deleted: false },
    ]);
    expect(kb.searchText({ text: "Lisbon" }).map((h) => [h.key, h.version])).toEqual([["tz", 3]]);
  });

  it("lists what one run wrote, for the audit report", () => {
    kb.put({ scope: "finance", key: "a", content: "x" }, run("r1"));
    kb.put({ scope: "shared", key: "b", content: "y" }, run("r1"));
    kb.put({ scope: "shared", key: "c", content: "z" }, run("r2"));
    expect(kb.writtenBy("audit_run", "r1").map((e) => e.key)).toEqual(["a", "b"]);
  });
});
