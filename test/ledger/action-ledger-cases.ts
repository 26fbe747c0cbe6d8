import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NightshiftError } from "../../src/errors.js";
import type { NewAction } from "../../src/ledger/actions.js";
import type { ActionLedger } from "../../src/ledger/stores/index.js";

const T0 = Date.parse("2026-03-02T08:00:00Z");

function action(over: Partial<NewAction> = {}): NewAction {
  return { agent: "finance", actionType: "chat", startedAt: T0, status: "ok", ...over };
}

/**
 * The action log's contract: every engine behind ActionLedger passes these same cases
 * (test/ledger/contract.test.ts runs them on SQLite and on PostgreSQL).
 */
export function actionLedgerContract(open: () => Promise<ActionLedger>): void {
  let ledger: ActionLedger;
  beforeAll(async () => {
    ledger = await open();
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it("reads back every field of an inserted action as written", async () => {
    const [written] = await ledger.actions.insert([
      action({
        parentId: "00000000-0000-7000-8000-000000000001",
        model: "qwen2.5:7b",
        upstream: "http://127.0.0.1:11434",
        gpu: 1,
        endedAt: T0 + 1234,
        latencyMs: 1234.567,
        status: "error",
        error: "HTTP 502 ünïcode ✓",
        request: { messages: [{ role: "user", content: 'say "hi"\n' }], options: { top_k: 3 } },
        response: ["a", 1, null, true],
        reasoning: "because",
        confidence: 0.73,
        flags: ["low_confidence", "retried", "low_confidence"],
        tokensIn: 12,
        tokensOut: 2_000_000_000_123,
        loadDuration: 1,
        promptEvalDuration: 9_007_199_254,
        evalDuration: 3,
        totalDuration: 4,
        inputKey: "abc",
        meta: { attempt: 2, nested: { x: [1.5] } },
      }),
    ]);
    const read = await ledger.actions.get(written!.id);
    expect(read).toEqual({ ...written, auditStatus: null, tier: "detailed" });
    expect(read?.flags).toEqual(["low_confidence", "retried"]);
    expect(await ledger.actions.find(written!.id.slice(0, 30))).toEqual(read);
    expect(await ledger.actions.get("no-such-id")).toBeUndefined();
  });

  it("refuses an id prefix that several actions share, naming them", async () => {
    const [a, b] = await ledger.actions.insert([
      action({ id: "11111111-aaaa-7000-8000-000000000001" }),
      action({ id: "11111111-aaaa-7000-8000-000000000002" }),
    ]);
    await expect(ledger.actions.find("11111111-aaaa")).rejects.toThrow(NightshiftError);
    await expect(ledger.actions.find("11111111-aaaa")).rejects.toThrow(a!.id);
    expect(await ledger.actions.find("11111111-bbbb")).toBeUndefined();
    expect((await ledger.actions.find(b!.id))?.id).toBe(b!.id);
  });

  it("lists by agent, type, status, flag and time, newest first unless asked", async () => {
    const base = T0 + 10_000_000;
    await ledger.actions.insert([
      action({ agent: "cal", startedAt: base + 1, flags: ["uncertain"] }),
      action({ agent: "cal", startedAt: base + 2, actionType: "stage", status: "error" }),
      action({ agent: "cal", startedAt: base + 3, flags: ["uncertain", "x"] }),
      action({ agent: "other", startedAt: base + 4, flags: ["uncertain"] }),
    ]);
    const since = { since: base, until: base + 100 };
    expect((await ledger.actions.list({ ...since, agent: "cal" })).map((a) => a.startedAt)).toEqual(
      [base + 3, base + 2, base + 1],
    );
    const asc = await ledger.actions.list({ ...since, agent: "cal", order: "asc", limit: 2 });
    expect(asc.map((a) => a.startedAt)).toEqual([base + 1, base + 2]);
    const flagged = await ledger.actions.list({ ...since, flag: "uncertain" });
    expect(flagged.map((a) => a.agent)).toEqual(["other", "cal", "cal"]);
    expect(await ledger.actions.list({ ...since, actionType: "stage" })).toHaveLength(1);
    expect(await ledger.actions.list({ ...since, status: "error" })).toHaveLength(1);
    expect(await ledger.actions.count({ since: base, agent: "cal" })).toBe(3);
  });

  it("pages through a listing with a cursor, skipping and repeating nothing", async () => {
    const base = T0 + 20_000_000;
    // Three actions per millisecond: the cursor must order by id within a millisecond.
    const rows = Array.from({ length: 25 }, (_, i) =>
      action({ agent: "pager", startedAt: base + Math.floor(i / 3) }),
    );
    const written = await ledger.actions.insert(rows);
    for (const order of ["desc", "asc"] as const) {
      const seen: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await ledger.actions.page({ agent: "pager", order, limit: 10, after });
        seen.push(...page.actions.map((a) => a.id));
        if (!page.next) break;
        after = page.next;
      }
      const expected = written
        .slice()
        .sort((x, y) => x.startedAt - y.startedAt || (x.id < y.id ? -1 : 1))
        .map((a) => a.id);
      expect(seen).toEqual(order === "asc" ? expected : expected.reverse());
    }
    await expect(ledger.actions.page({ after: "not-a-cursor" })).rejects.toThrow(/invalid cursor/);
  });

  it("follows traces and parents", async () => {
    const [root] = await ledger.actions.insert([action({ traceId: "f".repeat(32) })]);
    const [child] = await ledger.actions.insert([
      action({ traceId: "f".repeat(32), parentId: root!.id, startedAt: T0 + 5 }),
    ]);
    expect((await ledger.actions.trace("f".repeat(32))).map((a) => a.id)).toEqual([
      root!.id,
      child!.id,
    ]);
    expect((await ledger.actions.children(root!.id)).map((a) => a.id)).toEqual([child!.id]);
    expect(await ledger.actions.traceIdOf(child!.id)).toBe("f".repeat(32));
    expect(await ledger.actions.traceIdOf("missing")).toBeUndefined();
    expect((await ledger.actions.idsInTrace("f".repeat(32))).sort()).toEqual(
      [root!.id, child!.id].sort(),
    );
  });

  it("finds an agent's earlier actions on the same input, newest first, up to the limit", async () => {
    const base = T0 + 20_000_000;
    const key = "k".repeat(64);
    const ours = await ledger.actions.insert(
      Array.from({ length: 30 }, (_, i) =>
        action({ agent: "triage", inputKey: key, startedAt: base + (i % 25) * 1000 }),
      ),
    );
    await ledger.actions.insert([
      action({ agent: "other", inputKey: key, startedAt: base + 99_000 }),
      action({ agent: "triage", inputKey: "k".repeat(63), startedAt: base + 99_000 }),
      action({ agent: "triage", startedAt: base + 99_000 }),
    ]);
    // Newest first; five pairs share a millisecond, and then the greater id comes first.
    const expected = [...ours]
      .sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1))
      .map((a) => a.id);
    const ids = async (limit?: number) =>
      (await ledger.actions.byInputKey("triage", key, limit)).map((a) => a.id);
    expect(await ids()).toEqual(expected.slice(0, 20));
    expect(await ids(7)).toEqual(expected.slice(0, 7));
    expect(await ids(100)).toEqual(expected);
    const [newest] = await ledger.actions.byInputKey("triage", key, 1);
    expect(newest).toEqual(await ledger.actions.get(expected[0]!));
    expect(await ledger.actions.byInputKey("triage", "missing")).toEqual([]);
    expect(await ledger.actions.byInputKey("nobody", key)).toEqual([]);
  });

  it("adds and removes flags, and the flag listing follows", async () => {
    const [a] = await ledger.actions.insert([action({ startedAt: T0 + 30_000_000 })]);
    await ledger.actions.addFlags(a!.id, ["needs_review", "b"]);
    expect((await ledger.actions.get(a!.id))?.flags).toEqual(["needs_review", "b"]);
    expect((await ledger.actions.list({ flag: "needs_review" })).map((x) => x.id)).toEqual([a!.id]);
    await ledger.actions.removeFlags(a!.id, ["needs_review"]);
    expect((await ledger.actions.get(a!.id))?.flags).toEqual(["b"]);
    expect(await ledger.actions.list({ flag: "needs_review" })).toEqual([]);
  });

  it("commits what the writer queues, in batches, by flush", async () => {
    const before = await ledger.actions.count();
    const ids = Array.from(
      { length: 1500 },
      (_, i) => ledger.writer.write(action({ agent: "batch", startedAt: T0 + 40_000_000 + i })).id,
    );
    expect(new Set(ids).size).toBe(1500);
    await ledger.writer.flush();
    expect(ledger.writer.pending).toBe(0);
    expect(await ledger.actions.count()).toBe(before + 1500);
    expect((await ledger.actions.get(ids[1499]!))?.agent).toBe("batch");
  });

  it("keeps an action whose text holds a NUL character", async () => {
    const written = ledger.writer.write(action({ model: "evil\u0000model", error: "a\u0000b" }));
    await ledger.writer.flush();
    const read = await ledger.actions.get(written.id);
    // SQLite keeps the NUL; PostgreSQL cannot store it in text and keeps U+FFFD instead.
    expect(["evil\u0000model", "evil\uFFFDmodel"]).toContain(read?.model);
  });

  it("keeps text with backslashes, tabs, newlines and \\N exactly as written", async () => {
    const tricky = "a\\b\tc\nd\re \\N \\. end\\";
    const written = ledger.writer.write(
      action({
        model: tricky,
        error: "\\N",
        request: { prompt: tricky, nested: ["\t", "\\"] },
        flags: ["tab\tflag", "back\\slash"],
        meta: { note: "\n" },
      }),
    );
    await ledger.writer.flush();
    const read = await ledger.actions.get(written.id);
    expect(read?.model).toBe(tricky);
    expect(read?.error).toBe("\\N");
    expect(read?.request).toEqual({ prompt: tricky, nested: ["\t", "\\"] });
    expect(read?.meta).toEqual({ note: "\n" });
    expect([...(read?.flags ?? [])].sort()).toEqual(["back\\slash", "tab\tflag"]);
  });
}

export function describeEngine(
  name: string,
  available: boolean,
  open: () => Promise<ActionLedger>,
): void {
  describe.skipIf(!available)(name, () => actionLedgerContract(open));
}
