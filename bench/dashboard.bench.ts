import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { loadConfig } from "../src/config.js";
import { startDaemon } from "../src/daemon.js";
import { newActionId, newTraceId } from "../src/ledger/ids.js";
import { Ledger } from "../src/ledger/ledger.js";
import { buildAssets } from "../src/web/build-assets.mjs";
import { launchChromium } from "../test/web/browser.js";

// The dashboard on a big ledger: the JavaScript a browser downloads, the API calls the pages
// make, and the first meaningful paint of the Overview and Actions pages in Chromium (from
// navigation start to the first row of data on screen). Goals: <= 250 KB gzipped, <= 1 s.
// ACTIONS=200000 npm run bench -- dashboard for a quicker run.

const TOTAL = Number(process.env.ACTIONS ?? 1_000_000);
const DAYS = 90;
const DAY_MS = 86_400_000;
const RUNS = 5;

function seed(ledger: Ledger, now: number): void {
  const insert = ledger.db.prepare(
    `INSERT INTO actions (id, trace_id, agent, action_type, model, started_at, ended_at, latency_ms,
       status, error, request, response, confidence, flags, tokens_in, tokens_out, audit_status)
     VALUES (?, ?, ?, 'chat', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const flag = ledger.db.prepare(
    "INSERT INTO action_flags (flag, started_at, action_id) VALUES ('low_confidence', ?, ?)",
  );
  const agents = ["finance", "calendar", "research", "code", "chat"];
  const models = ["qwen2.5:7b", "qwen2.5:14b", "llama3.1:8b"];
  const batch = ledger.db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const startedAt = now - DAYS * DAY_MS + Math.floor((i / TOTAL) * DAYS * DAY_MS);
      const latency = 150 + ((i * 7919) % 2500);
      const error = i % 211 === 0;
      const flagged = i % 23 === 0;
      const id = newActionId(startedAt);
      insert.run(
        id,
        newTraceId(startedAt),
        agents[i % agents.length],
        models[i % models.length],
        startedAt,
        startedAt + latency,
        latency,
        error ? "error" : "ok",
        error ? "upstream closed the connection" : null,
        JSON.stringify({
          model: models[i % models.length],
          messages: [
            { role: "user", content: `Request ${i}: categorize ${"this line. ".repeat(12)}` },
          ],
        }),
        JSON.stringify({ message: { role: "assistant", content: `Answer ${i}: groceries.` } }),
        0.5 + (i % 50) / 100,
        flagged ? '["low_confidence"]' : "[]",
        300 + (i % 300),
        20 + (i % 80),
        i % 3 === 0 ? "verified" : null,
      );
      if (flagged) flag.run(startedAt, id);
    }
  });
  for (let from = 0; from < TOTAL; from += 20_000) {
    batch(from, Math.min(TOTAL, from + 20_000));
    if (from % 200_000 === 0) process.stderr.write(`seeded ${from} of ${TOTAL}\n`);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timeApi(base: string, path: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const response = await fetch(`${base}${path}`);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    times.push(performance.now() - t0);
  }
  return median(times);
}

const home = mkdtempSync(join(tmpdir(), "nightshift-dashboard-bench-"));
const now = Date.now();
const t0 = performance.now();
const seedLedger = Ledger.open(join(home, "nightshift.db"));
seed(seedLedger, now);
seedLedger.db.exec("ANALYZE");
seedLedger.close();
process.stderr.write(
  `seeded ${TOTAL} actions in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
);

const manifest = await buildAssets({ quiet: true });
const kb = (names: string[]) => names.reduce((sum, n) => sum + manifest.gzip_bytes[n]!, 0) / 1024;
const allJs = Object.values(manifest.files).filter((n) => n.endsWith(".js"));
const jsKb = kb(allJs);
const initialJsKb = kb([manifest.files["app.js"]!, ...manifest.preload]);
const cssKb = kb([manifest.files["app.css"]!]);
const loaded = loadConfig({
  // Nothing listens on port 9: the overview's upstream check fails at once, as for a dead server.
  env: { NIGHTSHIFT_HOME: home, NIGHTSHIFT_UPSTREAM: "http://127.0.0.1:9" },
});
loaded.config.monitor.enabled = false;
loaded.config.scheduler.enabled = false;
const daemon = await startDaemon(loaded, { port: 0, log: () => {} });
const { context, close } = await launchChromium();
const result: Record<string, number> = {};
const load = loadavg()[0]!;
try {
  const api = {
    overview: "/v0/overview",
    actions_page: "/v0/actions?view=summary&limit=50",
    actions_agent: "/v0/actions?view=summary&limit=50&agent=calendar",
    actions_model: "/v0/actions?view=summary&limit=50&model=llama3.1:8b",
    actions_errors: "/v0/actions?view=summary&limit=50&status=error",
    actions_flag: "/v0/actions?view=summary&limit=50&flag=low_confidence",
    actions_unaudited: "/v0/actions?view=summary&limit=50&audit_status=none&since=7d",
    actions_text_recent: "/v0/actions?view=summary&limit=50&q=request%20999",
  };
  for (const [name, path] of Object.entries(api)) {
    result[`api_${name}_ms`] = Math.round(await timeApi(daemon.url, path));
  }
  // From navigation start to the selector on screen: the first time in a new tab (a renderer
  // process starts), then as reloads in that tab.
  // Also how long of it the page waited on /v0: the rest is the browser's own work, which is
  // what a loaded machine starves first.
  const waits: Record<string, number[]> = {};
  const paint = async (page: Page, path: string, selector: string): Promise<number> => {
    await page.goto(`${daemon.url}${path}`, { waitUntil: "commit" });
    await page.waitForSelector(selector, { timeout: 60_000 });
    const ms = (await page.evaluate("performance.now()")) as number;
    const wait = (await page.evaluate(
      "performance.getEntriesByType('resource').filter(e => e.name.includes('/v0/') && !e.name.includes('/v0/events')).reduce((t, e) => t + e.duration, 0)",
    )) as number;
    waits[path] = [...(waits[path] ?? []), wait];
    if (process.env.TRACE_PAINT) {
      const entries = await page.evaluate(
        "JSON.stringify([...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].map(e => [e.name.slice(-40), Math.round(e.startTime), Math.round(e.responseEnd)]))",
      );
      process.stderr.write(`${path} ${Math.round(ms)} ms: ${entries}\n`);
    }
    return ms;
  };
  for (const [name, path, selector] of [
    ["overview", "/ui/", ".stat-value"],
    ["actions", "/ui/actions", "[data-testid=actions-table] tbody tr"],
  ] as const) {
    const page = await context.newPage();
    result[`paint_${name}_first_ms`] = Math.round(await paint(page, path, selector));
    const reloads: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await page.goto("about:blank");
      reloads.push(await paint(page, path, selector));
    }
    result[`paint_${name}_median_ms`] = Math.round(median(reloads));
    result[`paint_${name}_api_wait_median_ms`] = Math.round(median(waits[path] ?? [0]));
    await page.close();
  }
} finally {
  await close();
  await daemon.stop();
  rmSync(home, { recursive: true, force: true });
}

