import { spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../src/config.js";
import { Ledger } from "../src/ledger/ledger.js";
import { PostgresActionLedger } from "../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../src/ledger/sqlite/action-ledger.js";
import type { LedgerStores, MonitorSample } from "../src/ledger/stores/index.js";
import { learnQuietHours } from "../src/monitor/quiet-hours.js";
import { rollUpCompletedHours } from "../src/monitor/rollup.js";
import { Sampler } from "../src/monitor/sampler.js";
import { findPostgresBin, type PostgresCluster, startPostgres } from "../test/support/postgres.js";

// Three figures from issue 4: CPU time per sample (goal ≤ 5 ms), the daemon's memory at rest
// (goal ≤ 100 MB RSS), and quiet-hours analysis over a year of minute samples (goal ≤ 300 ms),
// the last on SQLite and on PostgreSQL side by side (a throwaway cluster, or
// NIGHTSHIFT_BENCH_PG_URL; skipped when neither is there).

const root = fileURLToPath(new URL("..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "nightshift-bench-monitor-"));
const config = parseConfig({});

async function cpuPerSample(env?: NodeJS.ProcessEnv): Promise<number> {
  const ledger = Ledger.open(join(work, `cpu-${env ? "gpu" : "plain"}.db`));
  const store = new SqliteActionLedger(ledger, false).monitor;
  const sampler = new Sampler({ config, ...(env ? { env } : {}), log: () => {} });
  const start = Date.now();
  await sampler.prime(start);
  // Sample times a minute apart, as in the daemon (the rates divide by the interval).
  for (let i = 1; i <= 5; i++) await store.insert(await sampler.sample(start + i * 60_000));
  const n = 200;
  const before = process.cpuUsage();
  for (let i = 6; i < 6 + n; i++) await store.insert(await sampler.sample(start + i * 60_000));
  const used = process.cpuUsage(before);
  ledger.close();
  return (used.user + used.system) / 1000 / n;
}

function rssOf(pid: number | undefined): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) =>
    Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
}

/** RSS of a process that only loads tsx, to tell the loader's share from the daemon's. */
async function tsxBaselineRss(): Promise<number> {
  const script = join(work, "idle.mts");
  writeFileSync(script, "setInterval(() => {}, 1000);\n");
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: root,
    stdio: "ignore",
  });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const { rssMb } = rssOf(child.pid);
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  return rssMb;
}

async function daemonRss(): Promise<{ rssMb: number; hwmMb: number; runner: string }> {
  const home = join(work, "daemon-home");
  const built =
    existsSync(join(root, "dist/monitor/monitor.js")) &&
    readFileSync(join(root, "dist/daemon.js"), "utf8").includes("startMonitor");
  const args = built
    ? [join(root, "dist/cli/main.js"), "serve", "--port", "0"]
    : ["--import", "tsx", join(root, "src/cli/main.ts"), "serve", "--port", "0"];
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "nightshift.yaml"), "monitor:\n  interval_s: 1\n");
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, NIGHTSHIFT_HOME: home },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    const deadline = Date.now() + 60_000;
    let samples = 0;
    while (samples < 5) {
      if (Date.now() > deadline) throw new Error("the daemon took no samples within 60 s");
      if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (!existsSync(join(home, "nightshift.db"))) continue;
      const ledger = Ledger.open(join(home, "nightshift.db"));
      samples = await new SqliteActionLedger(ledger, false).monitor.count();
      ledger.close();
    }
    // "At rest": a few seconds more of sampling with nothing else to do.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return {
      ...rssOf(child.pid),
      runner: built
        ? "node dist/cli/main.js"
        : "node --import tsx src/cli/main.ts (dist not built)",
    };
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}

/** A year of minute samples: a weekday sleeper who games at weekends, with some noise. */
function yearOfSamples(start: number, from: number, to: number): MonitorSample[] {
  const samples: MonitorSample[] = [];
  for (let i = from; i < to; i++) {
    const ts = start + i * 60_000;
    const date = new Date(ts);
    const hour = date.getHours();
    const weekend = date.getDay() === 0 || date.getDay() === 6;
    const quiet = weekend ? hour < 10 : hour < 7 || (hour >= 9 && hour < 17);
    const noise = (i * 7919) % 11;
    samples.push({
      ts,
      cpuPct: quiet ? 2 + noise / 2 : 35 + noise,
      ramPct: 30 + noise,
      ramUsedMb: 9000,
      diskReadBps: 1000,
      diskWriteBps: 5000,
      userActive: !quiet,
      lastActiveAt: quiet ? null : ts,
      gpus: [
        {
          index: 0,
          vendor: "nvidia",
          utilPct: quiet ? 0 : 60,
          memUsedMb: 900,
          memTotalMb: 24564,
          powerW: 30,
          tempC: 40,
        },
      ],
      source: "import",
    });
  }
  return samples;
}

