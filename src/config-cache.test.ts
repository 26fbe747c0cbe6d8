import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigLoader } from "./cli/config-loader.js";
import { loadConfig } from "./config.js";
import { readConfigCache, writeConfigCache } from "./config-cache.js";
import { ConfigError } from "./errors.js";

function home(yaml?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "nightshift-config-cache-"));
  if (yaml !== undefined) writeFileSync(join(dir, "nightshift.yaml"), yaml);
  return dir;
}

/** What a command gets: through the loader, as the CLI's context does. */
async function viaLoader(env: NodeJS.ProcessEnv, configPath?: string) {
  const loader = new ConfigLoader();
  await loader.prepare({ env, configPath });
  return loader.load();
}

describe("config cache", () => {
  it("gives back exactly what validation gave, once written", () => {
    const env = { NIGHTSHIFT_HOME: home("server:\n  port: 12000\n") };
    expect(readConfigCache({ env })).toBeUndefined();
    const loaded = loadConfig({ env });
    writeConfigCache({ env }, loaded);
    expect(readConfigCache({ env })).toEqual(loaded);
    const files = readdirSync(env.NIGHTSHIFT_HOME).filter((f) => f.startsWith(".config-cache"));
    expect(files).toHaveLength(1);
    // Owner-only: the config may hold the server's token.
    expect(statSync(join(env.NIGHTSHIFT_HOME, files[0]!)).mode & 0o777).toBe(0o600);
  });

  it("sees an edit to the file, even one of the same size", async () => {
    const dir = home("server:\n  port: 12000\n");
    const env = { NIGHTSHIFT_HOME: dir };
    expect((await viaLoader(env)).config.server.port).toBe(12000);
    writeFileSync(join(dir, "nightshift.yaml"), "server:\n  port: 12001\n");
    expect((await viaLoader(env)).config.server.port).toBe(12001);
  });

  it("reports a config made invalid after it was cached, naming the key", async () => {
    const dir = home("server:\n  port: 12000\n");
    const env = { NIGHTSHIFT_HOME: dir };
    await viaLoader(env);
    writeFileSync(join(dir, "nightshift.yaml"), "server:\n  port: many\n");
    await expect(viaLoader(env)).rejects.toThrow(ConfigError);
    await expect(viaLoader(env)).rejects.toThrow(/server\.port/);
  });

  it("sees a config file appear or disappear, and a --config file gone", async () => {
    const dir = home();
    const env = { NIGHTSHIFT_HOME: dir };
    expect((await viaLoader(env)).configFound).toBe(false);
    writeFileSync(join(dir, "nightshift.yaml"), "idle:\n  cpu_pct: 5\n");
    const found = await viaLoader(env);
    expect(found.configFound).toBe(true);
    expect(found.config.idle.cpu_pct).toBe(5);
    const other = join(home(), "other.yaml");
    writeFileSync(other, "idle:\n  cpu_pct: 7\n");
    expect((await viaLoader(env, other)).config.idle.cpu_pct).toBe(7);
    writeFileSync(other, "");
    expect((await viaLoader(env, other)).config.idle.cpu_pct).toBe(20);
    await expect(viaLoader(env, join(dir, "missing.yaml"))).rejects.toThrow(/not found/);
  });

  it("is keyed by every NIGHTSHIFT_ variable", async () => {
    const dir = home();
    expect((await viaLoader({ NIGHTSHIFT_HOME: dir })).config.server.port).toBe(11435);
    const moved = { NIGHTSHIFT_HOME: dir, NIGHTSHIFT_PORT: "12002" };
    expect((await viaLoader(moved)).config.server.port).toBe(12002);
    expect((await viaLoader({ NIGHTSHIFT_HOME: dir })).config.server.port).toBe(11435);
  });

  it("never caches command-line overrides", () => {
    const env = { NIGHTSHIFT_HOME: home() };
    const overrides = (raw: Record<string, unknown>) => {
      raw.server = { port: 12003 };
    };
    const loaded = loadConfig({ env, overrides });
    writeConfigCache({ env, overrides }, loaded);
    expect(readConfigCache({ env })).toBeUndefined();
    expect(readConfigCache({ env, overrides })).toBeUndefined();
  });

  it("does not create a data dir that does not exist", () => {
    const env = { NIGHTSHIFT_HOME: join(home(), "not-yet") };
    writeConfigCache({ env }, loadConfig({ env }));
    expect(readConfigCache({ env })).toBeUndefined();
  });

  it("keeps out values JSON would change (.inf in a model's options)", () => {
    const yaml = "models:\n  reasoner:\n    model: m\n    options:\n      top_k: .inf\n";
    const env = { NIGHTSHIFT_HOME: home(yaml) };
    const loaded = loadConfig({ env });
    expect(loaded.config.models.reasoner?.options?.top_k).toBe(Number.POSITIVE_INFINITY);
    writeConfigCache({ env }, loaded);
    expect(readConfigCache({ env })).toBeUndefined();
  });

  it("still loads the config when the cache cannot be written, leaving nothing behind", async () => {
    const dir = home("idle:\n  cpu_pct: 11\n");
    const env = { NIGHTSHIFT_HOME: dir };
    await viaLoader(env);
    const file = readdirSync(dir).find((f) => f.startsWith(".config-cache"))!;
    rmSync(join(dir, file));
    // A directory where the entry goes: the rename over it fails.
    mkdirSync(join(dir, file, "x"), { recursive: true });
    writeFileSync(join(dir, "nightshift.yaml"), "idle:\n  cpu_pct: 12\n");
    expect((await viaLoader(env)).config.idle.cpu_pct).toBe(12);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    // And where even the temporary file cannot be written (a directory in its place).
    mkdirSync(join(dir, `${file}.${process.pid}.tmp`));
    writeFileSync(join(dir, "nightshift.yaml"), "idle:\n  cpu_pct: 13\n");
    expect((await viaLoader(env)).config.idle.cpu_pct).toBe(13);
  });

  it("treats a damaged or foreign cache file as a miss", async () => {
    const dir = home("idle:\n  cpu_pct: 9\n");
    const env = { NIGHTSHIFT_HOME: dir };
    await viaLoader(env);
    const file = readdirSync(dir).find((f) => f.startsWith(".config-cache"))!;
    const entry = JSON.parse(readFileSync(join(dir, file), "utf8"));
    entry.loaded.config.idle.cpu_pct = 99;
    entry.key = "0".repeat(64);
    writeFileSync(join(dir, file), JSON.stringify(entry));
    expect((await viaLoader(env)).config.idle.cpu_pct).toBe(9);
    writeFileSync(join(dir, file), "{not json");
    expect((await viaLoader(env)).config.idle.cpu_pct).toBe(9);
  });

  it("stamps every schema module config.ts imports", () => {
    const source = readFileSync(new URL("./config.ts", import.meta.url), "utf8");
    const schemaImports = [...source.matchAll(/from "\.\/([\w/-]+config-schema)\.js"/g)].map(
      (match) => match[1],
    );
    const cache = readFileSync(new URL("./config-cache.ts", import.meta.url), "utf8");
    const listed = /SCHEMA_MODULES = \[([^\]]*)\]/.exec(cache)?.[1] ?? "";
    expect(schemaImports.length).toBeGreaterThan(0);
    for (const module of schemaImports) expect(listed).toContain(`"${module}"`);
  });
});
