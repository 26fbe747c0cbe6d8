import { type ChildProcess, spawn } from "node:child_process";
import { Ollama } from "ollama";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { postgresMigrations } from "../../src/ledger/postgres/migrate.js";
import { CLI } from "../support/cli.js";
import { runCliInProcess } from "../support/cli-in-process.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";
import { waitFor } from "../support/wait-for.js";

interface DaemonProcess {
  child: ChildProcess;
  url: string;
  ledgerUrl: string;
  output: () => string;
}

function startDaemon(home: string, upstream: string, ledgerUrl: string): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [...CLI, "serve", "--port", "0", "--upstream", upstream], {
    env: { ...process.env, NIGHTSHIFT_HOME: home, NIGHTSHIFT_LEDGER_URL: ledgerUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      // The start-up report ends with its ledger line, which may arrive in a later chunk.
      if (match && /\n {2}ledger: .*\n/.test(output)) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, ledgerUrl, output: () => output });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`daemon exited with ${code}:\n${output}`)));
  });
}

/**
 * A command line on one of the machines: its own data dir, the shared database. Run in this
 * process (the daemons are the processes here); the machines differ by what they are given.
 */
async function cli(home: string, args: string[], env: Record<string, string>) {
  const { code, stdout, stderr } = await runCliInProcess(home, args, env);
  return { stdout, stderr, status: code };
}

/** Sends `count` chats through a daemon as `agent`; returns the action ids it answered with. */
async function chat(url: string, agent: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const client = new Ollama({
    host: url,
    headers: { "X-Nightshift-Agent": agent },
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      ids.push(response.headers.get("x-nightshift-action")!);
      return response;
    },
  });
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      client.chat({ model: "qwen2.5:7b", messages: [{ role: "user", content: `n ${i}` }] }),
    ),
  );
  return ids;
}

/** Waits (bounded) until every id is in the shared ledger; returns those still missing. */
async function waitForIds(db: pg.Client, ids: string[]): Promise<string[]> {
  let missing = ids;
  const landed = async () => {
    const { rows } = await db.query<{ id: string }>("SELECT id FROM actions WHERE id = ANY($1)", [
      missing,
    ]);
    const found = new Set(rows.map((r) => r.id));
    missing = missing.filter((id) => !found.has(id));
    return missing.length === 0 ? true : undefined;
  };
  // On timeout the caller's assertion names the ids still missing.
  await waitFor("every action in the shared ledger", landed, 30_000).catch(() => undefined);
  return missing;
}

/**
 * A review item on a shared action, decided through both daemons' APIs at once: one wins, the
 * other gets a conflict naming the winner, and the decision reaches the plain agent through
 * either daemon.
 */
