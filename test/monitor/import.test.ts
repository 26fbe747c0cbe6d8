import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ledger } from "../../src/ledger/ledger.js";
import { MonitorStore } from "../../src/ledger/monitor-store.js";
import { runCli } from "../support/cli.js";
import { tempHome } from "../support/temp-ledger.js";

let home: string;
let cleanup: () => void;
beforeEach(() => ({ home, cleanup } = tempHome()));
afterEach(() => cleanup());

function cli(...args: string[]) {
  // Times print in local time; UTC makes the expected text the same on every machine.
  return runCli(home, args, { TZ: "UTC" });
}

function storeCount(): number {
  const ledger = Ledger.open(join(home, "nightshift.db"));
  try {
    return new MonitorStore(ledger.db).count();
  } finally {
    ledger.close();
  }
}

const START = Date.parse("2026-01-05T00:00:00Z");

function line(i: number, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ts: new Date(START + i * 60_000).toISOString(),
    cpu_pct: 5 + (i % 10),
    ram_pct: 30,
    ram_used_mb: 4800,
    disk_read_bps: 1000,
    disk_write_bps: 2000,
    gpus: [{ index: 0, util_pct: 2, mem_used_mb: 500, mem_total_mb: 24564 }],
    user_active: false,
    ...overrides,
  });
}

function writeLines(name: string, lines: string[]): string {
  const path = join(home, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

describe("nightshift monitor import", () => {
  it("imports a good NDJSON file and rolls up its complete hours", () => {
    const file = writeLines(
      "good.ndjson",
      Array.from({ length: 180 }, (_, i) => line(i)),
    );
    const result = cli("monitor", "import", file);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `imported 180 samples (2026-01-05 00:00 → 2026-01-05 02:59) from ${file}\n`,
    );
    expect(storeCount()).toBe(180);
    const ledger = Ledger.open(join(home, "nightshift.db"));
    const rollups = new MonitorStore(ledger.db).rollups(0, Number.MAX_SAFE_INTEGER, "cpu_pct");
    ledger.close();
    expect(rollups.map((r) => [r.samples, r.avg, r.max, r.p95])).toEqual([
      [60, 9.5, 14, 14],
      [60, 9.5, 14, 14],
      [60, 9.5, 14, 14],
    ]);
  });

  it("reports bad lines by number and field, and imports nothing from the file", () => {
    const lines = Array.from({ length: 30 }, (_, i) => line(i));
    lines[16] = line(16, { cpu_pct: "high" });
    lines[21] = "{not json";
    lines[24] = line(24, { gpus: [{ index: 0, util_pct: 140 }] });
    const file = writeLines("bad.ndjson", lines);
    const result = cli("monitor", "import", file);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("3 bad lines, nothing imported");
    expect(result.stderr).toContain("line 17: cpu_pct: expected number, got string");
    expect(result.stderr).toMatch(/line 22: not valid JSON/);
    expect(result.stderr).toContain("line 25: gpus.0.util_pct: expected at most 100");
    expect(storeCount()).toBe(0);
  });

  it("leaves earlier history untouched when a later file is bad", () => {
    cli("monitor", "import", writeLines("a.ndjson", [line(0), line(1)]));
    const bad = writeLines("b.ndjson", [line(2), line(3, { ram_pct: undefined })]);
    const result = cli("monitor", "import", bad);
    expect(result.stderr).toContain("line 2: ram_pct: expected number, got nothing");
    expect(storeCount()).toBe(2);
  });

  it("says which file it cannot read", () => {
    const result = cli("monitor", "import", join(home, "missing.ndjson"));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`nightshift: cannot read ${join(home, "missing.ndjson")}: ENOENT\n`);
  });
});
