import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ollama } from "ollama";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Daemon, startDaemon } from "../../src/daemon.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { sqliteKnowledgeStore } from "../../src/ledger/sqlite/knowledge.js";
import { ReviewQueue } from "../../src/review/queue.js";
import { buildCorpus } from "../fixtures/finance/corpus.js";
import { seedAuditRun } from "../support/audit-seed.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import {
  defaultScript,
  type ScriptedUpstream,
  startScriptedUpstream,
} from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";
import { launchChromium } from "./browser.js";

// README's screenshots are refreshed with NIGHTSHIFT_SCREENSHOTS=1 npx vitest run test/web; other
// runs still take every screenshot (a page that cannot render fails), into a temporary folder,
// so a test run leaves the work tree clean.
const SCREENSHOTS = process.env.NIGHTSHIFT_SCREENSHOTS
  ? join(import.meta.dirname, "../../docs/screenshots")
  : join(tmpdir(), `nightshift-screenshots-${process.pid}`);
const AGENT = "e2e-mailer";

/** Calls the gateway as an agent would; returns the logged action's id. */
async function chat(daemon: Daemon, content: string, parent?: string): Promise<string> {
  let id = "";
  const client = new Ollama({
    host: daemon.url,
    headers: { "X-Nightshift-Agent": AGENT, ...(parent ? { "X-Nightshift-Parent": parent } : {}) },
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      id = response.headers.get("x-nightshift-action") ?? "";
      return response;
    },
  });
  await client.chat({ model: "qwen2.5:7b", messages: [{ role: "user", content }] });
  // The gateway logs through a batching writer: wait until the action is in the ledger.
  await vi.waitFor(() => {
    daemon.ledger.writer.flush();
    expect(daemon.ledger.actions.get(id)).toBeDefined();
  });
  return id;
}

