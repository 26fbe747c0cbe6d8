import { NightshiftError } from "../errors.js";

/** Terms beyond this add little to bm25 and make long stage inputs slow to match. */
const MAX_TERMS = 32;

/**
 * Turns arbitrary text (a stage's input, a person's query) into a safe FTS5 query: its words,
 * each a quoted string, joined by OR so any word can match and bm25 ranks entries sharing more
 * (and rarer) words first. User text is never FTS syntax: quotes, NEAR, *, ^, column filters and
 * parentheses become plain words or disappear. Returns undefined when no word is left.
 */
export function toFtsQuery(text: string): string | undefined {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const unique = [...new Set(words)].slice(0, MAX_TERMS);
  if (unique.length === 0) return undefined;
  // The words hold no double quotes (the pattern excludes them), so quoting is enough.
  return unique.map((word) => `"${word}"`).join(" OR ");
}

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

/** Cosine similarity; 0 when either vector is zero or their lengths differ. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
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
