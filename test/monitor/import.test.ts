import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { MonitorStore } from "../../src/ledger/stores/index.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { MONITOR_ENGINES } from "./engines.js";

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

for (const engine of MONITOR_ENGINES) {
  describe.skipIf(!engine.available)(`nightshift monitor import on ${engine.name}`, () => {
    let home: string;
    let store: MonitorStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      const opened = await engine.open();
      ({ home, cleanup } = opened);
      store = opened.stores.monitor;
    });
    afterEach(() => cleanup());

    function cli(...args: string[]) {
      // Times print in local time; UTC makes the expected text the same on every machine.
      return runCliInProcess(home, args, { TZ: "UTC" });
    }
    const storeCount = () => store.count();
    function writeLines(name: string, lines: string[]): string {
      const path = join(home, name);
      writeFileSync(path, `${lines.join("\n")}\n`);
      return path;
    }

    it("imports a good NDJSON file and rolls up its complete hours", async () => {
      const file = writeLines(
        "good.ndjson",
        Array.from({ length: 180 }, (_, i) => line(i)),
      );
      const result = await cli("monitor", "import", file);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(
        `imported 180 samples (2026-01-05 00:00 → 2026-01-05 02:59) from ${file}\n`,
      );
      expect(await storeCount()).toBe(180);
      const rollups = await store.rollups(0, Number.MAX_SAFE_INTEGER, "cpu_pct");
      expect(rollups.map((r) => [r.samples, r.avg, r.max, r.p95])).toEqual([
        [60, 9.5, 14, 14],
        [60, 9.5, 14, 14],
        [60, 9.5, 14, 14],
      ]);
    });

    it("imports a large file in batches, with progress on stderr, all of it rolled up", async () => {
      const lines = Array.from({ length: 20_000 }, (_, i) => line(i));
      const result = await cli("monitor", "import", "--json", writeLines("big.ndjson", lines));
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ samples: 20_000 });
      expect(result.stderr).toMatch(/importing 20000 lines \(100%\)/);
      expect(result.stderr).toMatch(/rolling up 334 of 334 hours \(100%\)/);
      expect(await storeCount()).toBe(20_000);
      const rolled = await store.rollups(0, Number.MAX_SAFE_INTEGER, "idle");
      // 333 whole hours and the 20 minutes of the 334th.
      expect(rolled.map((r) => r.samples)).toEqual([...Array(333).fill(60), 20]);
    });

    it("reports bad lines by number and field, and imports nothing from the file", async () => {
      const lines = Array.from({ length: 30 }, (_, i) => line(i));
      lines[16] = line(16, { cpu_pct: "high" });
      lines[21] = "{not json";
      lines[24] = line(24, { gpus: [{ index: 0, util_pct: 140 }] });
      const file = writeLines("bad.ndjson", lines);
      const result = await cli("monitor", "import", file);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("3 bad lines, nothing imported");
      expect(result.stderr).toContain("line 17: cpu_pct: expected number, got string");
      expect(result.stderr).toMatch(/line 22: not valid JSON/);
      expect(result.stderr).toContain("line 25: gpus.0.util_pct: expected at most 100");
      expect(await storeCount()).toBe(0);
    });

    it("leaves earlier history untouched when a later file is bad", async () => {
      await cli("monitor", "import", writeLines("a.ndjson", [line(0), line(1)]));
      const bad = writeLines("b.ndjson", [line(2), line(3, { ram_pct: undefined })]);
      const result = await cli("monitor", "import", bad);
      expect(result.stderr).toContain("line 2: ram_pct: expected number, got nothing");
      expect(await storeCount()).toBe(2);
    });

    it("monitor status says whose history it is and how much; --host reads another machine's", async () => {
      await cli("monitor", "import", writeLines("a.ndjson", [line(0), line(1), line(60)]));
      const status = JSON.parse((await cli("monitor", "status", "--json")).stdout);
      expect(status).toMatchObject({
        host: store.host,
        samples: 3,
        oldest: "2026-01-05T00:00:00.000Z",
        newest: "2026-01-05T01:00:00.000Z",
        rollup_hours: 2,
        hosts: expect.arrayContaining([store.host]),
      });
      expect(status.latest).toMatchObject({ ts: START + 3_600_000, cpuPct: 5 });
      const other = await cli("monitor", "status", "--json", "--host", "another-box");
      if (engine.name === "PostgreSQL") {
        expect(JSON.parse(other.stdout)).toMatchObject({ host: "another-box", samples: 0 });
      } else {
        expect(other.code).toBe(1);
        expect(other.stderr).toMatch(/holds one machine's monitor history .* not another-box's/);
      }
    });

    it("says which file it cannot read", async () => {
      const result = await cli("monitor", "import", join(home, "missing.ndjson"));
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `nightshift: cannot read ${join(home, "missing.ndjson")}: ENOENT\n`,
      );
    });
  });
}
