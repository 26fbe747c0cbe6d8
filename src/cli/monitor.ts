import { resolve } from "node:path";
import type { Command } from "commander";
import type { MonitorStore } from "../ledger/stores/monitor.js";
import { describeQuietHours, renderHeatmap } from "../monitor/heatmap.js";
import { describeIdleGate, evaluateIdleGate, type IdleGateResult } from "../monitor/idle-gate.js";
import { type ImportProgress, importSamples } from "../monitor/import.js";
import { learnQuietHours } from "../monitor/quiet-hours.js";
import { idleToJson, profileToJson } from "../views/monitor.js";
import type { CliContext } from "./context.js";
import { count, formatLocalTime, printJson } from "./output.js";

interface JsonFlag {
  json?: boolean;
  /** Another machine's history in a shared (PostgreSQL) ledger; this machine's by default. */
  host?: string;
}

const HOST_OPTION = [
  "--host <name>",
  "another machine's history (shared ledger); this one's by default",
] as const;

export function registerMonitor(program: Command, context: CliContext): void {
  const store = async (flags: JsonFlag): Promise<MonitorStore> => {
    const { monitor } = await context.actionLedger();
    return flags.host === undefined ? monitor : monitor.forHost(flags.host);
  };
  const monitor = program
    .command("monitor")
    .description("resource samples (CPU, RAM, disk, GPUs, user activity) and the idle gate");

  monitor
    .command("import <file>")
    .description(
      "load samples from NDJSON ({ts, cpu_pct, ram_pct, ram_used_mb, disk_read_bps, disk_write_bps, gpus:[{index, util_pct, mem_used_mb, mem_total_mb}], user_active}); all or nothing",
    )
    .option("--json", "print the result as JSON")
    .option(...HOST_OPTION)
    .action(async (file: string, flags: JsonFlag) => {
      const { config } = context.loaded();
      const result = await importSamples(await store(flags), resolve(file), {
        now: context.clock().now(),
        idle: config.idle,
        onProgress: progressPrinter(),
      });
      if (flags.json) return printJson(result);
      const span =
        result.oldest === null || result.newest === null
          ? ""
          : ` (${formatLocalTime(result.oldest)} → ${formatLocalTime(result.newest)})`;
      process.stdout.write(`imported ${count(result.samples, "sample")}${span} from ${file}\n`);
    });

  monitor
    .command("idle")
    .description("is the machine idle now? averages over the lookback window against thresholds")
    .option("--json", "print the numbers as JSON")
    .option(...HOST_OPTION)
    .action(async (flags: JsonFlag) => {
      const { config } = context.loaded();
      const result = await evaluateIdleGate(
        await store(flags),
        config.idle,
        context.clock().now(),
        {
          intervalS: config.monitor.interval_s,
        },
      );
      if (flags.json) return printJson(idleToJson(result));
      process.stdout.write(`${describeIdleGate(result)}\n${describeValues(result)}\n`);
    });

  monitor
    .command("status")
    .description("how much history the monitor holds, and the latest sample")
    .option("--json", "print as JSON")
    .option(...HOST_OPTION)
    .action(async (flags: JsonFlag) => {
      const s = await store(flags);
      const [range, latest, samples, rolled, hosts] = await Promise.all([
        s.range(),
        s.latest(),
        s.count(),
        s.rollups(0, Number.MAX_SAFE_INTEGER, "idle"),
        s.hosts(),
      ]);
      const status = {
        host: s.host,
        samples,
        oldest: range ? new Date(range.oldest).toISOString() : null,
        newest: range ? new Date(range.newest).toISOString() : null,
        rollup_hours: rolled.length,
        latest: latest ?? null,
        hosts,
      };
      if (flags.json) return printJson(status);
      const others = hosts.filter((h) => h !== s.host);
      const also =
        others.length > 0 ? `\nother machines in this ledger (--host): ${others.join(", ")}` : "";
      if (!range) {
        process.stdout.write(
          `no samples of ${s.host} yet: \`nightshift serve\` samples every minute${also}\n`,
        );
        return;
      }
      process.stdout.write(
        `${s.host}: ${status.samples} raw samples from ${formatLocalTime(range.oldest)} to ${formatLocalTime(range.newest)}; ${status.rollup_hours} hours rolled up${also}\n`,
      );
      if (latest) {
        const gpus = latest.gpus.map((g) => `gpu${g.index} ${fmt(g.utilPct)}%`).join(", ");
        process.stdout.write(
          `latest: CPU ${fmt(latest.cpuPct)}%, RAM ${fmt(latest.ramPct)}%${gpus ? `, ${gpus}` : ""}\n`,
        );
      }
    });

  program
    .command("quiet-hours")
    .description(
      "the learned weekly pattern of idle hours, as a heatmap, and the usual quiet windows",
    )
    .option("--json", "print the profile as JSON")
    .option(...HOST_OPTION)
    .action(async (flags: JsonFlag) => {
      const { config } = context.loaded();
      const profile = await learnQuietHours(await store(flags), config, context.clock().now());
      if (flags.json) return printJson(profileToJson(profile));
      process.stdout.write(`${renderHeatmap(profile)}\n\n${describeQuietHours(profile)}\n`);
    });
}

function describeValues(result: IdleGateResult): string {
  const v = result.values;
  const gpus = v.gpus.map((g) => `gpu${g.index} ${fmt(g.utilPct)}%`).join(", ");
  const user =
    v.minutesSinceUserActivity === null
      ? "no user activity recorded"
      : `user last active ${v.minutesSinceUserActivity.toFixed(0)} min ago`;
  return `  over ${v.samples} of ${v.expectedSamples} samples: CPU ${fmt(v.cpuPct)}%, RAM ${fmt(v.ramPct)}%${gpus ? `, ${gpus}` : ""}; ${user}`;
}

/** Progress on stderr for files big enough to take a while; in place on a terminal. */
function progressPrinter(): (p: ImportProgress) => void {
  let lastPct = -1;
  return (p) => {
    if (p.phase === "rolling up" ? p.totalBytes < 200 : p.totalBytes < 1_000_000) return;
    const pct = Math.floor((p.bytes / p.totalBytes) * 100);
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${describe(p)} (${pct}%)${pct === 100 ? "\n" : ""}`);
    } else if (pct >= lastPct + 10 || pct === 100) {
      process.stderr.write(`${describe(p)} (${pct}%)\n`);
    }
    lastPct = pct === 100 ? -1 : pct;
  };
}

function describe(p: ImportProgress): string {
  return p.phase === "rolling up"
    ? `rolling up ${p.lines} of ${p.totalBytes} hours`
    : `${p.phase} ${p.lines} lines`;
}

function fmt(value: number | null): string {
  return value === null ? "–" : value.toFixed(1);
}
