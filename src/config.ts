import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import type { parse } from "yaml";
import { z } from "zod";
import { ConfigError } from "./errors.js";
import { resolveHome } from "./home.js";
import { plainAgentsSchema } from "./plain-agents/config-schema.js";
import { telemetrySchema } from "./telemetry/config-schema.js";

/**
 * The one schema of nightshift.yaml, and the one source of defaults. Every key has a default, so
 * an empty (or missing) file is a working configuration. Unknown keys are refused rather than
 * ignored: a misspelt key that silently does nothing is worse than an error at start.
 */

const url = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" });
const percent = z.number().min(0).max(100);
const positive = z.number().positive();

const upstreamSchema = z.strictObject({
  url,
  /** The GPU this upstream's model server is pinned to (CUDA_VISIBLE_DEVICES), if any. */
  gpu: z.number().int().min(0).optional(),
});

const modelRoleSchema = z.strictObject({
  model: z.string().min(1),
  backend: z.enum(["ollama", "openai", "llamacpp"]).default("ollama"),
  /** Base URL of the model server; defaults to the gateway, so the call is logged. */
  url: url.optional(),
  gpu: z.number().int().min(0).optional(),
  /** GGUF file for the embedded llama.cpp backend. */
  path: z.string().optional(),
  threads: z.number().int().positive().optional(),
  gpu_layers: z.union([z.number().int().min(0), z.literal("auto"), z.literal("max")]).optional(),
  context_size: z.number().int().positive().optional(),
  /** Tokens the model can take in, used to size audit batches. */
  context_window: z.number().int().positive().optional(),
  /** Extra Ollama options (temperature, seed, num_ctx, ...). */
  options: z.record(z.string(), z.unknown()).optional(),
});

const jobSchema = z.strictObject({
  /** A shell command run for the job; the built-in jobs have none. */
  command: z.string().optional(),
  enabled: z.boolean().default(true),
  gpu: z.number().int().min(0).optional(),
  vram_mb: z.number().int().min(0).optional(),
  ram_mb: z.number().int().min(0).optional(),
  /** Models the job loads on its GPU (so the day models there are unloaded first). */
  models: z.array(z.string().min(1)).optional(),
  // No defaults here: an unset key keeps the job's own default (the audit's 12 h interval, its
  // backlog of 100), which a schema default would silently override. Command jobs default to
  // requires_idle true, quiet_window_only false, min_interval_h 24, min_backlog 0.
  requires_idle: z.boolean().optional(),
  quiet_window_only: z.boolean().optional(),
  min_interval_h: z.number().min(0).optional(),
  min_backlog: z.number().int().min(0).optional(),
  degraded_after_h: z.number().positive().optional(),
});

