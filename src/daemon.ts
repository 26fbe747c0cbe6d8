import { createGatewayApi } from "./api/index.js";
import { systemClock } from "./clock.js";
import { ensureHome, type LoadedConfig } from "./config.js";
import { type ApiHandler, type Gateway, startGateway } from "./gateway/server.js";
import { embedderFromConfig } from "./knowledge/embedder-config.js";
import { KnowledgeBase } from "./knowledge/kb.js";
import { Ledger } from "./ledger/ledger.js";
import type { PostgresActionLedger } from "./ledger/postgres/action-ledger.js";
import { needsSqliteLedger, selectLedger } from "./ledger/select.js";
import { UserActivity } from "./monitor/activity.js";
import { MonitorStore, startMonitor } from "./monitor/index.js";
import { buildCorrectionHandlers } from "./review/agent-handlers.js";
import { ReviewQueue } from "./review/queue.js";
import { createScheduler } from "./scheduler/create-scheduler.js";

/** A part of the daemon that runs beside the gateway and must stop cleanly on shutdown. */
export interface Service {
  name: string;
  stop(): void | Promise<void>;
}

export interface DaemonOptions {
  /** Override config.server.host / port (the serve command's flags). */
  host?: string;
  port?: number;
  /** Where the daemon says what it is doing; stdout by default. */
  log?: (line: string) => void;
  /** Stop on SIGINT/SIGTERM (the serve command); tests stop the daemon themselves. */
  handleSignals?: boolean;
}

export interface Daemon {
  url: string;
  gateway: Gateway;
  ledger: Ledger;
  /** The PostgreSQL action log the gateway writes to, when ledger.url selects it. */
  shared?: PostgresActionLedger;
  activity: UserActivity;
  services: Service[];
  /** Resolves once the daemon has stopped (after stop() or a signal). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Wires nightshift together for `nightshift serve`: the ledger, user activity, the gateway, and
 * the background services. Each part takes what it needs as arguments; this is the one place
 * that knows them all. Shutdown runs in reverse: stop services, close the gateway (running
 * replies get a few seconds), then flush the ledger's queued writes and close it.
 */
export async function startDaemon(
  loaded: LoadedConfig,
  options: DaemonOptions = {},
): Promise<Daemon> {
  const { config } = loaded;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  ensureHome(loaded.home);
  const ledger = Ledger.open(loaded.dbPath, {
    flushIntervalMs: config.ledger.flush_interval_ms,
    batchSize: config.ledger.batch_size,
    onError: (error, pending) =>
      log(`nightshift: ledger write failed, ${pending} actions kept for retry: ${String(error)}`),
  });
  const activity = new UserActivity(config.monitor.background_agents);
  const services: Service[] = [];
  const selection = selectLedger(config.ledger, loaded.dbPath);

  let gateway: Gateway;
  let shared: PostgresActionLedger | undefined;
  try {
    if (selection.engine === "postgres") {
      const { openSharedLedger } = await import("./ledger/gateway-ledger.js");
      shared = await openSharedLedger({
        selection,
        local: ledger,
        flushIntervalMs: config.ledger.flush_interval_ms,
        batchSize: config.ledger.batch_size,
        log,
      });
    }
    // ── API and dashboard (/v0, /ui): set `api` to the handler. ──
    const handlers = buildCorrectionHandlers({ ledger, config });
    const embedder = embedderFromConfig(config);
    const kb = new KnowledgeBase(ledger, { ...(embedder ? { embedder } : {}), onWarning: log });
    const review = new ReviewQueue(ledger, { handlers });
    const api: ApiHandler = createGatewayApi({
      ledger,
      ...(shared
        ? {
            actionReads: shared.actions,
            needsSqlite: (what: string) => needsSqliteLedger(what, selection),
          }
        : {}),
      kb,
      review,
      handlers,
      config,
      log,
    });

    gateway = await startGateway({
      config,
      ledger: shared ?? ledger,
      activity,
      api,
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
    });

    // ── Background services: start each here and push it onto `services`, e.g.
    //    services.push(startSampler({ config, ledger, activity, clock: systemClock }));
    if (config.monitor.enabled) {
      const monitor = startMonitor({
        store: new MonitorStore(ledger.db),
        config,
        clock: systemClock,
        activity,
        log: (message) => log(`nightshift monitor: ${message}`),
      });
      services.push({ name: "monitor", stop: () => monitor.stop() });
    }
    if (config.scheduler.enabled && shared) {
      log(
        "nightshift: the scheduler (audit, retention) is not started: it works only on the SQLite ledger so far",
      );
    } else if (config.scheduler.enabled) {
      // After the monitor, so on shutdown running jobs pause and release their GPUs first.
      const scheduler = createScheduler({
        ledger,
        config,
        home: loaded.home,
        clock: systemClock,
        activity,
        warn: log,
      });
      scheduler.start();
      services.push({ name: "scheduler", stop: () => scheduler.stop() });
    }
  } catch (error) {
    await stopAll(services, log);
    if (shared) await closeShared(shared, ledger, log);
    ledger.close();
    throw error;
  }

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopAll(services, log);
      await gateway.close();
      if (shared) await closeShared(shared, ledger, log);
      ledger.close();
      resolveStopped();
    })();
    return stopping;
  };

  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      log(`nightshift: ${signal}, shutting down`);
      void stop().then(() => {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      });
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }

  log(`nightshift gateway listening on ${gateway.url}`);
  log(`  ledger: ${selection.engine} ${selection.location}`);
  if (shared) log(`  local SQLite (monitor, knowledge, review): ${loaded.dbPath}`);
  for (const upstream of gateway.upstreams.all()) {
    log(`  upstream: ${upstream.url}${upstream.gpu !== null ? ` (gpu ${upstream.gpu})` : ""}`);
  }
  return {
    url: gateway.url,
    gateway,
    ledger,
    ...(shared ? { shared } : {}),
    activity,
    services,
    stopped,
    stop,
  };
}

async function closeShared(
  shared: PostgresActionLedger,
  local: Ledger,
  log: (line: string) => void,
): Promise<void> {
  const { closeSharedLedger } = await import("./ledger/gateway-ledger.js");
  await closeSharedLedger(shared, local, log);
}

async function stopAll(services: Service[], log: (line: string) => void): Promise<void> {
  for (const service of [...services].reverse()) {
    try {
      await service.stop();
    } catch (error) {
      // Keep stopping the others: a stuck sampler must not keep the ledger from being flushed.
      log(`nightshift: stopping ${service.name} failed: ${String(error)}`);
    }
  }
}
