import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Action } from "../ledger/actions.js";
import type { GpuMetric, LedgerStores, MetricsReads } from "../ledger/stores/index.js";
import type { SpanExportCounts } from "./span-export.js";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/**
 * The daemon's Prometheus metrics. Request figures are counted from the ledger writer's commit
 * hook (every gateway call is an action), so the request path pays nothing for them; ledger,
 * audit, review, job and GPU figures are read when Prometheus scrapes.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter;
  private readonly errors: Counter;
  private readonly latency: Histogram;
  private readonly tokens: Counter;
  private readonly actions: Counter;
  private readonly writeLag: Histogram;

  constructor(
    private readonly stores: LedgerStores,
    options: { now: () => number; spans?: () => SpanExportCounts | undefined },
  ) {
    const registers = [this.registry];
    const gateway = ["agent", "model", "upstream", "api"];
    this.requests = new Counter({
      name: "nightshift_gateway_requests_total",
      help: "Model calls through the gateway, by agent, model, upstream, API and outcome.",
      labelNames: [...gateway, "status"],
      registers,
    });
    this.errors = new Counter({
      name: "nightshift_gateway_errors_total",
      help: "Gateway calls that failed (upstream error, HTTP status >= 400, cut stream).",
      labelNames: gateway,
      registers,
    });
    this.latency = new Histogram({
      name: "nightshift_gateway_request_duration_seconds",
      help: "Gateway call duration from the first byte in to the last byte out.",
      labelNames: gateway,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.tokens = new Counter({
      name: "nightshift_tokens_total",
      help: "Tokens in and out of models, by agent, model and direction.",
      labelNames: ["agent", "model", "direction"],
      registers,
    });
    this.actions = new Counter({
      name: "nightshift_actions_total",
      help: "Actions written to the ledger (gateway calls, runtime stages, jobs), by type.",
      labelNames: ["agent", "action_type", "status"],
      registers,
    });
    this.writeLag = new Histogram({
      name: "nightshift_ledger_write_latency_seconds",
      help: "Time from an action's end to its commit in the ledger (the writer's batching delay).",
      buckets: LAG_BUCKETS,
      registers,
    });
    this.scrapeGauges(options.now);
    this.spanGauges(options.spans);
    collectDefaultMetrics({ register: this.registry, prefix: "nightshift_" });
  }

  /** The ledger writer's commit hook: counts each committed action. */
  observe(actions: readonly Action[], committedAt: number): void {
    for (const a of actions) {
      this.actions.inc({ agent: a.agent, action_type: a.actionType, status: a.status });
      if (a.endedAt !== null) this.writeLag.observe(Math.max(0, committedAt - a.endedAt) / 1000);
      const api = a.meta?.api;
      if (api !== "ollama" && api !== "openai") continue;
      const labels = { agent: a.agent, model: a.model ?? "", upstream: a.upstream ?? "", api };
      this.requests.inc({ ...labels, status: a.status });
      if (a.status === "error") this.errors.inc(labels);
      if (a.latencyMs !== null) this.latency.observe(labels, a.latencyMs / 1000);
      const model = { agent: a.agent, model: a.model ?? "" };
      if (a.tokensIn) this.tokens.inc({ ...model, direction: "input" }, a.tokensIn);
      if (a.tokensOut) this.tokens.inc({ ...model, direction: "output" }, a.tokensOut);
    }
  }

  /** The text exposition format, and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private scrapeGauges(now: () => number): void {
    const stores = this.stores;
    const store = stores.metrics;
    const registers = [this.registry];
    // prom-client awaits an async collect, so a scrape reads either engine the same way.
    const gauge = (
      name: string,
      help: string,
      labelNames: string[],
      fill: (g: Gauge) => void | Promise<void>,
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          this.reset();
          await fill(this);
        },
      });
    gauge("nightshift_ledger_queue_depth", "Actions waiting in the writer's queue.", [], (g) =>
      g.set(stores.writer.pending),
    );
    gauge(
      "nightshift_ledger_size_bytes",
      "Ledger size: the SQLite file and its WAL, or the PostgreSQL database.",
      [],
      async (g) => g.set(await store.ledgerSizeBytes()),
    );
    gauge(
      "nightshift_audit_verdicts",
      "Audited items by verdict and outcome.",
      ["verdict", "outcome"],
      async (g) => {
        for (const v of await store.auditVerdicts())
          g.set({ verdict: v.verdict, outcome: v.outcome }, v.count);
      },
    );
    gauge(
      "nightshift_review_backlog",
      "Open review-queue items by agent.",
      ["agent"],
      async (g) => {
        for (const b of await store.reviewBacklog()) g.set({ agent: b.agent }, b.count);
      },
    );
    gauge(
      "nightshift_job_runs",
      "Background job runs by job and state.",
      ["job", "state"],
      async (g) => {
        for (const j of await store.jobStates()) g.set({ job: j.job, state: j.status }, j.count);
      },
    );
    gauge(
      "nightshift_correction_deliveries",
      "Corrections for plain agents by state.",
      ["agent", "state"],
      async (g) => {
        for (const d of await store.deliveries())
          g.set({ agent: d.agent, state: d.status }, d.count);
      },
    );
    this.gpuGauges(store, stores.monitor.host, now);
  }

  /** This machine's GPUs, labelled with its host name: each daemon exports its own machine's. */
  private gpuGauges(store: MetricsReads, host: string, now: () => number): void {
    const registers = [this.registry];
    const fields = [
      [
        "nightshift_gpu_utilization_ratio",
        "GPU utilization, 0 to 1.",
        (r: GpuMetric) => (r.utilPct === null ? null : r.utilPct / 100),
      ],
      [
        "nightshift_gpu_memory_used_bytes",
        "GPU memory in use.",
        (r: GpuMetric) => (r.memUsedMb === null ? null : r.memUsedMb * 1048576),
      ],
      [
        "nightshift_gpu_memory_total_bytes",
        "GPU memory in all.",
        (r: GpuMetric) => (r.memTotalMb === null ? null : r.memTotalMb * 1048576),
      ],
      ["nightshift_gpu_power_watts", "GPU power draw.", (r: GpuMetric) => r.powerW],
      ["nightshift_gpu_temperature_celsius", "GPU temperature.", (r: GpuMetric) => r.tempC],
      [
        "nightshift_gpu_sample_age_seconds",
        "Age of the monitor's latest GPU sample.",
        (r: GpuMetric) => (now() - r.ts) / 1000,
      ],
    ] as const;
    let readings: Promise<GpuMetric[]> = Promise.resolve([]);
    fields.forEach(([name, help, value], i) => {
      new Gauge({
        name,
        help,
        labelNames: ["host", "gpu", "vendor"],
        registers,
        async collect() {
          // One query per scrape, started by the first of the GPU gauges: a scrape starts every
          // collect in registration order before awaiting any of them.
          if (i === 0) readings = store.latestGpus(host);
          const latest = await readings;
          this.reset();
          for (const r of latest) {
            const v = value(r);
            if (v !== null) this.set({ host, gpu: String(r.gpu), vendor: r.vendor ?? "" }, v);
          }
        },
      });
    });
  }

  private spanGauges(spans: (() => SpanExportCounts | undefined) | undefined): void {
    const registers = [this.registry];
    for (const [name, help, key] of [
      ["nightshift_otel_spans_exported_total", "Spans the OTLP collector accepted.", "exported"],
      [
        "nightshift_otel_spans_dropped_total",
        "Spans dropped: the export queue was full, or the collector failed or was down.",
        "dropped",
      ],
    ] as const) {
      let seen = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          // The exporter keeps its own running count; the counter catches up at each scrape.
          const total = spans?.()?.[key] ?? 0;
          if (total > seen) this.inc(total - seen);
          seen = total;
        },
      });
    }
    new Gauge({
      name: "nightshift_otel_spans_queued",
      help: "Spans waiting to be exported.",
      registers,
      collect() {
        this.set(spans?.()?.queued ?? 0);
      },
    });
  }
}
