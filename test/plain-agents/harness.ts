import { createGatewayApi } from "../../src/api/index.js";
import type { Clock } from "../../src/clock.js";
import { type Config, parseConfig } from "../../src/config.js";
import { type Gateway, startGateway } from "../../src/gateway/server.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import type { Action } from "../../src/ledger/actions.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";
import { UserActivity } from "../../src/monitor/activity.js";
import { buildCorrectionHandlers } from "../../src/review/agent-handlers.js";
import type { CorrectionHandlers } from "../../src/review/handlers.js";
import { ReviewQueue } from "../../src/review/queue.js";
import { Telemetry } from "../../src/telemetry/telemetry.js";
import { waitForAction } from "../gateway/harness.js";
import type { TestEngine } from "../support/engines.js";
import {
  type ScriptedUpstream,
  type ScriptedUpstreamOptions,
  startScriptedUpstream,
} from "../support/scripted-upstream.js";
import { tempHome } from "../support/temp-ledger.js";
import { waitFor } from "../support/wait-for.js";

export interface PlainHarness {
  upstream: ScriptedUpstream;
  gateway: Gateway;
  /** The local SQLite ledger (the gateway's on SQLite; the capabilities not on the seam). */
  ledger: Ledger;
  /** The selected engine's stores: the review queue, feedback and deliveries live here. */
  stores: LedgerStores;
  config: Config;
  review: ReviewQueue;
  handlers: CorrectionHandlers;
  telemetry: Telemetry;
  /** A second connection to the same ledger, as another daemon has (close it yourself). */
  openSecond(): Promise<LedgerStores>;
  /** The PostgreSQL URL when that engine runs the ledger (a CLI's NIGHTSHIFT_LEDGER_URL). */
  ledgerUrl: string | null;
  home: string;
  /** The gateway's URL plus a path, with the token header when one is set. */
  api(path: string, init?: RequestInit): Promise<Response>;
  waitForAction(id: string): Promise<Action>;
  /** Idempotent; `removeHome: false` keeps the data dir for a CLI run (remove it yourself). */
  close(removeHome?: boolean): Promise<void>;
}

/**
 * The daemon's parts as startDaemon wires them (ledger with the telemetry commit hook, the
 * correction handlers with plain-agent delivery, the API and /metrics behind the gateway) over
 * a scripted upstream, on port 0.
 */
export async function startPlainHarness(
  options: {
    config?: (upstreamUrl: string) => Record<string, unknown>;
    env?: NodeJS.ProcessEnv;
    clock?: Clock;
    token?: string;
    upstream?: ScriptedUpstreamOptions;
    /** PostgreSQL runs the gateway's log and the review stores on a fresh test database. */
    engine?: TestEngine;
  } = {},
): Promise<PlainHarness> {
  const upstream = await startScriptedUpstream(options.upstream);
  const { home, cleanup } = tempHome();
  const raw = options.config?.(upstream.url) ?? {};
  const config = parseConfig({
    ...raw,
    upstreams: { default: upstream.url, ...(raw.upstreams as object) },
    server: { port: 0, ...(options.token ? { token: options.token } : {}) },
  });
  let telemetry: Telemetry | undefined;
  const ledger = Ledger.open(`${home}/nightshift.db`, {
    flushIntervalMs: 5,
    onCommit: (actions) => telemetry?.onCommit(actions),
  });
  const clock = options.clock ?? { now: () => Date.now(), sleep: async () => {} };
  telemetry = new Telemetry({ config, ledger, clock, env: options.env ?? {} });
  const shared =
    options.engine?.name === "PostgreSQL" ? await options.engine.open("plain_agents") : undefined;
  const stores = shared?.stores ?? new SqliteActionLedger(ledger, false);
  const handlers = buildCorrectionHandlers({ stores, config, clock });
  const review = new ReviewQueue(stores, { handlers, clock });
  const kb = new KnowledgeBase(stores.knowledge);
  const api = createGatewayApi({
    ledger,
    ...(shared ? { stores, actionReads: stores.actions } : {}),
    kb,
    review,
    handlers,
    config,
    clock,
    telemetry,
  });
  const gateway = await startGateway({
    config,
    ledger: shared ? (stores as Parameters<typeof startGateway>[0]["ledger"]) : ledger,
    activity: new UserActivity([]),
    api,
  });
  const auth: Record<string, string> = options.token
    ? { authorization: `Bearer ${options.token}` }
    : {};
  let closed = false;
  return {
    upstream,
    gateway,
    ledger,
    stores,
    config,
    review,
    handlers,
    telemetry,
    home,
    async openSecond() {
      if (shared?.url) return PostgresActionLedger.open(shared.url, { flushIntervalMs: 5 });
      return new SqliteActionLedger(Ledger.open(`${home}/nightshift.db`, { flushIntervalMs: 5 }));
    },
    api: (path, init = {}) =>
      fetch(`${gateway.url}${path}`, {
        ...init,
        headers: { ...auth, ...(init.headers as Record<string, string> | undefined) },
      }),
    ledgerUrl: shared?.url ?? null,
    waitForAction: (id) =>
      shared
        ? waitFor(`action ${id} in the shared ledger`, async () => {
            await stores.writer.flush();
            return stores.actions.get(id);
          })
        : waitForAction(ledger, id),
    async close(removeHome = true) {
      if (!closed) {
        closed = true;
        await gateway.close(100);
        await telemetry?.shutdown();
        await upstream.close();
        await shared?.close();
        ledger.close();
      }
      if (removeHome) cleanup();
    },
  };
}

/** POSTs JSON. */
export function postJson(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}
