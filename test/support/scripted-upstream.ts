import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The one stand-in in our tests: a model server that speaks Ollama's exact wire protocol (and
 * Ollama's OpenAI-compatible endpoints), with replies chosen by a script. Real weights cannot be
 * downloaded here, so this plays the model; everything around it (HTTP, clients, SQLite) is real.
 *
 * Protocol notes, matching Ollama 0.x:
 * - /api/chat and /api/generate stream NDJSON unless `"stream": false`; the last object has
 *   `done: true`, `done_reason`, `prompt_eval_count`, `eval_count` and durations in nanoseconds.
 * - A request with `keep_alive: 0` and no messages/prompt unloads the model (`done_reason: "unload"`).
 * - Unknown models answer 404 `{"error": "model \"x\" not found, try pulling it first"}`.
 * - OpenAI streams are SSE `data: {...}` events ending with `data: [DONE]`.
 */

export type Endpoint =
  | "chat"
  | "generate"
  | "embed"
  | "embeddings"
  | "openai-chat"
  | "openai-completions"
  | "openai-embeddings";

export interface ScriptRequest {
  endpoint: Endpoint;
  model: string;
  body: Record<string, unknown>;
  headers: IncomingMessage["headers"];
  /** The last user message (chat) or the prompt (generate), for scripts that key on input. */
  prompt: string;
  /** How many requests this upstream has answered before this one. */
  index: number;
}

export interface ScriptedReply {
  /** The assistant's text (chat/completions) or the response (generate). */
  content?: string;
  thinking?: string;
  /** Explicit stream pieces; by default the content is cut into pieces of about 8 characters. */
  chunks?: string[];
  /** Wait before the first byte. */
  delayMs?: number;
  /** Wait between stream chunks. */
  chunkDelayMs?: number;
  /** Answer with this HTTP status and `{"error": error}` instead. */
  status?: number;
  error?: string;
  /** Destroy the connection after this many stream chunks (or before the body when 0). */
  dieAfterChunks?: number;
  promptEvalCount?: number;
  evalCount?: number;
  doneReason?: string;
}

export type Script = (request: ScriptRequest) => ScriptedReply | Promise<ScriptedReply>;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

export interface ScriptedUpstreamOptions {
  models?: string[];
  script?: Script;
  embeddingDims?: number;
  version?: string;
  /** Answer GET /api/tags with this instead (a broken server's listing, for hostile-input tests). */
  tags?: unknown;
}

export interface ScriptedUpstream {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Models currently loaded (as /api/ps reports); requests load, keep_alive 0 unloads. */
  loaded: Set<string>;
  setScript(script: Script): void;
  close(): Promise<void>;
}

const NS_PER_MS = 1_000_000;

