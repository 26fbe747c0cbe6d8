import type { ExportResult } from "@opentelemetry/core";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { type Resource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { ConfigError } from "../errors.js";
import type { Action } from "../ledger/actions.js";
import { VERSION } from "../version.js";
import type { TelemetryConfig } from "./config-schema.js";
import { actionToSpan } from "./spans.js";

export type OtlpProtocol = "http/protobuf" | "http/json";

export interface OtlpTarget {
  url: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
}

/**
 * Where spans go, from the standard variables first (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it
 * is; OTEL_EXPORTER_OTLP_ENDPOINT plus /v1/traces; the TRACES_ or plain PROTOCOL), then the
 * config. Undefined when neither names an endpoint: then nothing is exported.
 */
export function resolveOtlpTarget(
  config: TelemetryConfig["otlp"],
  env: NodeJS.ProcessEnv,
): OtlpTarget | undefined {
  const base = (url: string) => `${url.replace(/\/+$/, "")}/v1/traces`;
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    ? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    : env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? base(env.OTEL_EXPORTER_OTLP_ENDPOINT)
      : (config.traces_endpoint ?? (config.endpoint ? base(config.endpoint) : undefined));
  if (!url) return undefined;
  const raw = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (raw !== undefined && raw !== "http/protobuf" && raw !== "http/json") {
    throw new ConfigError(
      `OTEL_EXPORTER_OTLP_PROTOCOL=${raw}: nightshift exports over http/protobuf or http/json (not grpc); point it at the collector's OTLP/HTTP port (4318)`,
    );
  }
  return { url, protocol: raw ?? config.protocol, headers: config.headers };
}

export interface SpanExportCounts {
  /** Spans the collector accepted. */
  exported: number;
  /** Spans lost: the queue was full, or the collector failed or could not be reached. */
  dropped: number;
  /** Spans waiting to be sent. */
  queued: number;
}

/**
 * Actions to OTLP spans, batched and sent in the background by the SDK's BatchSpanProcessor.
 * `accept` only queues (it is called from the ledger writer's commit hook), so a collector that
 * is slow or down never holds up the gateway: past max_queue_size new spans are dropped and
 * counted, and a failed export counts its batch as dropped.
 */
export class SpanExport {
  readonly counts: SpanExportCounts = { exported: 0, dropped: 0, queued: 0 };
  private readonly processor: BatchSpanProcessor;
  private readonly resource: Resource;
  private readonly maxQueue: number;

  constructor(
    readonly target: OtlpTarget,
    config: TelemetryConfig["otlp"],
  ) {
    const options = {
      url: target.url,
      headers: target.headers,
      timeoutMillis: config.timeout_ms,
    };
    const inner: SpanExporter =
      target.protocol === "http/json" ? new JsonExporter(options) : new ProtoExporter(options);
    this.maxQueue = config.max_queue_size;
    this.processor = new BatchSpanProcessor(this.counting(inner), {
      maxQueueSize: config.max_queue_size,
      maxExportBatchSize: Math.min(config.max_batch_size, config.max_queue_size),
      scheduledDelayMillis: config.schedule_delay_ms,
      exportTimeoutMillis: config.timeout_ms,
    });
    this.resource = resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.service_name,
      [ATTR_SERVICE_VERSION]: VERSION,
    });
  }

  /** Queues the actions' spans; never waits. */
  accept(actions: readonly Action[]): void {
    for (const action of actions) {
      if (this.counts.queued >= this.maxQueue) {
        this.counts.dropped++;
        continue;
      }
      this.counts.queued++;
      this.processor.onEnd(actionToSpan(action, this.resource));
    }
  }

  /**
   * Sends what is queued now and waits for the answer (tests, and shutdown). A failed export is
   * already counted in `dropped`, so it is not an error here.
   */
  async flush(): Promise<void> {
    await this.processor.forceFlush().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    await this.processor.shutdown().catch(() => undefined);
  }

  private counting(inner: SpanExporter): SpanExporter {
    return {
      export: (spans: ReadableSpan[], done: (result: ExportResult) => void) => {
        this.counts.queued -= spans.length;
        inner.export(spans, (result) => {
          // ExportResultCode.SUCCESS is 0.
          if (result.code === 0) this.counts.exported += spans.length;
          else this.counts.dropped += spans.length;
          done(result);
        });
      },
      shutdown: () => inner.shutdown(),
      forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
    };
  }
}
