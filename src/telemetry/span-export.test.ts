import { describe, expect, it } from "vitest";
import { parseConfig } from "../config.js";
import { resolveOtlpTarget } from "./span-export.js";

const otlp = (raw: Record<string, unknown> = {}) =>
  parseConfig({ telemetry: { otlp: raw } }).telemetry.otlp;

describe("where OTLP spans go", () => {
  it("exports nothing unless an endpoint is configured", () => {
    expect(resolveOtlpTarget(otlp(), {})).toBeUndefined();
    expect(resolveOtlpTarget(otlp(), { OTEL_EXPORTER_OTLP_ENDPOINT: "" })).toBeUndefined();
  });

  it("follows the standard variables over the config, with /v1/traces on a base endpoint", () => {
    const config = otlp({ endpoint: "http://config:4318", protocol: "http/json" });
    expect(resolveOtlpTarget(config, {})).toMatchObject({
      url: "http://config:4318/v1/traces",
      protocol: "http/json",
    });
    expect(
      resolveOtlpTarget(config, {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://env:4318/",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      }),
    ).toMatchObject({ url: "http://env:4318/v1/traces", protocol: "http/protobuf" });
    expect(
      resolveOtlpTarget(config, {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://env:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/custom",
      }),
    ).toMatchObject({ url: "http://traces:9999/custom" });
  });

  it("refuses grpc with a message saying what to use", () => {
    expect(() =>
      resolveOtlpTarget(otlp(), {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317",
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      }),
    ).toThrow(/http\/protobuf or http\/json \(not grpc\)/);
  });

  it("names a bad config value by its key", () => {
    expect(() => otlp({ endpoint: "ftp://x" })).toThrow(/telemetry\.otlp\.endpoint/);
  });
});
