import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { profileColumns } from "../../src/finance/import/column-profile.js";
import { countLines, type ImportProgress } from "../../src/finance/import-progress.js";
import { importStatementFile } from "../../src/finance/importer.js";
import { importProgressPrinter } from "../../src/views/import-progress.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { sqliteFinanceStore } from "../support/finance-agent.js";
import { tempHome, tempLedger } from "../support/temp-ledger.js";

const ROWS = 12_345;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A real CSV of `rows` transactions, the layout most banks export. */
function bigCsv(dir: string, rows: number): string {
  const lines = ["Date,Description,Amount"];
  for (let i = 0; i < rows; i++) {
    const day = String(1 + (i % 28)).padStart(2, "0");
    lines.push(`2026-01-${day},SHOP ${i % 97} ORDER ${i},-${(1 + (i % 5000) / 100).toFixed(2)}`);
  }
  const path = join(dir, "big.csv");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

describe("import progress", { timeout: 120_000 }, () => {
  it("reports the parse, then every 1 % of the stored rows, ending at the total", async () => {
    const temp = tempLedger();
    cleanups.push(temp.cleanup);
    const path = bigCsv(temp.home, ROWS);
    const events: ImportProgress[] = [];
    const result = await importStatementFile(
      path,
      { store: sqliteFinanceStore(temp.ledger), config: parseConfig({}).finance },
      { onProgress: (p) => events.push(p) },
    );
    expect(result.imported).toBe(ROWS);
    expect(events[0]).toMatchObject({ phase: "parse", file: "big.csv", lines: ROWS + 1 });
    const read = events.filter((p) => p.phase === "read");
    // Each step of the parse in order, its percentage rising to 100: bytes, columns, rows.
    expect([...new Set(read.map((p) => p.step))]).toEqual(["split", "columns", "rows"]);
    const size = statSync(path).size;
    for (const [step, total] of [
      ["split", size],
      ["columns", 3],
      ["rows", ROWS],
    ] as const) {
      const steps = read.filter((p) => p.step === step);
      expect(steps.every((p) => p.total === total)).toBe(true);
      const percents = steps.map((p) => Math.floor((100 * p.done) / p.total));
      expect(percents).toEqual([...new Set(percents)].sort((a, b) => a - b));
      expect(percents.at(-1)).toBe(100);
    }
    expect(read.filter((p) => p.step === "split").length).toBeGreaterThanOrEqual(50);
    expect(read.filter((p) => p.step === "rows")).toHaveLength(101);
    const stored = events.slice(1 + read.length);
    expect(stored.every((p) => p.phase === "store" && p.total === ROWS)).toBe(true);
    const done = stored.map((p) => (p.phase === "store" ? p.done : -1));
    expect(done.at(-1)).toBe(ROWS);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(stored.length).toBeGreaterThanOrEqual(100);
    expect(stored.length).toBeLessThanOrEqual(101);
  });

  it("counts lines with or without a final newline", () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    expect(countLines(bytes(""))).toBe(0);
    expect(countLines(bytes("a\nb\n"))).toBe(2);
    expect(countLines(bytes("a\r\nb"))).toBe(2);
  });

  it("prints a line per 10 % in a pipe, a rewritten line on a terminal, nothing for small files", () => {
    const written: string[] = [];
    const pipe = importProgressPrinter({ isTTY: false, write: (t) => written.push(t) });
    pipe({ phase: "parse", file: "small.csv", bytes: 100, lines: 5 });
    pipe({ phase: "store", file: "small.csv", done: 5, total: 5 });
    expect(written).toEqual([]);
    pipe({ phase: "parse", file: "big.csv", bytes: 2_500_000, lines: 50_001 });
    for (let done = 500; done <= 50_000; done += 500)
      pipe({ phase: "store", file: "big.csv", done, total: 50_000 });
    pipe.done();
    expect(written[0]).toBe("big.csv: parsing 50,001 lines (2.5 MB)…\n");
    expect(written.slice(1)).toHaveLength(11);
    expect(written.at(-1)).toBe("big.csv: storing: 50,000 of 50,000 rows (100%)\n");

    const parse: string[] = [];
    const parsing = importProgressPrinter({ isTTY: false, write: (t) => parse.push(t) });
    parsing({ phase: "parse", file: "small.csv", bytes: 100, lines: 5 });
    parsing({ phase: "read", file: "small.csv", step: "split", done: 100, total: 100 });
    parsing({ phase: "parse", file: "big.csv", bytes: 2_500_000, lines: 50_001 });
    for (let done = 25_000; done <= 2_500_000; done += 25_000)
      parsing({ phase: "read", file: "big.csv", step: "split", done, total: 2_500_000 });
    expect(parse).toHaveLength(12);
    expect(parse[1]).toBe("big.csv: splitting into rows: 0.0 of 2.5 MB (1%)\n");
    expect(parse.at(-1)).toBe("big.csv: splitting into rows: 2.5 of 2.5 MB (100%)\n");

    const screen: string[] = [];
    const tty = importProgressPrinter({ isTTY: true, write: (t) => screen.push(t) });
    for (let done = 500; done <= 50_000; done += 500)
      tty({ phase: "store", file: "big.csv", done, total: 50_000 });
    expect(screen).toHaveLength(101);
    expect(screen[0]).toBe("\r\x1b[2Kbig.csv: storing: 500 of 50,000 rows (1%)");
    expect(screen.at(-1)).toBe("\n");
  });

  it("`finance import --json` keeps stdout JSON and shows progress on stderr", async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const path = bigCsv(home, ROWS);
    const run = await runCliInProcess(home, ["finance", "import", path, "--json"], {
      NIGHTSHIFT_PORT: "1",
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)[0]).toMatchObject({ status: "imported", imported: ROWS });
    const lines = run.stderr.trim().split("\n");
    expect(lines[0]).toMatch(/^big\.csv: parsing 12,346 lines \(0\.\d MB\)…$/);
    expect(lines).toContain(`big.csv: storing: 12,345 of 12,345 rows (100%)`);
    expect(lines.filter((line) => line.includes("storing:"))).toHaveLength(11);
    // The parse has its percentages too, a line per 10 % of each step in a pipe.
    const splitting = lines.filter((line) => line.includes("splitting into rows:"));
    expect(splitting.length).toBeGreaterThanOrEqual(5);
    expect(splitting.at(-1)).toMatch(/^big\.csv: splitting into rows: (0\.\d) of \1 MB \(100%\)$/);
    expect(lines).toContain("big.csv: finding the layout: 3 of 3 columns (100%)");
    expect(lines).toContain("big.csv: reading dates and amounts: 12,345 of 12,345 rows (100%)");
    const order = ["splitting", "finding", "reading", "storing"].map((word) =>
      lines.findIndex((line) => line.startsWith(`big.csv: ${word}`)),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});

describe("a file of hundreds of thousands of rows", () => {
  it("profiles its columns without overflowing the call stack", () => {
    // Math.max(...rows) overflowed here from about 120,000 rows on (a RangeError, not an import).
    const rows = Array.from({ length: 300_000 }, () => ["SHOP"]);
    expect(profileColumns(["Description"], rows, ".")).toHaveLength(1);
  });
});
