import { NightshiftError } from "../errors.js";

/** Turns text into vectors; the knowledge base's optional semantic half. */
export interface Embedder {
  /** Names the vectors, so a change of model re-embeds instead of mixing spaces. */
  readonly model: string;
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

export interface OllamaEmbedderOptions {
  /** Base URL of an Ollama-compatible server (the gateway, so the calls are logged). */
  url: string;
  model: string;
  /** Sent as a bearer token, for a gateway that requires one. */
  token?: string | undefined;
  /** Sent as X-Nightshift-Agent, so the ledger says who embedded. */
  agent?: string;
  timeoutMs?: number;
}

/** Embeds through Ollama's /api/embed (batch input, one vector per text). */
export class OllamaEmbedder implements Embedder {
  readonly model: string;

  constructor(private readonly options: OllamaEmbedderOptions) {
    this.model = options.model;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const url = new URL("/api/embed", this.options.url).toString();
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-nightshift-agent": this.options.agent ?? "knowledge",
    };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: this.model, input: texts }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      throw new NightshiftError(
        `cannot reach the embedder at ${url}: ${(error as Error).message}; is the model server running?`,
        { status: 502, code: "embedder", cause: error },
      );
    }
    const body = (await response.json().catch(() => ({}))) as {
      embeddings?: unknown;
      error?: string;
    };
    if (!response.ok) {
      throw new NightshiftError(
        `the embedder at ${url} answered ${response.status}: ${body.error ?? "no error message"}`,
        { status: 502, code: "embedder" },
      );
    }
    const vectors = body.embeddings;
    if (!Array.isArray(vectors) || vectors.length !== texts.length) {
      throw new NightshiftError(
        `the embedder at ${url} returned ${Array.isArray(vectors) ? vectors.length : "no"} vectors for ${texts.length} texts`,
        { status: 502, code: "embedder" },
      );
    }
    return vectors.map((v) => Float32Array.from(v as number[]));
  }
}

/** The usual constant of reciprocal rank fusion: damps the weight of the very top ranks. */
const RRF_K = 60;

/**
 * Fuses rankings (lists of ids, best first) by reciprocal rank fusion: robust to the two
 * scores living on different scales, which bm25 and cosine do.
 */
export function fuseRankings(rankings: number[][]): Map<number, number> {
  const scores = new Map<number, number>();
  for (const ranking of rankings) {
    ranking.forEach((id, index) => {
      scores.set(id, (scores.get(id) ?? 0) + 1 / (RRF_K + index + 1));
    });
  }
  return scores;
}
