import type { LoadedConfig, LoadOptions } from "../config.js";
import { readConfigCache, writeConfigCache } from "../config-cache.js";

/**
 * nightshift.yaml for one command: from the cache when nothing it depends on changed (no schema
 * library loaded, see config-cache.ts), else read, validated and cached. `prepare` runs before
 * the command's action, because the schema module is ESM and can only be loaded asynchronously;
 * an invalid config is reported only when the command asks for it, as before.
 */
export class ConfigLoader {
  private result: { loaded: LoadedConfig } | { error: unknown } | undefined;

  async prepare(options: LoadOptions): Promise<void> {
    const cached = readConfigCache(options);
    if (cached) {
      this.result = { loaded: cached };
      return;
    }
    const { loadConfig } = await import("../config.js");
    try {
      const loaded = loadConfig(options);
      writeConfigCache(options, loaded);
      this.result = { loaded };
    } catch (error) {
      this.result = { error };
    }
  }

  load(): LoadedConfig {
    if (!this.result) throw new Error("the config was asked for before ConfigLoader.prepare ran");
    if ("error" in this.result) throw this.result.error;
    return this.result.loaded;
  }
}
