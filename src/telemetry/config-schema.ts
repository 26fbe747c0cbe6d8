import { z } from "zod";

/**
 * `telemetry:` in nightshift.yaml. Nothing leaves the machine unless an OTLP endpoint is set
 * here or in the standard OTEL_EXPORTER_OTLP_* variables (which win, as in every OTel SDK).
 */
export const telemetrySchema = z
  .strictObject({
    otlp: z
      .strictObject({
        /** Base URL of a collector; traces go to <endpoint>/v1/traces. */
        endpoint: z.url({ protocol: /^https?$/, error: "an http(s) URL" }).optional(),
        /** The full traces URL, used as it is. */
        traces_endpoint: z.url({ protocol: /^https?$/, error: "an http(s) URL" }).optional(),
        protocol: z.enum(["http/protobuf", "http/json"]).default("http/protobuf"),
        /** Extra request headers (an API key for a hosted collector). */
        headers: z.record(z.string(), z.string()).default({}),
        timeout_ms: z.number().int().min(1).default(10_000),
        /** Spans waiting to be sent; past this new ones are dropped (and counted). */
        max_queue_size: z.number().int().min(1).default(2048),
        max_batch_size: z.number().int().min(1).default(512),
        /** How often a batch leaves, in ms. */
        schedule_delay_ms: z.number().int().min(1).default(2000),
        service_name: z.string().min(1).default("nightshift"),
      })
      .prefault({}),
    metrics: z
      .strictObject({
        /** Prometheus text format at /metrics, under the gateway's token like /v0. */
        enabled: z.boolean().default(true),
      })
      .prefault({}),
  })
  .prefault({});

export type TelemetryConfig = z.infer<typeof telemetrySchema>;
