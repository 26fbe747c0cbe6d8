import { basename } from "node:path";
import type { Config, ModelRole } from "../config.js";
import { ConfigError, NightshiftError } from "../errors.js";
import { trimSlash } from "./backends/http.js";
import { LlamaCppHost } from "./backends/llamacpp.js";
import { createOllamaClient } from "./backends/ollama.js";
import { createOpenAiClient } from "./backends/openai.js";
import type { ModelClient } from "./backends/types.js";

export interface ModelClientsOptions {
  /**
   * Where HTTP roles without a `url` send their calls. Defaults to the nightshift gateway
   * (http://127.0.0.1:<server.port>), which logs every call; pass the upstream's URL to go direct.
   */
  baseUrl?: string | undefined;
  /** Request timeout for HTTP backends; defaults to upstreams.timeout_ms. */
  timeoutMs?: number | undefined;
}

/**
 * The models an agent can ask, by role (reasoner, finance-expert, auditor...), built from
 * `config.models`. Swapping the model behind a role is one line of config. Clients are made on
 * first use, so a role whose GGUF file is missing fails only when it is asked.
 */
export class ModelClients {
  private readonly clients = new Map<string, ModelClient>();
  private readonly llama = new LlamaCppHost();
  readonly gatewayUrl: string;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly config: Pick<Config, "models" | "server" | "upstreams">,
    options: ModelClientsOptions = {},
  ) {
    const host = config.server.host === "0.0.0.0" ? "127.0.0.1" : config.server.host;
    this.gatewayUrl = `http://${host.includes(":") ? `[${host}]` : host}:${config.server.port}`;
    this.baseUrl = trimSlash(options.baseUrl ?? this.gatewayUrl);
    this.timeoutMs = options.timeoutMs ?? config.upstreams.timeout_ms;
  }

  /** The roles configured, in config order. */
  roles(): string[] {
    return Object.keys(this.config.models);
  }

  has(role: string): boolean {
    return role in this.config.models || this.clients.has(role);
  }

  /** The client for a role; throws a ConfigError naming the known roles if it is not configured. */
  role(role: string): ModelClient {
    let client = this.clients.get(role);
    if (!client) {
      const entry = this.config.models[role];
      if (!entry) {
        throw new ConfigError(
          `no model role "${role}" in config (known: ${this.roles().join(", ") || "none"}); add models.${role} to nightshift.yaml`,
        );
      }
      client = this.build(role, entry);
      this.clients.set(role, client);
    }
    return client;
  }

  /**
   * Serves a role with a client of your own (another transport, an in-process model). It stands in
   * for the role's config entry from now on; the runtime logs its calls unless `loggedByGateway`.
   */
  use(client: ModelClient): void {
    this.clients.set(client.role, client);
  }

  /** A client for a role with another model (same backend and URL): how replay swaps models. */
  withModel(role: string, model: string): ModelClient {
    const entry = this.config.models[role];
    if (!entry) {
      throw new ConfigError(
        `no model role "${role}" in config (known: ${this.roles().join(", ") || "none"}); add models.${role} to nightshift.yaml`,
      );
    }
    return this.build(role, { ...entry, model });
  }

  /** Releases embedded models. HTTP clients hold nothing. */
  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
    await this.llama.close();
  }

  private build(role: string, entry: ModelRole): ModelClient {
    if (entry.backend === "llamacpp") {
      if (!entry.path) {
        throw new ConfigError(`models.${role}: the llamacpp backend needs a path to a GGUF file`);
      }
      return this.llama.client({
        role,
        model: entry.model || basename(entry.path),
        path: entry.path,
        gpu: entry.gpu,
        threads: entry.threads,
        gpuLayers: entry.gpu_layers,
        contextSize: entry.context_size,
        options: entry.options,
      });
    }
    const baseUrl = trimSlash(entry.url ?? this.baseUrl);
    const http = {
      role,
      model: entry.model,
      baseUrl,
      gpu: entry.gpu,
      options: entry.options,
      loggedByGateway: baseUrl === trimSlash(this.gatewayUrl),
      timeoutMs: this.timeoutMs,
    };
    if (entry.backend === "ollama") return createOllamaClient(http);
    if (entry.backend === "openai") return createOpenAiClient(http);
    throw new NightshiftError(`models.${role}: unknown backend ${String(entry.backend)}`);
  }
}