async function decideOnceAcrossDaemons(a: DaemonProcess, b: DaemonProcess, actionId: string) {
  const stores = await PostgresActionLedger.open(a.ledgerUrl);
  const { item } = await stores.review.items.open(
    {
      kind: "audit_unsure",
      agent: "alpha",
      actionId,
      title: "reply tone",
      original: "hi",
      proposed: "Hello!",
      openedBy: "test",
    },
    Date.now(),
  );
  await stores.close();
  const decide = (d: DaemonProcess, decision: string, by: string) =>
    fetch(`${d.url}/v0/review/${item.id}/${decision}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ by, ...(decision === "edit" ? { output: "Hey!" } : {}) }),
    });
  const answers = await Promise.all([decide(a, "accept", "ann"), decide(b, "edit", "bob")]);
  expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
  const winner = answers[0]!.status === 200 ? "ann" : "bob";
  const loser = (await answers.find((r) => r.status === 409)!.json()) as { error: string };
  expect(loser.error).toMatch(new RegExp(`already (accepted|edited) by ${winner}`));
  const shown = (await (await fetch(`${b.url}/v0/review/${item.id}`)).json()) as {
    decided_by: string;
  };
  expect(shown.decided_by).toBe(winner);
  const pending = (await (await fetch(`${a.url}/v0/corrections?agent=alpha`)).json()) as {
    corrections: { id: string; corrected: unknown }[];
  };
  expect(pending.corrections).toEqual([
    expect.objectContaining({
      id: `review-${item.id}`,
      corrected: winner === "ann" ? "Hello!" : "Hey!",
    }),
  ]);
}

describe.skipIf(postgresUrl === null)("two daemons sharing one PostgreSQL ledger", () => {
  let upstream: ScriptedUpstream;
  let ledgerUrl: string;
  let db: pg.Client;
  const homeA = tempHome();
  const homeB = tempHome();
  const daemons: DaemonProcess[] = [];

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    const url = new URL(await createTestDatabase("two_daemons"));
    url.password = "s3cret-pass";
    ledgerUrl = url.toString();
    db = new pg.Client(ledgerUrl);
    await db.connect();
  }, 60_000);
  afterAll(async () => {
    for (const d of daemons) d.child.kill("SIGKILL");
    await db?.end();
    await upstream?.close();
    homeA.cleanup();
    homeB.cleanup();
  });

  it("logs calls through both, and kill -9 of one loses nothing the other logged", async () => {
    // Started together: both run the migrations, which the advisory lock serializes.
    const [a, b] = await Promise.all([
      startDaemon(homeA.home, upstream.url, ledgerUrl),
      startDaemon(homeB.home, upstream.url, ledgerUrl),
    ]);
    daemons.push(a, b);
    expect(a.output()).toContain("ledger: postgres");
    expect(a.output()).not.toContain("s3cret-pass");

    const [fromA, fromB] = await Promise.all([chat(a.url, "alpha", 20), chat(b.url, "beta", 20)]);
    expect(await waitForIds(db, [...fromA, ...fromB])).toEqual([]);
    // Each daemon's API reads what the other logged.
    const listed = (await (await fetch(`${b.url}/v0/actions?agent=alpha&limit=50`)).json()) as {
      actions: { id: string }[];
    };
    expect(listed.actions.map((x: { id: string }) => x.id).sort()).toEqual([...fromA].sort());
    await decideOnceAcrossDaemons(a, b, fromA[0]!);

    const exited = new Promise((resolve) => a.child.once("exit", resolve));
    a.child.kill("SIGKILL");
    await exited;
    const afterKill = await chat(b.url, "beta", 20);
    const stopped = new Promise((resolve) => b.child.once("exit", resolve));
    b.child.kill("SIGTERM");
    await stopped;

    const { rows } = await db.query<{ agent: string; n: number }>(
      "SELECT agent, count(*)::int AS n FROM actions GROUP BY agent ORDER BY agent",
    );
    expect(rows).toEqual([
      { agent: "alpha", n: 20 },
      { agent: "beta", n: 40 },
    ]);
    expect(await waitForIds(db, afterKill)).toEqual([]);
    const migrations = await db.query("SELECT version FROM schema_migrations");
    expect(migrations.rows.map((r) => r.version)).toEqual(
      postgresMigrations().map((m) => m.version),
    );
  }, 180_000);

  it("lists, shows and counts the shared actions from the command line, password masked", async () => {
    const env = { NIGHTSHIFT_LEDGER_URL: ledgerUrl };
    const listed = await cli(homeA.home, ["actions", "--agent", "beta", "--json"], env);
    expect(listed.stderr).toBe("");
    const actions = JSON.parse(listed.stdout) as { id: string; agent: string }[];
    expect(actions).toHaveLength(40);
    const shown = await cli(homeA.home, ["actions", "show", actions[0]!.id.slice(0, 20)], env);
    expect(shown.stdout).toContain(`id         ${actions[0]!.id}`);

    const status = await cli(homeA.home, ["status"], env);
    expect(status.stdout).toMatch(
      /^ledger {6}postgres postgres:\/\/nightshift:\*\*\*@127\.0\.0\.1:\d+\/ns_two_daemons_\w+, .*, 60 actions$/m,
    );
    expect(status.stdout).not.toContain("s3cret-pass");
  }, 120_000);

  it("decides a shared review item once from the command line of either machine", async () => {
    const env = { NIGHTSHIFT_LEDGER_URL: ledgerUrl };
    const stores = await PostgresActionLedger.open(ledgerUrl);
    const { item } = await stores.review.items.open(
      {
        kind: "other",
        agent: "beta",
        title: "tone of the reply",
        original: "hi",
        proposed: "Hello!",
        openedBy: "test",
      },
      Date.now(),
    );
    await stores.close();
    const listed = await cli(homeB.home, ["review", "--json"], env);
    expect(listed.stderr).toBe("");
    expect((JSON.parse(listed.stdout) as { id: number }[]).map((i) => i.id)).toContain(item.id);
    const accepted = await cli(
      homeA.home,
      ["review", "accept", String(item.id), "--by", "ann"],
      env,
    );
    expect(accepted.stderr).toBe("");
    expect(accepted.stdout).toMatch(new RegExp(`^#${item.id} accepted: queued for agent "beta"`));
    const again = await cli(homeB.home, ["review", "reject", String(item.id), "--by", "bob"], env);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(
      new RegExp(`review item ${item.id} was already accepted by ann at .*; a decision is final`),
    );
  }, 120_000);

  it("replays on one machine a call the other machine's gateway logged, into the shared ledger", async () => {
    const { rows: logged } = await db.query<{ id: string }>(
      "SELECT id FROM actions WHERE agent = 'alpha' AND action_type = 'chat' ORDER BY id LIMIT 1",
    );
    const original = logged[0]!.id;
    const result = await cli(homeB.home, ["replay", original, "--json"], {
      NIGHTSHIFT_LEDGER_URL: ledgerUrl,
      NIGHTSHIFT_UPSTREAM: upstream.url,
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const replay = JSON.parse(result.stdout) as { original_id: string; replay_id: string };
    expect(replay.original_id).toBe(original);
    const { rows } = await db.query(
      "SELECT parent_id, action_type, agent FROM actions WHERE id = $1",
      [replay.replay_id],
    );
    expect(rows).toEqual([{ parent_id: original, action_type: "replay", agent: "alpha" }]);
  }, 60_000);
});