export const configSchema = z.strictObject({
  /** Agents outside nightshift that receive corrections on a webhook (src/plain-agents). */
  plain_agents: plainAgentsSchema,
  /** OpenTelemetry export and Prometheus metrics (src/telemetry). */
  telemetry: telemetrySchema,
  server: z
    .strictObject({
      host: z.string().min(1).default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(11435),
      /** Bearer token; required when host is not loopback. Prefer NIGHTSHIFT_TOKEN. */
      token: z.string().min(16, "a token needs at least 16 characters").optional(),
      /** Host names besides loopback and `host` that reach this server (DNS-rebinding defence). */
      allowed_hosts: z.array(z.string().regex(/^[\w.:[\]-]+$/, "expected a host name")).default([]),
      /** Browser origins allowed to call besides the server's own, or "*" (cf. OLLAMA_ORIGINS). */
      allowed_origins: z
        .array(
          z
            .string()
            .regex(
              /^(\*|https?:\/\/[^/\s]+)$/,
              'expected "*" or an origin such as https://app.example',
            ),
        )
        .default([]),
      /** Request bodies over this are refused with 413 before they are read. */
      max_body_bytes: z
        .number()
        .int()
        .min(1024)
        .default(32 * 1024 * 1024),
    })
    .prefault({}),
  upstreams: z
    .strictObject({
      /** Upstream for models not in `routes`: a URL or the name of an entry in `servers`. */
      default: z.string().min(1).default("http://127.0.0.1:11434"),
      /** Named model servers, e.g. one Ollama per GPU. */
      servers: z.record(z.string(), upstreamSchema).default({}),
      /** model → upstream (a name from `servers`, or a URL). */
      routes: z.record(z.string(), z.string().min(1)).default({}),
      timeout_ms: z.number().int().positive().default(600_000),
    })
    .prefault({}),
  ledger: z
    .strictObject({
      /** Defaults to nightshift.db in the data dir. */
      path: z.string().optional(),
      /** postgres://… selects the PostgreSQL ledger that several daemons share; else SQLite. */
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL (postgres://user:pass@host/db)")
        .optional(),
      /** Writes are batched; a finished action reaches disk within this many ms. */
      flush_interval_ms: z.number().int().min(1).max(1000).default(50),
      batch_size: z.number().int().min(1).default(512),
      /** A request or response body larger than this is kept in a file beside the ledger. */
      inline_body_bytes: z
        .number()
        .int()
        .min(1024)
        .default(1024 * 1024),
    })
    .prefault({}),
  models: z.record(z.string(), modelRoleSchema).default({
    reasoner: { model: "qwen2.5:7b", backend: "ollama" },
    "finance-expert": { model: "phinance-3.5-mini", backend: "ollama" },
    auditor: { model: "qwen2.5:14b", backend: "ollama", context_window: 32_768 },
    "auditor-small": { model: "qwen2.5:7b", backend: "ollama", context_window: 32_768 },
  }),
  runtime: z
    .strictObject({
      confidence_threshold: z.number().min(0).max(1).default(0.8),
      /** Attempts at one approach when the reply does not fit the schema. */
      max_invalid_retries: z.number().int().min(0).default(1),
    })
    .prefault({}),
  monitor: z
    .strictObject({
      enabled: z.boolean().default(true),
      interval_s: positive.default(60),
      raw_retention_days: positive.default(90),
      nvidia_smi: z.boolean().default(true),
      rocm_smi: z.boolean().default(true),
      command_timeout_ms: z.number().int().positive().default(3000),
      gateway_activity: z.boolean().default(true),
      logind: z.boolean().default(true),
      /** Agents whose gateway traffic is not user activity. */
      background_agents: z.array(z.string()).default(["auditor"]),
      /** The name this machine's samples are kept under in a shared ledger; its hostname if unset. */
      host: z
        .string()
        .trim()
        .min(1)
        .max(253)
        .refine((name) => !/\p{Cc}/u.test(name), "printable characters only")
        .optional(),
    })
    .prefault({}),
  idle: z
    .strictObject({
      lookback_min: positive.default(15),
      cpu_pct: percent.default(20),
      gpu_pct: percent.default(15),
      ram_pct: percent.default(60),
      user_idle_min: z.number().min(0).default(30),
      /** Fraction of the expected samples in the window needed to decide at all. */
      min_coverage: z.number().min(0).max(1).default(0.6),
    })
    .prefault({}),
  quiet_hours: z
    .strictObject({
      probability_threshold: z.number().min(0).max(1).default(0.7),
      half_life_weeks: positive.default(4),
      /** Shorter runs of quiet hours are not reported as windows. */
      min_window_h: z.number().int().min(1).max(168).default(2),
    })
    .prefault({}),
  scheduler: z
    .strictObject({
      enabled: z.boolean().default(true),
      evaluate_every_s: positive.default(60),
      watch_every_s: positive.max(10).default(5),
      lease_ttl_s: positive.default(60),
      degraded_after_h: positive.default(72),
      unload_day_models: z.boolean().default(true),
      warm_day_models_after: z.boolean().default(true),
      jobs: z.record(z.string(), jobSchema).default({}),
    })
    .prefault({}),
  audit: z
    .strictObject({
      lookback_days: z.number().int().min(1).max(14, "at most 14 days").default(7),
      sample_rate: z.number().min(0).max(1).default(0.05),
      min_interval_h: z.number().min(0).default(12),
      min_backlog: z.number().int().min(0).default(100),
      reviewer_role: z.string().default("auditor"),
      degraded_reviewer_role: z.string().default("auditor-small"),
      /** A reviewer verdict below this goes to the human review queue instead of applying. */
      apply_confidence: z.number().min(0).max(1).default(0.85),
      cross_agent_window_min: positive.default(30),
      /** Most items per reviewer call, however small: long batches dilute the reviewer's care. */
      batch_max_items: z.number().int().min(1).default(16),
    })
    .prefault({}),
  retention: z
    .strictObject({
      detailed_days: positive.default(14),
      aggregate_after_days: positive.default(90),
      every_days: z.union([z.literal(7), z.literal(14)]).default(7),
      /** Prune even unaudited or flagged actions older than this; off unless set. */
      hard_cap_days: positive.optional(),
    })
    .prefault({}),
  finance: z
    .strictObject({
      currency: z.string().length(3).default("USD"),
      reasoner_role: z.string().default("reasoner"),
      expert_role: z.string().default("finance-expert"),
      duplicate_window_days: z.number().int().min(0).default(3),
      /** CSV layouts by name: column headers for date, description, amount or debit/credit. */
      csv_layouts: z
        .record(
          z.string(),
          z.strictObject({
            date: z.string(),
            description: z.string(),
            amount: z.string().optional(),
            debit: z.string().optional(),
            credit: z.string().optional(),
            balance: z.string().optional(),
            /** A debit/credit marker column ("Af Bij", "Transaction Type", "D/C"). */
            sign: z.string().optional(),
            id: z.string().optional(),
            /** "YYYYMMDD", "DD.MM.YYYY", "MM/DD/YYYY", ... */
            date_format: z.string().optional(),
            decimal: z.enum([".", ","]).optional(),
          }),
        )
        .default({}),
    })
    .prefault({}),
});

// Here for the many callers that import them from config.js; home.ts has no zod (CLI start-up).
export { ensureHome, resolveHome } from "./home.js";

export type Config = z.infer<typeof configSchema>;
export type ModelRole = z.infer<typeof modelRoleSchema>;
export type JobConfig = z.infer<typeof jobSchema>;

export interface LoadedConfig {
  config: Config;
  /** The data dir: ledger, config, and everything nightshift keeps. */
  home: string;
  /** The config file read, or where it would be read from. */
  configPath: string;
  configFound: boolean;
  dbPath: string;
}

export interface LoadOptions {
  configPath?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Overrides from command-line flags, applied last. */
  overrides?: (raw: Record<string, unknown>) => void;
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const home = resolveHome(env);
  const configPath = resolve(options.configPath ?? join(home, "nightshift.yaml"));
  const configFound = existsSync(configPath);
  if (options.configPath && !configFound) {
    throw new ConfigError(`config file not found: ${configPath}`);
  }
  const raw = configFound ? readYaml(configPath) : {};
  applyEnv(raw, env);
  options.overrides?.(raw);
  const config = parseConfig(raw, configPath);
  const dbPath = resolve(home, config.ledger.path ?? "nightshift.db");
  return { config, home, configPath, configFound, dbPath };
}

/** Validates a raw config object; `source` names the file in messages. */
export function parseConfig(raw: unknown, source = "config"): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${describeIssue(issue)}`);
  throw new ConfigError(`invalid config in ${source}:\n${lines.join("\n")}`);
}

/**
 * The YAML parser, loaded only when a config file exists: it is a tenth of a second of module
 * loading that `nightshift actions` with no nightshift.yaml need not pay. Synchronous (the
 * package's CommonJS build) because loadConfig is.
 */
function yamlParser(): typeof parse {
  return (createRequire(import.meta.url)("yaml") as { parse: typeof parse }).parse;
}

function readYaml(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = yamlParser()(readFileSync(path, "utf8"));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`cannot read config ${path}: ${detail}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError(`invalid config in ${path}: the top level must be a mapping of keys`);
  }
  return parsed as Record<string, unknown>;
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  const section = (name: string): Record<string, unknown> => {
    const existing = raw[name];
    if (existing && typeof existing === "object" && !Array.isArray(existing)) {
      return existing as Record<string, unknown>;
    }
    const created: Record<string, unknown> = {};
    raw[name] = created;
    return created;
  };
  if (env.NIGHTSHIFT_PORT)
    section("server").port = envNumber("NIGHTSHIFT_PORT", env.NIGHTSHIFT_PORT);
  if (env.NIGHTSHIFT_HOST) section("server").host = env.NIGHTSHIFT_HOST;
  if (env.NIGHTSHIFT_TOKEN) section("server").token = env.NIGHTSHIFT_TOKEN;
  if (env.NIGHTSHIFT_UPSTREAM) section("upstreams").default = env.NIGHTSHIFT_UPSTREAM;
  if (env.NIGHTSHIFT_LEDGER_URL) section("ledger").url = env.NIGHTSHIFT_LEDGER_URL;
}

function envNumber(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new ConfigError(`${name}=${value}: expected a number`);
  return parsed;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((key) => (path ? `${path}.${key}` : key));
    return `${keys.join(", ")}: unknown key${keys.length > 1 ? "s" : ""}`;
  }
  return `${path || "(top level)"}: ${issue.message}`;
}
