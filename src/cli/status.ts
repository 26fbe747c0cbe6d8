import { existsSync } from "node:fs";
import { connect } from "node:net";
import { isDeepStrictEqual } from "node:util";
import type { Command } from "commander";
import type { LoadedConfig } from "../config.js";
import { type DaemonLookup, readDaemonRecord } from "../daemon-record.js";
import { getJson } from "../gateway/merge.js";
import { Upstreams } from "../gateway/upstreams.js";
import { Ledger } from "../ledger/ledger.js";
import { selectLedger } from "../ledger/select.js";
import type { LedgerEngine } from "../ledger/stores/index.js";
import { checkModelRoles, type RoleStatus } from "../runtime/role-check.js";
import { VERSION } from "../version.js";
import type { CliContext } from "./context.js";
import { count, printJson } from "./output.js";

const PROBE_TIMEOUT_MS = 2000;

export interface UpstreamStatus {
  name: string;
  url: string;
  gpu: number | null;
  models: string[];
  answering: boolean;
  version: string | null;
  error: string | null;
}

export interface Status {
  version: string;
  data_dir: string;
  config_file: string;
  config_found: boolean;
  gateway: {
    url: string;
    listening: boolean;
    /** The running daemon's process, from daemon.json in the data dir. */
    pid: number | null;
    /** A daemon.json whose process is gone: the daemon died without cleaning up. */
    stale_pid: number | null;
  };
  upstreams: UpstreamStatus[];
  /** Whose model servers `upstreams` lists: the running daemon's (daemon.json) or the config's. */
  upstreams_from: "daemon" | "config";
  /** The running daemon's model servers are not those the config names now. */
  upstreams_differ_from_config: boolean;
  model_roles: RoleStatus[];
  ledger: {
    /** sqlite or postgres (ledger.url / NIGHTSHIFT_LEDGER_URL). */
    engine: LedgerEngine;
    /** The SQLite file, or the PostgreSQL URL with its password masked. */
    location: string;
    path: string;
    exists: boolean;
    size_bytes: number | null;
    actions: number | null;
    /** Why the PostgreSQL server could not be read, if it could not. */
    error?: string | null;
  };
}

/** What `nightshift status` reports; each upstream is asked for /api/version with a short timeout. */
export async function collectStatus(loaded: LoadedConfig): Promise<Status> {
  const { config } = loaded;
  // A daemon started with `serve --upstream` calls other servers than the config names: those
  // are the ones whose state matters while it runs.
  const found = readDaemonRecord(loaded.home);
  const running = found.state === "running" ? found.record.upstreams : undefined;
  const upstreams = new Upstreams(running ?? config.upstreams);
  try {
    const probes = await Promise.all(
      upstreams.all().map(async (u): Promise<UpstreamStatus> => {
        const answer = await getJson(u, "/api/version", PROBE_TIMEOUT_MS);
        const version = (answer.value as { version?: unknown } | undefined)?.version;
        return {
          name: u.name,
          url: u.url,
          gpu: u.gpu,
          models: upstreams.modelsRoutedTo(u),
          answering: answer.error === undefined,
          version: typeof version === "string" ? version : null,
          error: answer.error ?? null,
        };
      }),
    );
    const gateway = await findGateway(loaded, found);
    // Each role on the model server the running daemon routes it to; a daemon whose record does
    // not say (an older version) is asked for its merged model list.
    const roles = checkModelRoles(config, {
      timeoutMs: PROBE_TIMEOUT_MS,
      upstreams: running,
      gatewayUrl: gateway.listening ? gateway.url : undefined,
    });
    const selection = selectLedger(config.ledger, loaded.dbPath);
    const exists = existsSync(loaded.dbPath);
    const where = { engine: selection.engine, location: selection.location, path: loaded.dbPath };
    let ledger: Status["ledger"] = { ...where, exists, size_bytes: null, actions: null };
    if (selection.url) {
      const { inspectPostgresLedger } = await import("../ledger/postgres/inspect.js");
      ledger = { ...where, ...(await inspectPostgresLedger(selection.url)) };
    } else if (exists) {
      const opened = Ledger.open(loaded.dbPath, { readonly: true });
      try {
        ledger = { ...ledger, size_bytes: opened.sizeBytes(), actions: opened.actions.count() };
      } finally {
        opened.close();
      }
    }
    return {
      version: VERSION,
      data_dir: loaded.home,
      config_file: loaded.configPath,
      config_found: loaded.configFound,
      gateway,
      upstreams: probes,
      upstreams_from: running ? "daemon" : "config",
      upstreams_differ_from_config:
        running !== undefined && !isDeepStrictEqual(running, config.upstreams),
      model_roles: await roles,
      ledger,
    };
  } finally {
    upstreams.close();
  }
}

