import { Ollama } from "ollama";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import { spanOf } from "../../src/gateway/identity.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import { startOtlpReceiver } from "../support/otlp-receiver.js";
import { type PlainHarness, startPlainHarness } from "./harness.js";

const TOKEN = "metrics-token-0123456789";

async function callTwice(h: PlainHarness) {
  const seen: string[] = [];
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    seen.push(response.headers.get("x-nightshift-action")!);
    return response;
  };
  const headers = { "X-Nightshift-Agent": "bills", authorization: `Bearer ${TOKEN}` };
  const client = new Ollama({ host: h.gateway.url, headers, fetch: recording });
  await client.chat({ model: "qwen2.5:7b", messages: [{ role: "user", content: "total?" }] });
  const child = new Ollama({
    host: h.gateway.url,
    headers: { ...headers, "X-Nightshift-Parent": seen[0]!, "X-Nightshift-Confidence": "0.5" },
    fetch: recording,
  });
  await child.generate({ model: "qwen2.5:7b", prompt: "check it", options: { temperature: 0.2 } });
  const parent = await h.waitForAction(seen[0]!);
  const second = await h.waitForAction(seen[1]!);
  return { parent, second };
}

describe("OpenTelemetry export over OTLP/HTTP", () => {
  let h: PlainHarness | undefined;
  afterEach(() => h?.close());

  for (const protocol of ["http/protobuf", "http/json"] as const) {
    it(`sends GenAI spans with our trace and parent ids over ${protocol}`, async () => {
      const receiver = await startOtlpReceiver();
      try {
        h = await startPlainHarness({
          token: TOKEN,
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol },
        });
        h.upstream.setScript(() => ({ content: "120 EUR", promptEvalCount: 7, evalCount: 3 }));
        const { parent, second } = await callTwice(h);
        h.ledger.writer.flush();
        await h.telemetry.spans!.flush();

        const exports = receiver.received;
        expect(exports[0]!.contentType).toBe(
          protocol === "http/json" ? "application/json" : "application/x-protobuf",
        );
        expect(exports[0]!.resource).toMatchObject({ "service.name": "nightshift" });
        expect(exports[0]!.scope).toBe("nightshift");
        const spans = exports.flatMap((e) => e.spans);
        expect(spans).toHaveLength(2);
        const chat = spans.find((s) => s.spanId === spanOf(parent.id))!;
        const generate = spans.find((s) => s.spanId === spanOf(second.id))!;
        expect(chat).toMatchObject({
          traceId: parent.traceId,
          parentSpanId: "",
          name: "chat qwen2.5:7b",
          kind: 3,
          status: { code: 0 },
          startTimeUnixNano: String(BigInt(parent.startedAt) * 1_000_000n),
        });
        expect(chat.attributes).toMatchObject({
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "ollama",
          "gen_ai.request.model": "qwen2.5:7b",
          "gen_ai.response.model": "qwen2.5:7b",
          "gen_ai.usage.input_tokens": 7,
          "gen_ai.usage.output_tokens": 3,
          "gen_ai.response.finish_reasons": ["stop"],
          "gen_ai.agent.name": "bills",
          "server.address": "127.0.0.1",
          "nightshift.action.id": parent.id,
        });
        expect(generate).toMatchObject({
          traceId: parent.traceId,
          parentSpanId: spanOf(parent.id),
          name: "text_completion qwen2.5:7b",
        });
        expect(generate.attributes).toMatchObject({
          "gen_ai.operation.name": "text_completion",
          "gen_ai.request.temperature": 0.2,
          "nightshift.confidence": 0.5,
          "nightshift.flags": ["low_confidence", "requires_audit"],
        });
        expect(h.telemetry.spans!.counts).toEqual({ exported: 2, dropped: 0, queued: 0 });
      } finally {
        await receiver.close();
      }
    });
  }
});

describe("Prometheus metrics at /metrics", () => {
  let h: PlainHarness | undefined;
  afterEach(() => h?.close());

  it("serves the text format, under the API's token, with request, token, ledger, span and GPU figures", async () => {
    const receiver = await startOtlpReceiver();
    const downUrl = receiver.url;
    await receiver.close(); // nothing listens there now: the collector is down
    h = await startPlainHarness({
      token: TOKEN,
      env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${downUrl}/v1/traces` },
      // The exporter retries a refused connection until its timeout; keep the test short.
      config: () => ({ telemetry: { otlp: { timeout_ms: 300 } } }),
    });
    h.upstream.setScript(() => ({ content: "120 EUR", promptEvalCount: 7, evalCount: 3 }));
    await new SqliteActionLedger(h.ledger, false).monitor.insert({
      ts: Date.now() - 5000,
      cpuPct: 10,
      ramPct: 20,
      ramUsedMb: 4096,
      diskReadBps: 0,
      diskWriteBps: 0,
      userActive: null,
      lastActiveAt: null,
      source: "sampler",
      gpus: [
        {
          index: 0,
          vendor: "nvidia",
          utilPct: 45,
          memUsedMb: 1024,
          memTotalMb: 24576,
          powerW: 80,
          tempC: 51,
        },
      ],
    });
    await callTwice(h);
    h.ledger.writer.flush();
    await h.telemetry.spans!.flush();

    // Without the token it is refused (that refusal is itself logged, so it is asked last).
    const response = await h.api("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = new Map(
      parsePrometheusTextFormat(await response.text()).map((f) => [f.name, f]),
    );
    const samples = (name: string) => families.get(name)?.metrics ?? [];

    const requests = samples("nightshift_gateway_requests_total");
    expect(requests).toEqual([
      {
        value: "2",
        labels: {
          agent: "bills",
          model: "qwen2.5:7b",
          upstream: h.upstream.url,
          api: "ollama",
          status: "ok",
        },
      },
    ]);
    expect(families.get("nightshift_gateway_request_duration_seconds")!.type).toBe("HISTOGRAM");
    // This parser folds a labelled histogram into its buckets; +Inf holds the count.
    expect(samples("nightshift_gateway_request_duration_seconds")[0]!.buckets!["+Inf"]).toBe("2");
    expect(samples("nightshift_tokens_total")).toEqual(
      expect.arrayContaining([
        { value: "14", labels: { agent: "bills", model: "qwen2.5:7b", direction: "input" } },
        { value: "6", labels: { agent: "bills", model: "qwen2.5:7b", direction: "output" } },
      ]),
    );
    expect(samples("nightshift_ledger_queue_depth")).toEqual([{ value: "0" }]);
    expect(samples("nightshift_ledger_write_latency_seconds")[0]).toMatchObject({ count: "2" });
    // The collector was down: both spans are counted as dropped, and the calls were not held up.
    expect(samples("nightshift_otel_spans_dropped_total")).toEqual([{ value: "2" }]);
    expect(samples("nightshift_gpu_utilization_ratio")).toEqual([
      { value: "0.45", labels: { host: expect.any(String), gpu: "0", vendor: "nvidia" } },
    ]);
    expect(samples("nightshift_gpu_memory_used_bytes")[0]!.value).toBe(String(1024 * 1048576));
    expect(families.has("nightshift_review_backlog")).toBe(true);
    expect(families.has("nightshift_process_cpu_seconds_total")).toBe(true);
    expect((await fetch(`${h.gateway.url}/metrics`)).status).toBe(401);
  });
});
