import { createHash } from "node:crypto";
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import type { LoadedConfig, LoadOptions } from "./config.js";
import { resolveHome } from "./home.js";
import { VERSION } from "./version.js";

/**
 * The validated config, kept in the data dir so a command does not load the schema library and
 * validate an unchanged file on every start (zod's module body and the schema are most of what
 * `nightshift actions` paid beyond Node itself). The entry is used only when everything that
 * went into it is the same: the config file's bytes (or its absence), every NIGHTSHIFT_*
 * variable, the data dir, nightshift's version and the schema's own files. Any doubt is a miss;
 * a miss validates as before. Command-line overrides are never cached.
 */

/** The modules that define the schema (config.ts imports them): a rebuild invalidates. */
const SCHEMA_MODULES = ["config", "plain-agents/config-schema", "telemetry/config-schema"];
const FORMAT = 1;

interface Entry {
  format: number;
  key: string;
  loaded: LoadedConfig;
}

/** Where the entry for one config file lives, and the key it must carry to be used. */
interface Slot {
  file: string;
  key: string;
}

/** The cached config for these options, or undefined (never throws: a miss is always safe). */
export function readConfigCache(options: LoadOptions): LoadedConfig | undefined {
  if (options.overrides) return undefined;
  try {
    const slot = slotFor(options);
    const entry = JSON.parse(readFileSync(slot.file, "utf8")) as Partial<Entry>;
    if (entry.format !== FORMAT || entry.key !== slot.key || !entry.loaded) return undefined;
    return entry.loaded;
  } catch {
    return undefined;
  }
}

/**
 * Keeps `loaded` for the next command. Best effort: a data dir that does not exist yet is not
 * created for it, and a read-only one just means no cache.
 */
export function writeConfigCache(options: LoadOptions, loaded: LoadedConfig): void {
  if (options.overrides) return;
  const text = JSON.stringify({ format: FORMAT, key: "", loaded } satisfies Entry);
  // YAML values JSON cannot carry (.inf, .nan in a model's options) would come back changed.
  if (!isDeepStrictEqual((JSON.parse(text) as Entry).loaded, loaded)) return;
  let temporary: string | undefined;
  try {
    const slot = slotFor(options);
    if (!statSync(loaded.home).isDirectory()) return;
    temporary = `${slot.file}.${process.pid}.tmp`;
    const entry: Entry = { format: FORMAT, key: slot.key, loaded };
    // Owner-only like the data dir: the config can hold the server's token.
    writeFileSync(temporary, JSON.stringify(entry), { mode: 0o600 });
    renameSync(temporary, slot.file);
    temporary = undefined;
  } catch {
    // No cache this time; the config itself was loaded and validated.
  } finally {
    if (temporary) removeQuietly(temporary);
  }
}

function removeQuietly(path: string): void {
  try {
    // force: the write itself may have failed before the file existed.
    rmSync(path, { force: true });
  } catch {
    // Not ours to clean up (something else is at that path).
  }
}

function slotFor(options: LoadOptions): Slot {
  const env = options.env ?? process.env;
  const home = resolveHome(env);
  const configPath = resolve(options.configPath ?? join(home, "nightshift.yaml"));
  const variables = Object.keys(env)
    .filter((name) => name.startsWith("NIGHTSHIFT_"))
    .sort()
    .map((name) => [name, env[name]]);
  const key = sha256(
    JSON.stringify({
      version: VERSION,
      schema: schemaStamp(),
      home,
      configPath,
      explicit: options.configPath !== undefined,
      file: fileText(configPath),
      variables,
    }),
  );
  return { file: join(home, `.config-cache-${sha256(configPath).slice(0, 16)}.json`), key };
}

function fileText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Size and modification time of each schema module (src/*.ts under tsx, dist/*.js built). */
function schemaStamp(): string[] {
  const extension = extname(fileURLToPath(import.meta.url));
  return SCHEMA_MODULES.map((name) => {
    const stat = statSync(fileURLToPath(new URL(`./${name}${extension}`, import.meta.url)));
    return `${name}:${stat.size}:${stat.mtimeMs}`;
  });
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
