import { afterEach, beforeEach, expect, it } from "vitest";
import type { Ledger } from "../../src/ledger/ledger.js";
import { runCli } from "../support/cli.js";
import { tempLedger } from "../support/temp-ledger.js";
import { NOW, seed } from "./seed.js";

let ledger: Ledger;
let home: string;
let cleanup: () => void;
beforeEach(() => {
  ({ ledger, home, cleanup } = tempLedger());
  // Ages are relative to the real clock here: the CLI prunes as of now.
  const now = Date.now();
  const ago = (days: number) => days - (now - NOW) / 86_400_000;
  seed(ledger, [
    { ageDays: ago(20), status: "verified" },
    { ageDays: ago(100), status: "passed" },
    { ageDays: ago(100), status: "corrected" },
    { ageDays: ago(30), status: null, flags: ["low_confidence"] },
    { ageDays: ago(30), status: "in_review" },
  ]);
});
afterEach(() => cleanup());

function nightshift(...args: string[]) {
  return runCli(home, args);
}

it("nightshift prune --dry-run --json reports what would move and changes nothing", () => {
  const { code, stdout } = nightshift("prune", "--dry-run", "--json");
  expect(code).toBe(0);
  const report = JSON.parse(stdout);
  expect(report).toMatchObject({
    dry_run: true,
    compressed: 2, // the 20-day-old one, and the corrected one kept for its correction
    aggregated: 2,
    aggregated_deleted: 1,
    aggregated_kept: 1,
    kept: { unaudited: 0, flagged: 1, in_review: 1 },
    size: { after: null },
  });
  expect(report.size.before).toBeGreaterThan(0);
  expect(ledger.actions.count()).toBe(5);
  expect(ledger.actions.list().filter((a) => a.tier === "compressed")).toEqual([]);
});

it("nightshift prune moves the rows and prints each tier and the size before and after", () => {
  const { code, stdout, stderr } = nightshift("prune");
  expect(code).toBe(0);
  expect(stdout).toMatch(/detailed → compressed\s+moved 2\n/);
  expect(stdout).toMatch(
    /→ aggregated\s+moved 2 \(1 rows replaced by their aggregates, 1 kept compressed/,
  );
  expect(stdout).toMatch(
    /kept detailed\s+0 not yet audited, 1 flagged and unresolved, 1 in review/,
  );
  const vacuum = /database\s+[\d.]+ [KM]B → [\d.]+ [KM]B \((no|incremental|full) vacuum: /.exec(
    stdout,
  );
  expect(vacuum).not.toBeNull();
  expect(stderr).toMatch(/compress: 100%/); // progress goes to stderr
  // Vacuum progress only when a vacuum ran.
  expect(/^vacuum: /m.test(stderr)).toBe(vacuum![1] !== "no");
  expect(ledger.actions.count()).toBe(4);
  const again = JSON.parse(nightshift("prune", "--json").stdout);
  expect([again.compressed, again.aggregated]).toEqual([0, 0]);
});

it("refuses an unknown --vacuum mode with one line on stderr", () => {
  const { code, stderr } = nightshift("prune", "--vacuum", "sometimes");
  expect(code).toBe(1);
  expect(stderr).toBe("nightshift: --vacuum sometimes: expected auto, full or never\n");
});
