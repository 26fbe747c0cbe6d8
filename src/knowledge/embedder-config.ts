import type { Config } from "../config.js";
import { ConfigError } from "../errors.js";
import { type Embedder, OllamaEmbedder } from "./search.js";

/** The models role whose model embeds knowledge entries; absent means full-text search only. */
export const EMBEDDER_ROLE = "embedder";

/**
 * The embedder the config asks for, if any. Without its own url the role goes through the
 * gateway, like every other model call, so embedding shows up in the ledger.
 */
export function embedderFromConfig(config: Config): Embedder | undefined {
  const role = config.models[EMBEDDER_ROLE];
  if (!role) return undefined;
  if (role.backend !== "ollama") {
    throw new ConfigError(
      `models.${EMBEDDER_ROLE}.backend: "${role.backend}" cannot embed knowledge yet; use backend "ollama" (any server with /api/embed)`,
    );
  }
  const host = ["0.0.0.0", "::", ""].includes(config.server.host)
    ? "127.0.0.1"
    : config.server.host;
  const gateway = `http://${host.includes(":") ? `[${host}]` : host}:${config.server.port}`;
  return new OllamaEmbedder({
    url: role.url ?? gateway,
    model: role.model,
    token: role.url ? undefined : config.server.token,
    agent: "knowledge",
  });
}
