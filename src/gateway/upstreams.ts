import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Config } from "../config.js";
import { ConfigError } from "../errors.js";

/** One model server the gateway forwards to, with its own keep-alive connection pool. */
export interface Upstream {
  /** The name in upstreams.servers, or the URL when it was given as a bare URL. */
  name: string;
  /** The base URL without a trailing slash, as recorded in the ledger. */
  url: string;
  gpu: number | null;
  hostname: string;
  port: number;
  /** A path prefix the server lives under (e.g. /ollama behind a reverse proxy), or "". */
  basePath: string;
  /** `Basic ...` from credentials in the configured URL; never logged, stored or answered. */
  authorization: string | null;
  agent: HttpAgent;
  request: typeof httpRequest;
}

/**
 * Routing from a model name to the upstream that serves it: `routes` (model → server name or URL)
 * first, then the default. Each distinct URL gets one pooled agent, so a request reuses a warm
 * connection instead of paying a TCP handshake (the largest part of a proxy's added latency).
 */
export class Upstreams {
  readonly fallback: Upstream;
  private readonly byUrl = new Map<string, Upstream>();
  private readonly routes = new Map<string, Upstream>();

  constructor(config: Config["upstreams"]) {
    for (const [name, server] of Object.entries(config.servers)) {
      this.add(name, server.url, server.gpu ?? null);
    }
    this.fallback = this.resolve(config.default, "upstreams.default", config);
    for (const [model, ref] of Object.entries(config.routes)) {
      this.routes.set(model, this.resolve(ref, `upstreams.routes.${model}`, config));
    }
  }

  /** The upstream serving `model`; Ollama's implicit ":latest" tag counts as the same model. */
  forModel(model: string | null | undefined): Upstream {
    if (!model) return this.fallback;
    const exact = this.routes.get(model);
    if (exact) return exact;
    const alias = model.endsWith(":latest")
      ? model.slice(0, -":latest".length)
      : model.includes(":")
        ? undefined
        : `${model}:latest`;
    return (alias && this.routes.get(alias)) || this.fallback;
  }

  /** Every distinct upstream, the default first. */
  all(): Upstream[] {
    return [this.fallback, ...[...this.byUrl.values()].filter((u) => u !== this.fallback)];
  }

  /** Models routed to `upstream` by name. */
  modelsRoutedTo(upstream: Upstream): string[] {
    return [...this.routes].filter(([, u]) => u === upstream).map(([model]) => model);
  }

  close(): void {
    for (const upstream of this.byUrl.values()) upstream.agent.destroy();
  }

  private resolve(ref: string, key: string, config: Config["upstreams"]): Upstream {
    const server = config.servers[ref];
    if (server) return this.byUrl.get(redactUrl(server.url))!;
    if (/^https?:\/\//i.test(ref)) return this.add(ref, ref, null);
    const names = Object.keys(config.servers);
    throw new ConfigError(
      `${key}: "${ref}" is neither an http(s) URL nor a server in upstreams.servers` +
        (names.length ? ` (${names.join(", ")})` : " (none are defined)"),
    );
  }

  private add(name: string, rawUrl: string, gpu: number | null): Upstream {
    const parsed = new URL(normalizeUrl(rawUrl));
    const authorization = basicAuthOf(parsed);
    parsed.username = "";
    parsed.password = "";
    const url = normalizeUrl(parsed.href);
    const existing = this.byUrl.get(url);
    if (existing) {
      if (existing.gpu === null) existing.gpu = gpu;
      return existing;
    }
    const https = parsed.protocol === "https:";
    // noDelay: a streamed token must leave at once, not wait for Nagle to coalesce it.
    const agentOptions = {
      keepAlive: true,
      keepAliveMsecs: 10_000,
      noDelay: true,
      scheduling: "lifo" as const,
    };
    const upstream: Upstream = {
      name: /^https?:\/\//i.test(name) ? url : name,
      url,
      gpu,
      hostname: parsed.hostname.replace(/^\[|\]$/g, ""),
      port: Number(parsed.port) || (https ? 443 : 80),
      basePath: parsed.pathname.replace(/\/+$/, ""),
      authorization,
      agent: https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions),
      request: https ? (httpsRequest as unknown as typeof httpRequest) : httpRequest,
    };
    this.byUrl.set(url, upstream);
    return upstream;
  }
}

export function normalizeUrl(url: string): string {
  return url.replace(/\/+$/, "");
}

/** The URL without user:password@, as it may be shown, logged and stored. */
export function redactUrl(rawUrl: string): string {
  const parsed = new URL(normalizeUrl(rawUrl));
  parsed.username = "";
  parsed.password = "";
  return normalizeUrl(parsed.href);
}

function basicAuthOf(url: URL): string | null {
  if (!url.username && !url.password) return null;
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}