/** The daemon's own record of where it listens, else the configured address. */
async function findGateway(loaded: LoadedConfig, found: DaemonLookup): Promise<Status["gateway"]> {
  if (found.state === "running") {
    const { host, port, url, pid } = found.record;
    return { url, listening: await isListening(host, port), pid, stale_pid: null };
  }
  const { host, port } = loaded.config.server;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    listening: await isListening(host, port),
    pid: null,
    stale_pid: found.state === "stale" ? found.record.pid : null,
  };
}

export function registerStatus(program: Command, context: CliContext): void {
  program
    .command("status")
    .description("version, data dir, the gateway, each upstream and whether it answers, the ledger")
    .option("--json", "print the status as JSON")
    .action(async (flags: { json?: boolean }) => {
      const status = await collectStatus(context.loaded());
      if (flags.json) return printJson(status);
      process.stdout.write(`${formatStatus(status)}\n`);
    });
}

function formatStatus(s: Status): string {
  const lines = [
    `nightshift ${s.version}`,
    `data dir    ${s.data_dir}`,
    `config      ${s.config_file}${s.config_found ? "" : " (not found; using defaults)"}`,
    `gateway     ${s.gateway.url} ${describeGateway(s.gateway)}`,
  ];
  for (const u of s.upstreams) {
    const where = `${u.url}${u.name !== u.url ? ` (${u.name})` : ""}${u.gpu !== null ? ` gpu ${u.gpu}` : ""}`;
    const state = u.answering
      ? `answering, version ${u.version ?? "?"}`
      : `NOT answering: ${u.error}`;
    const models = u.models.length ? `; routes ${u.models.join(", ")}` : "";
    lines.push(`upstream    ${where}: ${state}${models}`);
  }
  if (s.upstreams_differ_from_config) {
    lines.push(
      "            (given to the running daemon when it started; the config and environment name others)",
    );
  }
  for (const r of s.model_roles) {
    // "cannot …": the model server could not be asked, which is not the same as the model missing.
    const unknown = r.error?.startsWith("cannot ");
    const state = r.available
      ? `available on ${r.served_by}`
      : `${unknown ? "NOT CHECKED" : "MISSING"}: ${r.error}`;
    lines.push(`model role  ${r.role} → ${r.model} (${r.backend}): ${state}`);
  }
  const size = s.ledger.size_bytes === null ? "" : `, ${formatBytes(s.ledger.size_bytes)}`;
  const actions =
    s.ledger.actions === null ? " (not created yet)" : `, ${count(s.ledger.actions, "action")}`;
  const state = s.ledger.error ? `: NOT reachable: ${s.ledger.error}` : `${size}${actions}`;
  lines.push(`ledger      ${s.ledger.engine} ${s.ledger.location}${state}`);
  return lines.join("\n");
}

function describeGateway(g: Status["gateway"]): string {
  if (g.pid !== null) {
    return g.listening ? `listening (pid ${g.pid})` : `pid ${g.pid} is running but not answering`;
  }
  const stale =
    g.stale_pid === null
      ? ""
      : ` (daemon.json names pid ${g.stale_pid}, which is gone: it did not stop cleanly)`;
  return `${g.listening ? "listening" : "not running"}${stale}`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function isListening(host: string, port: number): Promise<boolean> {
  if (port === 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 500 });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}