describe("the dashboard in Chromium", { timeout: 120_000 }, () => {
  const temp = tempHome();
  let upstream: ScriptedUpstream;
  let daemon: Daemon;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let page: Page;
  const shoot = (name: string) =>
    page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    upstream = await startScriptedUpstream();
    const loaded = loadConfig({
      env: { NIGHTSHIFT_HOME: temp.home, NIGHTSHIFT_UPSTREAM: upstream.url },
    });
    loaded.config.monitor.enabled = false;
    loaded.config.ledger.flush_interval_ms = 20;
    daemon = await startDaemon(loaded, { port: 0, log: () => {} });
    ({ context, close: closeBrowser } = await launchChromium());
    page = await context.newPage();
  }, 120_000);
  afterAll(async () => {
    await closeBrowser?.();
    await daemon?.stop();
    await upstream?.close();
    temp.cleanup();
  });

  it("lists calls made through the gateway a moment before, and opens one with its trace", async () => {
    const first = await chat(daemon, "Draft a reply to the landlord about the boiler");
    const second = await chat(daemon, "Make it shorter and more polite", first);
    await page.goto(`${daemon.url}/ui/actions`);
    const table = page.getByTestId("actions-table");
    await expect.poll(() => table.locator("tbody tr").count()).toBe(2);
    await expect.poll(() => table.textContent()).toContain("Make it shorter and more polite");
    expect(await table.textContent()).toContain(AGENT);
    await shoot("actions");

    await table.locator("tbody tr").first().getByRole("link").click();
    await page.getByTestId("trace").waitFor();
    expect(new URL(page.url()).pathname).toBe(`/ui/actions/${second}`);
    expect(await page.locator(".conversation").textContent()).toContain("Make it shorter");
    const trace = page.getByTestId("trace");
    // The child call sits under its parent in the tree.
    await expect.poll(() => trace.locator(`a[href="/ui/actions/${first}"]`).count()).toBe(1);
    const nested = trace.locator("li ul li a", { hasText: "chat" });
    expect(await nested.getAttribute("href")).toBe(`/ui/actions/${second}`);
  });

  it("filters the table by text and status", async () => {
    await page.goto(`${daemon.url}/ui/actions`);
    await page.getByLabel("Text").fill("landlord");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.url()).toContain("q=landlord");
    const rows = page.getByTestId("actions-table").locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByLabel("Status").selectOption("error");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.textContent("main")).toContain("No actions match.");
  });

  it("shows new calls live on the overview", async () => {
    await page.goto(`${daemon.url}/ui/`);
    await page.getByTestId("live-empty").waitFor();
    await expect.poll(() => page.textContent("main")).toContain("Calls by agent and model");
    await chat(daemon, "What is on my calendar tomorrow?");
    const live = page.getByTestId("live");
    await live.waitFor({ timeout: 20_000 });
    expect(await live.textContent()).toContain("What is on my calendar tomorrow?");
    await shoot("overview");
    await page.setViewportSize({ width: 390, height: 844 });
    await shoot("overview-phone");
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it("accepts a review item with the keyboard, and the CLI sees the decision", async () => {
    const actionId = await chat(daemon, "Categorize: STARBUCKS 4.50");
    const queue = new ReviewQueue(new SqliteActionLedger(daemon.ledger, false));
    const { item } = await queue.open({
      kind: "low_confidence_verdict",
      agent: AGENT,
      title: "STARBUCKS 4.50: Coffee rather than Dining?",
      actionId,
      original: { category: "Dining" },
      proposed: { category: "Coffee" },
      reasoning: "Starbucks is a coffee shop; amounts under 10 are drinks.",
      confidence: 0.62,
      openedBy: "audit:e2e",
    });
    await page.goto(`${daemon.url}/ui/review`);
    await page.getByRole("heading", { name: `#${item.id} STARBUCKS` }).waitFor();
    await shoot("review");
    await page.keyboard.press("a");
    await expect.poll(() => page.textContent("main")).toContain("Nothing waits for review.");
    const cli = await runCliInProcess(temp.home, ["review", "show", String(item.id), "--json"]);
    expect(cli.stderr).toBe("");
    expect(JSON.parse(cli.stdout)).toMatchObject({
      id: item.id,
      status: "accepted",
      decided_by: "dashboard",
    });
  });

  it("validates an edited output before it can be saved", async () => {
    const queue = new ReviewQueue(new SqliteActionLedger(daemon.ledger, false));
    const { item } = await queue.open({
      kind: "low_confidence_verdict",
      agent: AGENT,
      title: "TESCO 23.10: Groceries?",
      original: { category: "Shopping" },
      proposed: { category: "Groceries" },
      confidence: 0.5,
      openedBy: "audit:e2e",
    });
    await page.goto(`${daemon.url}/ui/review?item=${item.id}`);
    await page.getByRole("heading", { name: `#${item.id} TESCO` }).waitFor();
    await page.keyboard.press("e");
    const editor = page.getByLabel("Corrected output (JSON)");
    await editor.fill('{"category": "Groceries",}');
    await expect.poll(() => page.getByRole("status").textContent()).toMatch(/Not valid JSON/);
    expect(await page.getByRole("button", { name: "Save edit" }).isDisabled()).toBe(true);
    await editor.fill('{"category": "Food"}');
    await page.getByRole("button", { name: "Save edit" }).click();
    await expect.poll(async () => (await queue.get(item.id))?.status).toBe("edited");
    expect((await queue.get(item.id))?.decisionOutput).toEqual({ category: "Food" });
  });

  it("rolls back a knowledge entry, and `kb history` shows the rollback", async () => {
    const kb = new KnowledgeBase(sqliteKnowledgeStore(daemon.ledger));
    const person = { kind: "person" as const, ref: "sam" };
    await kb.put({ scope: AGENT, key: "tone", content: "Write formally.\nSign as Sam." }, person);
    await kb.put({ scope: AGENT, key: "tone", content: "Write casually.\nSign as Sam." }, person);
    await page.goto(`${daemon.url}/ui/kb?q=casually`);
    await page.getByRole("link", { name: /tone/ }).click();
    await page.getByTestId("diff").waitFor();
    expect(await page.getByTestId("diff").textContent()).toContain("- Write formally.");
    await shoot("knowledge");
    await page.getByRole("button", { name: "Roll back to v1" }).click();
    await expect.poll(() => page.textContent("main")).toContain("rollback to v1");
    const cli = await runCliInProcess(temp.home, ["kb", "history", "tone", "--json"]);
    expect(cli.stderr).toBe("");
    const versions = JSON.parse(cli.stdout) as { version: number; content: string; note: string }[];
    expect(versions.at(-1)).toMatchObject({
      version: 3,
      content: "Write formally.\nSign as Sam.",
      note: "rollback to v1",
      provenance: { kind: "person", ref: "dashboard" },
    });
  });

  it("renders the quiet-hours heatmap from imported monitor history", async () => {
    const now = Date.now();
    const lines: string[] = [];
    for (let t = now - 14 * 86_400_000; t < now; t += 600_000) {
      const hour = new Date(t).getHours();
      const quiet = hour >= 1 && hour < 6;
      const gpus = [{ index: 0, util_pct: quiet ? 1 : 55, mem_used_mb: 6000, mem_total_mb: 24000 }];
      lines.push(
        JSON.stringify({ ts: t, cpu_pct: quiet ? 2 : 40, ram_pct: 30, gpus, user_active: !quiet }),
      );
    }
    const file = join(temp.home, "history.ndjson");
    writeFileSync(file, `${lines.join("\n")}\n`);
    expect((await runCliInProcess(temp.home, ["monitor", "import", file])).code).toBe(0);

    await page.goto(`${daemon.url}/ui/machine?range=7d`);
    const heatmap = page.getByTestId("heatmap");
    await heatmap.waitFor();
    expect(await heatmap.locator("tbody tr").count()).toBe(7);
    expect(await heatmap.locator("td.cell").count()).toBe(7 * 24);
    // Quiet 01:00–06:00 every day: the 03:00 cell is the darkest shade, 14:00 the lightest.
    const row = heatmap.locator("tbody tr").first().locator("td.cell");
    expect(await row.nth(3).getAttribute("class")).toContain("shade-9");
    expect(await row.nth(14).getAttribute("class")).toContain("shade-0");
    expect(await heatmap.locator("td.window").count()).toBeGreaterThan(0);
    await page.locator(".chart canvas").first().waitFor();
    // CPU and RAM, and GPU 0; the imported history has no disk readings, so no disk chart.
    expect(await page.locator(".chart figcaption").allTextContents()).toEqual([
      "CPU and RAM",
      "GPU 0",
    ]);
    await shoot("machine");
  });

  it("shows each job with what blocks it", async () => {
    await page.goto(`${daemon.url}/ui/jobs`);
    const audit = page.getByRole("region", { name: /^audit/ });
    await audit.waitFor();
    // A few calls are far under the audit's minimum backlog of 100.
    const blockers = await audit.getByRole("listitem").allTextContents();
    expect(blockers.some((b) => /^backlog \d < 100$/.test(b))).toBe(true);
    expect(await audit.getByRole("button", { name: "Run now" }).isDisabled()).toBe(true);
    await shoot("jobs");
  });

  it("shows an imported statement as reconciled and recategorizes a transaction in place", async () => {
    const corpus = join(temp.home, "corpus");
    mkdirSync(corpus, { recursive: true });
    await buildCorpus(corpus);
    expect(
      (await runCliInProcess(temp.home, ["finance", "import", join(corpus, "card.pdf")])).code,
    ).toBe(0);
    await page.goto(`${daemon.url}/ui/finance`);
    const rows = page.getByTestId("transactions").locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(7);
    expect(await page.getByTestId("statements").textContent()).toContain("reconciled");
    const category = page.getByLabel(/^Category of TRADER JOE'S/);
    await category.fill("groceries");
    await rows.filter({ has: category }).getByRole("button", { name: "Save" }).click();
    await expect.poll(() => rows.filter({ has: category }).textContent()).toContain("person");
    await shoot("finance");
    const cli = await runCliInProcess(temp.home, ["finance", "transactions", "--json"]);
    const joes = (JSON.parse(cli.stdout) as Record<string, unknown>[]).find((t) =>
      String(t.description).startsWith("TRADER JOE'S"),
    );
    expect(joes).toMatchObject({ category: "groceries", category_source: "person" });
  });

  it("is readable in dark mode", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(`${daemon.url}/ui/`);
    await page.getByTestId("live-empty").waitFor();
    const background = await page.evaluate("getComputedStyle(document.body).backgroundColor");
    expect(background).toBe("rgb(13, 17, 23)");
    await shoot("overview-dark");
    await page.emulateMedia({ colorScheme: "light" });
  });
  it("draws the learning curve and the reliability chart of the night shift", async () => {
    // Two weeks of audits in which the agent gets better: fewer wrong answers each day.
    const DAY = 86_400_000;
    // At local noon, so each day's ten calls fall on that day whatever the time now.
    const noon = new Date();
    noon.setHours(12, 0, 0, 0);
    for (let daysAgo = 14; daysAgo >= 1; daysAgo--) {
      const at = noon.getTime() - daysAgo * DAY;
      const calls = daemon.ledger.actions.insert(
        Array.from({ length: 10 }, (_, i) => ({
          agent: "finance",
          actionType: "categorize",
          model: "qwen2.5:7b",
          startedAt: at + i * 60_000,
          status: "ok" as const,
          confidence: 0.5 + (i / 10) * 0.49,
        })),
      );
      const wrong = Math.ceil(daysAgo / 3);
      await seedAuditRun(
        daemon.ledger,
        at + 3_600_000,
        calls.map((c, i) => ({
          actionId: c.id,
          agent: "finance",
          startedAt: c.startedAt,
          confidenceBefore: c.confidence!,
          verdict: i < wrong ? ("incorrect" as const) : ("correct" as const),
          original: { category: "Dining" },
          corrected: { category: "Coffee" },
        })),
      );
    }
    const api = (await (await fetch(`${daemon.url}/v0/audit/learning-curve`)).json()) as {
      days: { error_rate: number }[];
    };
    expect(api.days).toHaveLength(14);
    expect(api.days[0]!.error_rate).toBe(0.5);

    await page.goto(`${daemon.url}/ui/night`);
    const curve = page.getByTestId("learning-curve");
    await curve.locator("canvas").waitFor();
    expect(await curve.textContent()).toMatch(/actions reviewed over \d+ days/);
    const reliability = page.getByTestId("reliability");
    await reliability.locator("canvas").waitFor();
    expect(await reliability.locator(".u-legend").textContent()).toContain("perfectly calibrated");
    const buckets = page.getByTestId("calibration").locator("tbody tr");
    expect(await buckets.count()).toBe(5);
    // The lowest bucket (0.5 to 0.7 here) holds the wrong answers.
    expect(await buckets.nth(1).textContent()).toMatch(/\d+ %/);
    await shoot("night");
  });
  it("shows an action's audit verdict and correction, and replays it with another model", async () => {
    upstream.setScript((r) => ({
      content: `Category: ${r.model === "qwen2.5:14b" ? "Coffee" : "Dining"}\nMerchant: STARBUCKS`,
    }));
    const id = await chat(daemon, "Categorize: STARBUCKS 4.50");
    const action = daemon.ledger.actions.get(id)!;
    await seedAuditRun(daemon.ledger, Date.now(), [
      {
        actionId: id,
        agent: AGENT,
        startedAt: action.startedAt,
        confidenceBefore: 0.58,
        verdict: "incorrect",
        original: { category: "Dining" },
        corrected: { category: "Coffee" },
      },
    ]);
    await page.goto(`${daemon.url}/ui/actions/${id}`);
    const audit = page.getByTestId("audit");
    await audit.waitFor();
    expect(await audit.textContent()).toMatch(/incorrect → corrected/);
    expect(await audit.textContent()).toContain("agent's confidence 58 %");
    const correction = page.getByTestId("correction");
    expect(await correction.textContent()).toContain('"category": "Coffee"');
    expect(await correction.textContent()).toContain(`waiting for ${AGENT}`);

    await page.getByLabel("Replay with").selectOption("model");
    await page.getByLabel("Model", { exact: true }).fill("qwen2.5:14b");
    await page.getByRole("button", { name: "Replay" }).click();
    const diff = page.getByTestId("replay-diff");
    await diff.waitFor({ timeout: 30_000 });
    expect(await diff.locator(".d-del").allTextContents()).toEqual(["- Category: Dining"]);
    expect(await diff.locator(".d-add").allTextContents()).toEqual(["+ Category: Coffee"]);
    // The replay is a call of its own in the ledger, asked of the other model.
    const href = await page.getByTestId("replay-result").getByRole("link").getAttribute("href");
    const replay = daemon.ledger.actions.get(href!.replace("/ui/actions/", ""));
    expect(replay?.model).toBe("qwen2.5:14b");
    expect(upstream.requests.at(-1)?.body).toMatchObject({ model: "qwen2.5:14b" });
    await shoot("action");
    upstream.setScript(defaultScript);
  });
});
