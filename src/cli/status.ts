import { existsSync } from "node:fs";
import { connect } from "node:net";
import type { Command } from "commander";
import type { LoadedConfig } from "../config.js";
import { getJson } from "../gateway/merge.js";
import { Upstreams } from "../gateway/upstreams.js";
import { Ledger } from "../ledger/ledger.js";
import { selectLedger } from "../ledger/select.js";
import type { LedgerEngine } from "../ledger/stores.js";
import { VERSION } from "../version.js";
import type { CliContext } from "./context.js";
import { printJson } from "./output.js";

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
  gateway: { url: string; listening: boolean };
  upstreams: UpstreamStatus[];
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
  const upstreams = new Upstreams(config.upstreams);
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
    const host = config.server.host;
    const gatewayUrl = `http://${host.includes(":") ? `[${host}]` : host}:${config.server.port}`;
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
      gateway: { url: gatewayUrl, listening: await isListening(host, config.server.port) },
      upstreams: probes,
      ledger,
    };
  } finally {
    upstreams.close();
  }
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
    `gateway     ${s.gateway.url} ${s.gateway.listening ? "listening" : "not running"}`,
  ];
  for (const u of s.upstreams) {
    const where = `${u.url}${u.name !== u.url ? ` (${u.name})` : ""}${u.gpu !== null ? ` gpu ${u.gpu}` : ""}`;
    const state = u.answering
      ? `answering, version ${u.version ?? "?"}`
      : `NOT answering: ${u.error}`;
    const models = u.models.length ? `; routes ${u.models.join(", ")}` : "";
    lines.push(`upstream    ${where}: ${state}${models}`);
  }
  const size = s.ledger.size_bytes === null ? "" : `, ${formatBytes(s.ledger.size_bytes)}`;
  const count = s.ledger.actions === null ? " (not created yet)" : `, ${s.ledger.actions} actions`;
  const state = s.ledger.error ? `: NOT reachable: ${s.ledger.error}` : `${size}${count}`;
  lines.push(`ledger      ${s.ledger.engine} ${s.ledger.location}${state}`);
  return lines.join("\n");
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
