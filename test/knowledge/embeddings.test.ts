import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { embedderFromConfig } from "../../src/knowledge/embedder-config.js";
import { KnowledgeBase } from "../../src/knowledge/kb.js";
import { OllamaEmbedder } from "../../src/knowledge/search.js";
import { PostgresActionLedger } from "../../src/ledger/postgres/action-ledger.js";
import { SqliteActionLedger } from "../../src/ledger/sqlite/action-ledger.js";
import type { LedgerStores } from "../../src/ledger/stores/index.js";
import { createTestDatabase, postgresUrl } from "../support/postgres-db.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { tempLedger } from "../support/temp-ledger.js";

/** Each case on a fresh ledger of each engine (PostgreSQL ranks vectors in memory without pgvector). */
const engines = [
  {
    engine: "SQLite",
    open: async (): Promise<{ stores: LedgerStores; cleanup: () => void | Promise<void> }> => {
      const { ledger, cleanup } = tempLedger();
      return { stores: new SqliteActionLedger(ledger, false), cleanup };
    },
  },
  ...(postgresUrl
    ? [
        {
          engine: "PostgreSQL",
          open: async () => {
            const stores = await PostgresActionLedger.open(
              await createTestDatabase("kb_embed", { migrated: true }),
            );
            return { stores, cleanup: () => stores.close() };
          },
        },
      ]
    : []),
];

const person = { kind: "person" as const, ref: "ann" };

describe.each(engines)("knowledge base with embeddings on $engine", ({ open }) => {
  let stores: LedgerStores;
  let cleanup: () => void | Promise<void>;
  let upstream: ScriptedUpstream;
  let kb: KnowledgeBase;
  let warnings: string[];

  beforeEach(async () => {
    ({ stores, cleanup } = await open());
    upstream = await startScriptedUpstream({ embeddingDims: 16 });
    warnings = [];
    kb = new KnowledgeBase(stores.knowledge, {
      embedder: new OllamaEmbedder({ url: upstream.url, model: "nomic-embed-text" }),
      onWarning: (message) => warnings.push(message),
    });
  });
  afterEach(async () => {
    await upstream.close();
    await cleanup();
  });

  it("embeds pending entries in one batch through /api/embed and only once", async () => {
    await kb.put({ scope: "finance", key: "k1", content: "alpha" }, person);
    await kb.put({ scope: "finance", key: "k2", content: "beta" }, person);
    expect(await kb.embedPending()).toBe(2);
    expect(await kb.embedPending()).toBe(0);
    const calls = upstream.requests.filter((r) => r.path === "/api/embed");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body).toMatchObject({
      model: "nomic-embed-text",
      input: ["k1: alpha", "k2: beta"],
    });
    expect(calls[0]!.headers["x-nightshift-agent"]).toBe("knowledge");

    await kb.put({ scope: "finance", key: "k2", content: "gamma" }, person);
    expect(await kb.embedPending()).toBe(1);
  });

  it("ranks by full text and vectors together, and finds by vector what no word matches", async () => {
    await kb.put({ scope: "finance", key: "k1", content: "alpha" }, person);
    await kb.put({ scope: "finance", key: "k2", content: "beta" }, person);
    await kb.put({ scope: "calendar", key: "k3", content: "alpha" }, person);
    await kb.embedPending();

    const exact = await kb.searchDetailed({ text: "k1: alpha", scopes: ["finance"] });
    expect(exact.mode).toBe("hybrid");
    expect(exact.hits[0]!.key).toBe("k1");
    expect(exact.hits.every((h) => h.scope === "finance")).toBe(true);

    expect(await kb.searchText({ text: "zzz", scopes: ["finance"] })).toEqual([]);
    const semantic = await kb.search({ agent: "finance", text: "zzz" });
    expect(semantic.map((h) => h.key).sort()).toEqual(["k1", "k2"]);
  });

  it("answers from full text with a warning when the embedder is down", async () => {
    await kb.put({ scope: "finance", key: "k1", content: "alpha" }, person);
    await kb.embedPending();
    await upstream.close();
    const result = await kb.searchDetailed({ text: "alpha", scopes: ["finance"] });
    expect(result.mode).toBe("fts");
    expect(result.hits.map((h) => h.key)).toEqual(["k1"]);
    expect(result.warning).toMatch(/cannot reach the embedder/);
    expect(warnings).toHaveLength(1);
  });

  it("reports an unknown embedding model with the server's message", async () => {
    const missing = new OllamaEmbedder({ url: upstream.url, model: "no-such-model" });
    await expect(missing.embed(["x"])).rejects.toThrow(
      /answered 404: model "no-such-model" not found/,
    );
  });
});

describe("embedder from config", () => {
  it("is absent unless models.embedder is configured", () => {
    expect(embedderFromConfig(parseConfig({}))).toBeUndefined();
  });

  it("goes through the gateway unless the role names its own url", () => {
    const viaGateway = embedderFromConfig(
      parseConfig({ server: { port: 9999 }, models: { embedder: { model: "nomic-embed-text" } } }),
    );
    expect(viaGateway?.model).toBe("nomic-embed-text");
    expect(() =>
      embedderFromConfig(
        parseConfig({ models: { embedder: { model: "x", backend: "llamacpp" } } }),
      ),
    ).toThrow(/cannot embed knowledge yet/);
  });
});
