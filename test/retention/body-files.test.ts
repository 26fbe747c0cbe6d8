import { existsSync, readdirSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { NewAction } from "../../src/ledger/actions.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { pruneLedger } from "../../src/retention/prune.js";
import { tempHome } from "../support/temp-ledger.js";
import { chatAction, NOW, retentionOf } from "./seed.js";

let home: ReturnType<typeof tempHome>;
let ledger: Ledger;
beforeEach(() => {
  home = tempHome();
  // Bodies over 512 bytes go to files, so every seeded chat's request and reply does.
  ledger = Ledger.open(join(home.home, "nightshift.db"), { inlineBodyBytes: 512 });
});
afterEach(() => {
  ledger.close();
  home.cleanup();
});

function bodyFiles(): string[] {
  const dir = `${ledger.path}.bodies`;
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((shard) =>
    readdirSync(join(dir, shard)).map((name) => join(dir, shard, name)),
  );
}

/** The files as if written two hours ago: past the grace a prune gives fresh files. */
function ageFiles(): void {
  const then = (Date.now() - 2 * 3_600_000) / 1000;
  for (const file of bodyFiles()) utimesSync(file, then, then);
}

function insert(action: NewAction, status: "verified" | null) {
  const [written] = ledger.actions.insert([action]);
  if (status) ledger.actions.setAuditStatus([written!.id], status);
  return written!;
}

const shaOf = (raw: unknown) =>
  (JSON.parse(raw as string) as { $nightshift_body: { sha256: string } }).$nightshift_body.sha256;

function refs(id: string): string[] {
  const row = ledger.db.prepare("SELECT request, response FROM actions WHERE id = ?").get(id) as {
    request: string | null;
    response: string | null;
  };
  return [row.request, row.response].filter((t) => t !== null).map(shaOf);
}

it("deletes the body files no remaining action refers to, and keeps shared, held and fresh ones", async () => {
  const compressed = insert(chatAction({ ageDays: 30, status: null }, 1), "verified");
  const aggregated = insert(chatAction({ ageDays: 120, status: null }, 2), "verified");
  // Same request as a young action that stays detailed: the shared file must stay.
  const shared = chatAction({ ageDays: 30, status: null }, 3);
  insert(shared, "verified");
  const young = insert(
    { ...chatAction({ ageDays: 2, status: null }, 4), request: shared.request },
    null,
  );
  const held = insert(chatAction({ ageDays: 200, status: null }, 5), null);
  const gone = [...refs(compressed.id), ...refs(aggregated.id)];
  const kept = [...refs(young.id), ...refs(held.id)];
  expect(bodyFiles()).toHaveLength(9); // ten bodies, one of them shared
  ageFiles();

  const report = await pruneLedger(retentionOf(ledger), {
    retention: { detailed_days: 14, aggregate_after_days: 90, every_days: 7 },
    now: NOW,
    vacuum: "never",
  });
  expect(report).toMatchObject({ compressed: 2, aggregated: 1 });
  // compressed's 2, aggregated's 2, and the shared action's reply; its request is the young one's
  expect(report.body_files).toMatchObject({ deleted: 5, recent: 0 });
  expect(report.body_files!.bytes).toBeGreaterThan(5 * 512);
  const names = bodyFiles().map((file) => file.slice(file.lastIndexOf("/") + 1, -5));
  for (const sha of gone) expect(names).not.toContain(sha);
  expect(names.sort()).toEqual([...new Set(kept)].sort());
  expect(ledger.actions.get(young.id)!.request).toEqual(shared.request);
  expect(ledger.actions.get(held.id)!.response).toEqual(
    chatAction({ ageDays: 200, status: null }, 5).response,
  );
});

it("leaves an unreferenced file that was written or reused within the hour, for a later run", async () => {
  const action = insert(chatAction({ ageDays: 120, status: null }, 1), "verified");
  const files = bodyFiles();
  const report = await pruneLedger(retentionOf(ledger), {
    retention: { detailed_days: 14, aggregate_after_days: 90, every_days: 7 },
    now: NOW,
    vacuum: "never",
  });
  expect(ledger.actions.get(action.id)).toBeUndefined();
  expect(report.body_files).toEqual({ deleted: 0, bytes: 0, recent: 2 });
  expect(bodyFiles().sort()).toEqual(files.sort());
  // A later run, once the files have aged, takes them.
  ageFiles();
  const later = await pruneLedger(retentionOf(ledger), {
    retention: { detailed_days: 14, aggregate_after_days: 90, every_days: 7 },
    now: NOW,
    vacuum: "never",
  });
  expect(later.body_files).toMatchObject({ deleted: 2, recent: 0 });
  expect(bodyFiles()).toEqual([]);
});