export async function startScriptedUpstream(
  options: ScriptedUpstreamOptions = {},
): Promise<ScriptedUpstream> {
  const models = new Set(options.models ?? ["qwen2.5:7b", "qwen2.5:14b", "nomic-embed-text"]);
  const dims = options.embeddingDims ?? 8;
  let script: Script = options.script ?? defaultScript;
  const requests: RecordedRequest[] = [];
  const loaded = new Set<string>();
  let answered = 0;

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(error) });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0]!;
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return sendJson(res, 400, { error: "invalid character in request body" });
      }
    }
    requests.push({ method: req.method ?? "GET", path, headers: req.headers, body });

    if (req.method === "GET" && path === "/api/version") {
      return sendJson(res, 200, { version: options.version ?? "0.12.6" });
    }
    if (req.method === "GET" && path === "/api/tags") {
      if (options.tags !== undefined) return sendJson(res, 200, options.tags);
      return sendJson(res, 200, { models: [...models].map(modelEntry) });
    }
    if (req.method === "GET" && path === "/api/ps") {
      return sendJson(res, 200, { models: [...loaded].map(runningEntry) });
    }
    if (req.method === "GET" && path === "/v1/models") {
      return sendJson(res, 200, {
        object: "list",
        data: [...models].map((id) => ({
          id,
          object: "model",
          created: 1_700_000_000,
          owned_by: "library",
        })),
      });
    }
    if (path === "/api/show") {
      const model = String(body.model ?? body.name ?? "");
      if (!models.has(model)) return notFound(res, model);
      return sendJson(res, 200, showEntry(model));
    }
    const endpoint = endpointOf(path);
    if (!endpoint) return sendJson(res, 404, { error: `scripted upstream: no route for ${path}` });
    const model = String(body.model ?? "");
    if (!models.has(model)) return notFound(res, model, endpoint);

    if ((endpoint === "chat" || endpoint === "generate") && isUnload(body)) {
      loaded.delete(model);
      const key = endpoint === "chat" ? "message" : "response";
      const value = endpoint === "chat" ? { role: "assistant", content: "" } : "";
      return sendJson(res, 200, {
        model,
        created_at: now(),
        [key]: value,
        done_reason: "unload",
        done: true,
      });
    }
    loaded.add(model);

    const request: ScriptRequest = {
      endpoint,
      model,
      body,
      headers: req.headers,
      prompt: promptOf(endpoint, body),
      index: answered++,
    };
    const reply = await script(request);
    if (reply.delayMs) await sleep(reply.delayMs);
    if (reply.status !== undefined && reply.status >= 400) {
      return sendJson(res, reply.status, { error: reply.error ?? "scripted failure" });
    }
    if (reply.dieAfterChunks === 0) return void res.destroy();

    switch (endpoint) {
      case "embed":
        return sendJson(res, 200, embedReply(model, body, dims));
      case "embeddings":
        return sendJson(res, 200, { embedding: embedding(String(body.prompt ?? ""), dims) });
      case "openai-embeddings":
        return sendJson(res, 200, openAiEmbeddings(model, body, dims));
      case "chat":
      case "generate":
        return ollamaCompletion(res, endpoint, model, request, reply);
      case "openai-chat":
      case "openai-completions":
        return openAiCompletion(res, endpoint, model, request, reply);
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    loaded,
    setScript(next) {
      script = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Echoes the prompt; for `format` requests, an empty JSON object. */
export const defaultScript: Script = (request) =>
  request.body.format !== undefined ? { content: "{}" } : { content: `echo: ${request.prompt}` };

function endpointOf(path: string): Endpoint | undefined {
  const routes: Record<string, Endpoint> = {
    "/api/chat": "chat",
    "/api/generate": "generate",
    "/api/embed": "embed",
    "/api/embeddings": "embeddings",
    "/v1/chat/completions": "openai-chat",
    "/v1/completions": "openai-completions",
    "/v1/embeddings": "openai-embeddings",
  };
  return routes[path];
}

function isUnload(body: Record<string, unknown>): boolean {
  const keepAlive = body.keep_alive;
  const zero = keepAlive === 0 || keepAlive === "0" || keepAlive === "0s";
  const empty = Array.isArray(body.messages) ? body.messages.length === 0 : !body.prompt;
  return zero && empty;
}

function promptOf(endpoint: Endpoint, body: Record<string, unknown>): string {
  if (endpoint === "chat" || endpoint === "openai-chat") {
    const messages = (body.messages ?? []) as { role?: string; content?: unknown }[];
    const user = messages.filter((m) => m.role === "user").at(-1) ?? messages.at(-1);
    return typeof user?.content === "string" ? user.content : JSON.stringify(user?.content ?? "");
  }
  const value = body.prompt ?? body.input ?? "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

async function ollamaCompletion(
  res: ServerResponse,
  endpoint: "chat" | "generate",
  model: string,
  request: ScriptRequest,
  reply: ScriptedReply,
): Promise<void> {
  const content = reply.content ?? "";
  const chunks = reply.chunks ?? splitIntoChunks(content);
  const stats = finalStats(request, reply, chunks.length);
  const piece = (text: string) =>
    endpoint === "chat"
      ? {
          message: {
            role: "assistant",
            content: text,
            ...(reply.thinking && text === chunks[0] ? { thinking: reply.thinking } : {}),
          },
        }
      : { response: text };
  if (request.body.stream === false) {
    const whole =
      endpoint === "chat"
        ? {
            message: {
              role: "assistant",
              content,
              ...(reply.thinking ? { thinking: reply.thinking } : {}),
            },
          }
        : { response: content, context: [1, 2, 3] };
    return sendJson(res, 200, { model, created_at: now(), ...whole, ...stats });
  }
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  for (const [i, text] of chunks.entries()) {
    if (reply.dieAfterChunks !== undefined && i >= reply.dieAfterChunks) return void res.destroy();
    res.write(`${JSON.stringify({ model, created_at: now(), ...piece(text), done: false })}\n`);
    if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
  }
  if (reply.dieAfterChunks !== undefined && reply.dieAfterChunks <= chunks.length)
    return void res.destroy();
  const last =
    endpoint === "chat"
      ? { message: { role: "assistant", content: "" } }
      : { response: "", context: [1, 2, 3] };
  res.end(`${JSON.stringify({ model, created_at: now(), ...last, ...stats })}\n`);
}

async function openAiCompletion(
  res: ServerResponse,
  endpoint: "openai-chat" | "openai-completions",
  model: string,
  request: ScriptRequest,
  reply: ScriptedReply,
): Promise<void> {
  const content = reply.content ?? "";
  const chunks = reply.chunks ?? splitIntoChunks(content);
  const stats = finalStats(request, reply, chunks.length);
  const usage = {
    prompt_tokens: stats.prompt_eval_count,
    completion_tokens: stats.eval_count,
    total_tokens: stats.prompt_eval_count + stats.eval_count,
  };
  const chat = endpoint === "openai-chat";
  const id = `${chat ? "chatcmpl" : "cmpl"}-${Math.floor(Math.random() * 1000)}`;
  const base = {
    id,
    created: Math.floor(Date.now() / 1000),
    model,
    system_fingerprint: "fp_ollama",
  };
  const finish = reply.doneReason ?? "stop";
  if (request.body.stream !== true) {
    const choice = chat
      ? { index: 0, message: { role: "assistant", content }, finish_reason: finish }
      : { text: content, index: 0, finish_reason: finish };
    return sendJson(res, 200, {
      ...base,
      object: chat ? "chat.completion" : "text_completion",
      choices: [choice],
      usage,
    });
  }
  res.writeHead(200, { "content-type": "text/event-stream" });
  const object = chat ? "chat.completion.chunk" : "text_completion";
  const event = (choice: unknown, extra: Record<string, unknown> = {}) =>
    res.write(`data: ${JSON.stringify({ ...base, object, choices: [choice], ...extra })}\n\n`);
  for (const [i, text] of chunks.entries()) {
    if (reply.dieAfterChunks !== undefined && i >= reply.dieAfterChunks) return void res.destroy();
    event(
      chat
        ? { index: 0, delta: { role: "assistant", content: text }, finish_reason: null }
        : { text, index: 0, finish_reason: null },
    );
    if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
  }
  if (reply.dieAfterChunks !== undefined && reply.dieAfterChunks <= chunks.length)
    return void res.destroy();
  event(
    chat
      ? { index: 0, delta: { role: "assistant", content: "" }, finish_reason: finish }
      : { text: "", index: 0, finish_reason: finish },
  );
  const streamOptions = request.body.stream_options as { include_usage?: boolean } | undefined;
  if (streamOptions?.include_usage) {
    res.write(`data: ${JSON.stringify({ ...base, object, choices: [], usage })}\n\n`);
  }
  res.end("data: [DONE]\n\n");
}

function finalStats(request: ScriptRequest, reply: ScriptedReply, chunkCount: number) {
  const promptEvalCount =
    reply.promptEvalCount ?? Math.max(1, request.prompt.split(/\s+/).filter(Boolean).length);
  const evalCount = reply.evalCount ?? chunkCount;
  const promptEvalDuration = promptEvalCount * 2 * NS_PER_MS;
  const evalDuration = evalCount * 5 * NS_PER_MS;
  const loadDuration = 3 * NS_PER_MS;
  return {
    done: true as const,
    done_reason: reply.doneReason ?? "stop",
    total_duration: loadDuration + promptEvalDuration + evalDuration,
    load_duration: loadDuration,
    prompt_eval_count: promptEvalCount,
    prompt_eval_duration: promptEvalDuration,
    eval_count: evalCount,
    eval_duration: evalDuration,
  };
}

function splitIntoChunks(content: string): string[] {
  if (content.length === 0) return [];
  const chunks: string[] = [];
  for (let i = 0; i < content.length; i += 8) chunks.push(content.slice(i, i + 8));
  return chunks;
}

/** A deterministic unit vector from the text, so equal texts embed equally. */
export function embedding(text: string, dims: number): number[] {
  const digest = createHash("sha256").update(text).digest();
  const vector = Array.from(
    { length: dims },
    (_, i) => (digest[i % digest.length]! - 127.5) / 127.5,
  );
  const norm = Math.hypot(...vector) || 1;
  return vector.map((v) => v / norm);
}

function embedReply(model: string, body: Record<string, unknown>, dims: number) {
  const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? "")];
  return {
    model,
    embeddings: inputs.map((text) => embedding(text, dims)),
    total_duration: 4 * NS_PER_MS,
    load_duration: 1 * NS_PER_MS,
    prompt_eval_count: inputs.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0),
  };
}

