import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "./config.js";
import { ConfigError } from "./errors.js";

function home(yaml?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "nightshift-config-"));
  if (yaml !== undefined) writeFileSync(join(dir, "nightshift.yaml"), yaml);
  return dir;
}

describe("config", () => {
  it("gives every key its default when there is no file", () => {
    const dir = home();
    const { config, configFound, dbPath } = loadConfig({ env: { NIGHTSHIFT_HOME: dir } });
    expect(configFound).toBe(false);
    expect(config.server).toEqual({
      host: "127.0.0.1",
      port: 11435,
      allowed_hosts: [],
      allowed_origins: [],
      max_body_bytes: 32 * 1024 * 1024,
    });
    expect(config.upstreams.default).toBe("http://127.0.0.1:11434");
    expect(config.idle).toMatchObject({
      cpu_pct: 20,
      gpu_pct: 15,
      ram_pct: 60,
      lookback_min: 15,
      user_idle_min: 30,
    });
    expect(config.audit).toMatchObject({ sample_rate: 0.05, min_interval_h: 12, min_backlog: 100 });
    expect(config.runtime.confidence_threshold).toBe(0.8);
    expect(dbPath).toBe(join(dir, "nightshift.db"));
  });

  it("reads nightshift.yaml from the data dir and lets the environment override it", () => {
    const dir = home(
      "server:\n  port: 9000\nupstreams:\n  routes:\n    qwen2.5:14b: http://127.0.0.1:11436\n",
    );
    const { config } = loadConfig({
      env: { NIGHTSHIFT_HOME: dir, NIGHTSHIFT_UPSTREAM: "http://127.0.0.1:9999" },
    });
    expect(config.server.port).toBe(9000);
    expect(config.upstreams.routes["qwen2.5:14b"]).toBe("http://127.0.0.1:11436");
    expect(config.upstreams.default).toBe("http://127.0.0.1:9999");
  });

  it("refuses an unknown key with its full path", () => {
    expect(() => parseConfig({ server: { prot: 1 } }, "x.yaml")).toThrow(
      /x\.yaml[\s\S]*server\.prot: unknown key/,
    );
  });

  it("refuses a bad value with its path and what was expected", () => {
    try {
      parseConfig({ idle: { cpu_pct: "low" } }, "x.yaml");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/idle\.cpu_pct: .*expected number/i);
    }
  });

  it("names the file when the YAML itself is broken", () => {
    const dir = home("server: [unclosed\n");
    expect(() => loadConfig({ env: { NIGHTSHIFT_HOME: dir } })).toThrow(
      /cannot read config .*nightshift\.yaml/,
    );
  });

  it("fails clearly when --config names a missing file", () => {
    expect(() => loadConfig({ configPath: "/nonexistent/n.yaml", env: {} })).toThrow(
      /config file not found: \/nonexistent\/n\.yaml/,
    );
  });
});
