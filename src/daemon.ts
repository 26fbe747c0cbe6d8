import { createGatewayApi } from "./api/index.js";
import { assembleApp } from "./app.js";
import { systemClock } from "./clock.js";
import { ensureHome, type LoadedConfig } from "./config.js";
import { removeDaemonRecord, writeDaemonRecord } from "./daemon-record.js";
import { getJson } from "./gateway/merge.js";
import { type Gateway, startGateway } from "./gateway/server.js";
import { boundShutdown, installLastResort } from "./last-resort.js";
import { Ledger } from "./ledger/ledger.js";
import type { PostgresActionLedger } from "./ledger/postgres/action-ledger.js";
import { selectLedger } from "./ledger/select.js";
import { SqliteActionLedger } from "./ledger/sqlite/action-ledger.js";
import type { LedgerStores } from "./ledger/stores/index.js";
import { UserActivity } from "./monitor/activity.js";
import { startMonitor } from "./monitor/index.js";
import { startPlainAgents } from "./plain-agents/service.js";
import { createScheduler } from "./scheduler/create-scheduler.js";
import type { Scheduler } from "./scheduler/scheduler.js";
import type { Telemetry } from "./telemetry/telemetry.js";
import { VERSION } from "./version.js";

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
    inlineBodyBytes: config.ledger.inline_body_bytes,
    onError: (error, pending) =>
      log(`nightshift: ledger write failed, ${pending} actions kept for retry: ${String(error)}`),
    onCommit: (actions) => telemetry?.onCommit(actions),
  });
  let telemetry: Telemetry | undefined;
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
        monitorHost: config.monitor.host,
        log,
        onCommit: (actions) => telemetry?.onCommit(actions),
      });
    }
    const stores: LedgerStores =
      shared ?? new SqliteActionLedger(ledger, false, { monitorHost: config.monitor.host });
    // ── API and dashboard (/v0, /ui): set `api` to the handler. ──
    // Loaded here, not at the top: the OTel SDK and prom-client are for the daemon, not the CLI.
    const { Telemetry } = await import("./telemetry/telemetry.js");
    telemetry = new Telemetry({ config, ledger, stores, clock: systemClock, log });
    services.push(startPlainAgents({ config, ledger: stores, clock: systemClock, log, telemetry }));
    const { kb, review, handlers } = assembleApp(stores, config, {
      clock: systemClock,
      onWarning: log,
    });
    let scheduler: Scheduler | undefined;
    const api = createGatewayApi({
      scheduler: () => scheduler,
      ledger,
      stores,
      ...(shared ? { actionReads: shared.actions } : {}),
      kb,
      review,
      handlers,
      config,
      log,
      telemetry,
    });
    services.push({ name: "dashboard events", stop: () => api.close() });

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
        store: stores.monitor,
        config,
        clock: systemClock,
        activity,
        log: (message) => log(`nightshift monitor: ${message}`),
      });
      services.push({ name: "monitor", stop: () => monitor.stop() });
    }
    if (config.scheduler.enabled) {
      // After the monitor, so on shutdown running jobs pause and release their GPUs first. On
      // PostgreSQL every daemon runs one: runs and leases are coordinated in the shared ledger.
      scheduler = createScheduler({
        stores,
        monitor: stores.monitor,
        config,
        home: loaded.home,
        clock: systemClock,
        activity,
        warn: log,
        onDecision: (d) => log(`nightshift scheduler: ${d.job}: ${d.decision}: ${d.reason}`),
      });
      scheduler.start();
      const started = scheduler;
      services.push({ name: "scheduler", stop: () => started.stop() });
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
      removeDaemonRecord(loaded.home);
      resolveStopped();
    })();
    return stopping;
  };

  if (options.handleSignals) {
    const uninstall = installLastResort({ ledger, log });
    void stopped.then(uninstall);
    const onSignal = (signal: NodeJS.Signals) => {
      log(`nightshift: ${signal}, shutting down`);
      const stopping = stop();
      boundShutdown(stopping, { ledger, log });
      void stopping.then(() => {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      });
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }

  recordDaemon(loaded, gateway, log);
  log(`nightshift gateway listening on ${gateway.url}`);
  log(`  ledger: ${selection.engine} ${selection.location}`);
  if (shared) log(`  local SQLite (finance, audit, retention): ${loaded.dbPath}`);
  for (const upstream of gateway.upstreams.all()) {
    log(`  upstream: ${upstream.url}${upstream.gpu !== null ? ` (gpu ${upstream.gpu})` : ""}`);
  }
  void warnUnansweredUpstreams(gateway, log);
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

/** daemon.json in the data dir: where `nightshift status` finds this daemon. */
function recordDaemon(loaded: LoadedConfig, gateway: Gateway, log: (line: string) => void): void {
  const address = new URL(gateway.url);
  try {
    writeDaemonRecord(loaded.home, {
      pid: process.pid,
      url: gateway.url,
      host: address.hostname.replace(/^\[|\]$/g, ""),
      port: Number(address.port),
      version: VERSION,
      started_at: new Date(systemClock.now()).toISOString(),
      upstreams: loaded.config.upstreams,
    });
  } catch (error) {
    // The daemon serves without it; only `status` loses the way to find it.
    log(`nightshift: cannot write the daemon record in ${loaded.home}: ${String(error)}`);
  }
}

/** Says at start which model servers do not answer: every call to them would fail with a 502. */
async function warnUnansweredUpstreams(gateway: Gateway, log: (line: string) => void) {
  const probes = await Promise.all(
    gateway.upstreams.all().map((upstream) => getJson(upstream, "/api/version", 5000)),
  );
  for (const probe of probes) {
    if (probe.error === undefined) continue;
    log(
      `nightshift: warning: no model server answers at ${probe.upstream.url} (${probe.error}); calls routed there fail until it does (start Ollama, or set upstreams in nightshift.yaml)`,
    );
  }
}