function openAiEmbeddings(model: string, body: Record<string, unknown>, dims: number) {
  const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? "")];
  const tokens = inputs.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);
  return {
    object: "list",
    data: inputs.map((text, index) => ({
      object: "embedding",
      embedding: embedding(text, dims),
      index,
    })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

function modelEntry(name: string) {
  return {
    name,
    model: name,
    modified_at: "2026-11-01T10:00:00.000000000Z",
    size: 4_683_087_332,
    digest: createHash("sha256").update(name).digest("hex"),
    details: {
      parent_model: "",
      format: "gguf",
      family: "qwen2",
      families: ["qwen2"],
      parameter_size: "7.6B",
      quantization_level: "Q4_K_M",
    },
  };
}

function runningEntry(name: string) {
  return {
    ...modelEntry(name),
    expires_at: new Date(Date.now() + 5 * 60_000).toISOString(),
    size_vram: 5_000_000_000,
    context_length: 4096,
  };
}

function showEntry(name: string) {
  return {
    modelfile: `FROM ${name}`,
    parameters: 'stop "<|im_end|>"',
    template: "{{ .Prompt }}",
    details: modelEntry(name).details,
    model_info: { "general.architecture": "qwen2", "qwen2.context_length": 32768 },
    capabilities: ["completion"],
    modified_at: "2026-11-01T10:00:00.000000000Z",
  };
}

function notFound(res: ServerResponse, model: string, endpoint?: Endpoint): void {
  const openAi = endpoint?.startsWith("openai");
  const message = `model "${model}" not found, try pulling it first`;
  sendJson(
    res,
    404,
    openAi
      ? { error: { message, type: "api_error", param: null, code: null } }
      : { error: message },
  );
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

function now(): string {
  return new Date().toISOString();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