async function quietHoursYear(ledger: LedgerStores) {
  const store = ledger.monitor;
  const minutes = 365 * 24 * 60;
  const now = Date.parse("2026-01-05T00:00:00Z");
  const start = now - minutes * 60_000;
  let t = performance.now();
  for (let i = 0; i < minutes; i += 20_000) {
    await store.insertMany(yearOfSamples(start, i, Math.min(minutes, i + 20_000)));
  }
  const insertS = (performance.now() - t) / 1000;
  t = performance.now();
  const hours = await rollUpCompletedHours(store, now, config.idle);
  const rollupS = (performance.now() - t) / 1000;
  const runs: number[] = [];
  let windows = 0;
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    const profile = await learnQuietHours(store, config, now);
    runs.push(performance.now() - t);
    windows = profile.windows.length;
  }
  await ledger.close();
  runs.sort((a, b) => a - b);
  return { samples: minutes, hours, insertS, rollupS, analysisMs: runs[2]!, windows };
}

/** The same year on PostgreSQL, or null where there is no server to run it on. */
async function postgresYear(): Promise<Awaited<ReturnType<typeof quietHoursYear>> | null> {
  let cluster: PostgresCluster | undefined;
  let url = process.env.NIGHTSHIFT_BENCH_PG_URL;
  if (!url) {
    const bin = findPostgresBin();
    if (!bin) {
      process.stdout.write(
        "PostgreSQL: not installed and NIGHTSHIFT_BENCH_PG_URL unset; skipped\n",
      );
      return null;
    }
    cluster = await startPostgres(bin, true);
    url = cluster.url;
  }
  try {
    return await quietHoursYear(
      await PostgresActionLedger.open(url, { monitorHost: "bench-year" }),
    );
  } finally {
    await cluster?.stop();
  }
}

function fakeNvidiaSmi(): NodeJS.ProcessEnv {
  const bin = join(work, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, "nvidia-smi"),
    "#!/bin/sh\necho '0, 3, 1187, 24564, 28.47, 41'\necho '1, 97, 22016, 24564, 301.12, 78'\n",
  );
  chmodSync(join(bin, "nvidia-smi"), 0o755);
  return { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` };
}

try {
  process.stdout.write(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, node ${process.version}\n`,
  );
  const plain = await cpuPerSample();
  process.stdout.write(
    `CPU per sample (procfs + insert; no GPU tool on PATH): ${plain.toFixed(2)} ms (goal ≤ 5)\n`,
  );
  const withGpu = await cpuPerSample(fakeNvidiaSmi());
  process.stdout.write(
    `CPU per sample with nvidia-smi spawned each time (fake script): ${withGpu.toFixed(2)} ms\n`,
  );
  const daemon = await daemonRss();
  process.stdout.write(
    `daemon RSS at rest: ${daemon.rssMb.toFixed(1)} MB (peak ${daemon.hwmMb.toFixed(1)} MB; goal ≤ 100), via ${daemon.runner}\n`,
  );
  const baseline = daemon.runner.includes("tsx") ? await tsxBaselineRss() : null;
  if (baseline !== null) {
    process.stdout.write(
      `  (an idle node process with only the tsx loader: ${baseline.toFixed(1)} MB; build with \`npm run build\` to measure node dist/cli/main.js)\n`,
    );
  }
  const year = await quietHoursYear(new SqliteActionLedger(Ledger.open(join(work, "year.db"))));
  const describeYear = (engine: string, y: typeof year) =>
    `quiet hours over a year on ${engine}: ${y.samples} minute samples inserted in ${y.insertS.toFixed(1)} s, ${y.hours} hours rolled up in ${y.rollupS.toFixed(1)} s, analysis ${y.analysisMs.toFixed(1)} ms (median of 5; goal ≤ 300), ${y.windows} windows\n`;
  process.stdout.write(describeYear("SQLite", year));
  const pgYear = await postgresYear();
  if (pgYear) process.stdout.write(describeYear("PostgreSQL", pgYear));
  process.stdout.write(
    `${JSON.stringify({
      bench: "monitor",
      cpu_ms_per_sample: Number(plain.toFixed(3)),
      cpu_ms_per_sample_with_nvidia_smi: Number(withGpu.toFixed(3)),
      daemon_rss_mb: Number(daemon.rssMb.toFixed(1)),
      daemon_peak_rss_mb: Number(daemon.hwmMb.toFixed(1)),
      daemon_runner: daemon.runner,
      tsx_baseline_rss_mb: baseline === null ? null : Number(baseline.toFixed(1)),
      quiet_hours_year_ms: Number(year.analysisMs.toFixed(1)),
      year_rollup_s: Number(year.rollupS.toFixed(2)),
      postgres_quiet_hours_year_ms: pgYear ? Number(pgYear.analysisMs.toFixed(1)) : null,
      postgres_year_insert_s: pgYear ? Number(pgYear.insertS.toFixed(2)) : null,
      postgres_year_rollup_s: pgYear ? Number(pgYear.rollupS.toFixed(2)) : null,
    })}\n`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
