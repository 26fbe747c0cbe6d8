import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { Action } from "../ledger/actions.js";
import type { Ledger } from "../ledger/ledger.js";
import { sqliteStores } from "../ledger/select.js";
import type { LedgerStores } from "../ledger/stores/index.js";
import { Metrics } from "./metrics.js";
import { resolveOtlpTarget, SpanExport } from "./span-export.js";

export interface TelemetryOptions {
  config: Config;
  ledger: Ledger;
  /** The ledger's stores on the selected engine; the stores over `ledger` by default. */
  stores?: LedgerStores;
  clock: Clock;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/**
 * Telemetry out: Prometheus metrics and OpenTelemetry spans, both fed from the ledger writer's
 * commit hook (`onCommit`), off the request path. A failure here is logged once and never
 * reaches the writer: telemetry must not cost a logged action.
 */
export class Telemetry {
  readonly metrics: Metrics | undefined;
  readonly spans: SpanExport | undefined;
  private complained = false;

  constructor(private readonly options: TelemetryOptions) {
    const { config, ledger, clock } = options;
    const target = resolveOtlpTarget(config.telemetry.otlp, options.env ?? process.env);
    this.spans = target ? new SpanExport(target, config.telemetry.otlp) : undefined;
    this.metrics = config.telemetry.metrics.enabled
      ? new Metrics(options.stores ?? sqliteStores(ledger), {
          now: () => clock.now(),
          spans: () => this.spans?.counts,
        })
      : undefined;
  }

  /** The writer's onCommit hook. */
  readonly onCommit = (actions: readonly Action[]): void => {
    try {
      this.metrics?.observe(actions, this.options.clock.now());
      this.spans?.accept(actions);
    } catch (error) {
      if (!this.complained) this.options.log?.(`nightshift telemetry: ${String(error)}`);
      this.complained = true;
    }
  };

  /** Answers GET /metrics; false when metrics are off (the caller answers 404). */
  async serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (!this.metrics) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      res.end("use GET /metrics\n");
      return true;
    }
    const { contentType, body } = await this.metrics.render();
    res.writeHead(200, {
      "content-type": contentType,
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  }

  async shutdown(): Promise<void> {
    await this.spans?.shutdown();
  }
}