process.stdout.write(
  `dashboard (${cpus().length} cores, ${cpus()[0]?.model ?? "?"}, node ${process.version}, load ${load.toFixed(1)}), ${TOTAL} actions over ${DAYS} days\n` +
    `JavaScript shipped: ${jsKb.toFixed(1)} KB gzipped in all (goal 250), ${initialJsKb.toFixed(1)} KB before the first paint; CSS ${cssKb.toFixed(1)} KB\n` +
    `first meaningful paint: Overview ${result.paint_overview_first_ms} ms in a new tab, ${result.paint_overview_median_ms} ms median reload; ` +
    `Actions ${result.paint_actions_first_ms} ms new tab, ${result.paint_actions_median_ms} ms reload (goal 1000)\n` +
    `  of which waiting on /v0: Overview ${result.paint_overview_api_wait_median_ms} ms, Actions ${result.paint_actions_api_wait_median_ms} ms (median)\n` +
    Object.entries(result)
      .filter(([k]) => k.startsWith("api_"))
      .map(([k, v]) => `  ${k.slice(4, -3)}: ${v} ms`)
      .join("\n") +
    "\n",
);
process.stdout.write(
  `${JSON.stringify({ bench: "dashboard", actions: TOTAL, load: +load.toFixed(1), js_gzip_kb: +jsKb.toFixed(1), js_initial_gzip_kb: +initialJsKb.toFixed(1), css_gzip_kb: +cssKb.toFixed(1), ...result })}\n`,
);
