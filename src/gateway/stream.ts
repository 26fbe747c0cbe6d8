import { StringDecoder } from "node:string_decoder";
import type { Action } from "../ledger/actions.js";

/** What the ledger keeps of a reply, assembled from the bytes that went to the client. */
export type Assembled = Pick<
  Action,
  | "response"
  | "tokensIn"
  | "tokensOut"
  | "loadDuration"
  | "promptEvalDuration"
  | "evalDuration"
  | "totalDuration"
> & {
  /** An error the upstream reported inside a 200 stream or body. */
  error: string | null;
};

/**
 * Reads a copy of the reply as it streams past. The bytes go to the client first and untouched;
 * this only looks at them, so a slow parse can never delay a token.
 */
export interface Assembler {
  push(chunk: Buffer): void;
  finish(): Assembled;
}

type Json = Record<string, unknown>;

// Bodies beyond this are passed through but not kept (a pulled model's progress, a huge batch).
const MAX_KEPT_BYTES = 32 * 1024 * 1024;

export function createAssembler(contentType: string | undefined): Assembler {
  const type = (contentType ?? "").toLowerCase();
  if (type.includes("ndjson")) return new NdjsonAssembler();
  if (type.includes("event-stream")) return new SseAssembler();
  if (type.includes("json")) return new JsonAssembler();
  return new OpaqueAssembler();
}

class JsonAssembler implements Assembler {
  private parts: Buffer[] = [];
  private bytes = 0;

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes <= MAX_KEPT_BYTES) this.parts.push(chunk);
  }

  finish(): Assembled {
    if (this.bytes > MAX_KEPT_BYTES) return emptyAssembled({ truncated_bytes: this.bytes });
    const text = Buffer.concat(this.parts).toString("utf8");
    let value: unknown;
    try {
      value = text.length ? JSON.parse(text) : null;
    } catch {
      return { ...emptyAssembled(text.slice(0, 4096)), error: "upstream sent invalid JSON" };
    }
    return fromFinalObject(isObject(value) ? value : {}, summarize(value));
  }
}

class OpaqueAssembler implements Assembler {
  private bytes = 0;
  push(chunk: Buffer): void {
    this.bytes += chunk.length;
  }
  finish(): Assembled {
    return emptyAssembled({ bytes: this.bytes });
  }
}

/** Splits a byte stream into text lines, keeping a partial line until its end arrives. */
abstract class LineAssembler implements Assembler {
  private readonly decoder = new StringDecoder("utf8");
  private rest = "";

  push(chunk: Buffer): void {
    const text = this.rest + this.decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      this.line(text.slice(start, end).replace(/\r$/, ""));
      start = end + 1;
    }
    this.rest = text.slice(start);
  }

  finish(): Assembled {
    const tail = this.rest + this.decoder.end();
    if (tail.trim()) this.line(tail);
    this.rest = "";
    return this.result();
  }

  protected abstract line(line: string): void;
  protected abstract result(): Assembled;
}

/** Ollama's NDJSON: content pieces, then a final object with counts and durations. */
class NdjsonAssembler extends LineAssembler {
  private content = "";
  private thinking = "";
  private toolCalls: unknown[] = [];
  private chat = false;
  private last: Json = {};
  private error: string | null = null;

  protected line(line: string): void {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.error ??= "upstream sent a line that is not JSON";
      return;
    }
    if (!isObject(value)) return;
    if (typeof value.error === "string") this.error = value.error;
    const message = value.message;
    if (isObject(message)) {
      this.chat = true;
      if (typeof message.content === "string") this.content += message.content;
      if (typeof message.thinking === "string") this.thinking += message.thinking;
      if (Array.isArray(message.tool_calls)) this.toolCalls.push(...message.tool_calls);
    } else {
      if (typeof value.response === "string") this.content += value.response;
      if (typeof value.thinking === "string") this.thinking += value.thinking;
    }
    this.last = value;
  }

  protected result(): Assembled {
    const { message: _m, response: _r, thinking: _t, context: _c, ...final } = this.last;
    const text = this.chat
      ? {
          message: {
            role: "assistant",
            content: this.content,
            ...(this.thinking ? { thinking: this.thinking } : {}),
            ...(this.toolCalls.length ? { tool_calls: this.toolCalls } : {}),
          },
        }
      : { response: this.content, ...(this.thinking ? { thinking: this.thinking } : {}) };
    const assembled = fromFinalObject(this.last, { ...final, ...text });
    if (this.error) assembled.error = this.error;
    else if (this.last.done !== true) assembled.error = "stream ended without a final done chunk";
    return assembled;
  }
}

interface ChoiceState {
  index: number;
  role: string;
  content: string;
  toolCalls: Map<number, { id?: string; type?: string; name: string; arguments: string }>;
  finishReason: unknown;
}

/** OpenAI's server-sent events: deltas per choice, an optional usage event, then [DONE]. */
class SseAssembler extends LineAssembler {
  private readonly choices = new Map<number, ChoiceState>();
  private head: Json = {};
  private usage: Json | null = null;
  private done = false;
  private error: string | null = null;
  private completions = false;

  protected line(line: string): void {
    if (!line.startsWith("data:")) return;
    const data = line.slice(5).trim();
    if (data === "[DONE]") {
      this.done = true;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      this.error ??= "upstream sent an event that is not JSON";
      return;
    }
    if (!isObject(value)) return;
    if (value.error !== undefined) this.error = errorText(value.error);
    if (isObject(value.usage)) this.usage = value.usage;
    if (value.id !== undefined)
      this.head = { id: value.id, created: value.created, model: value.model };
    if (value.object === "text_completion") this.completions = true;
    for (const choice of Array.isArray(value.choices) ? value.choices : []) {
      if (isObject(choice)) this.addChoice(choice);
    }
  }

  private addChoice(choice: Json): void {
    const index = typeof choice.index === "number" ? choice.index : 0;
    let state = this.choices.get(index);
    if (!state) {
      state = { index, role: "assistant", content: "", toolCalls: new Map(), finishReason: null };
      this.choices.set(index, state);
    }
    if (typeof choice.text === "string") state.content += choice.text;
    if (choice.finish_reason) state.finishReason = choice.finish_reason;
    const delta = isObject(choice.delta) ? choice.delta : {};
    if (typeof delta.role === "string") state.role = delta.role;
    if (typeof delta.content === "string") state.content += delta.content;
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
      if (!isObject(call)) continue;
      const at = typeof call.index === "number" ? call.index : state.toolCalls.size;
      const fn = isObject(call.function) ? call.function : {};
      const existing = state.toolCalls.get(at) ?? { name: "", arguments: "" };
      if (typeof call.id === "string") existing.id = call.id;
      if (typeof call.type === "string") existing.type = call.type;
      if (typeof fn.name === "string") existing.name += fn.name;
      if (typeof fn.arguments === "string") existing.arguments += fn.arguments;
      state.toolCalls.set(at, existing);
    }
  }

  protected result(): Assembled {
    const choices = [...this.choices.values()].map((c) =>
      this.completions
        ? { index: c.index, text: c.content, finish_reason: c.finishReason }
        : {
            index: c.index,
            message: {
              role: c.role,
              content: c.content,
              ...(c.toolCalls.size
                ? {
                    tool_calls: [...c.toolCalls.values()].map((t) => ({
                      id: t.id,
                      type: t.type ?? "function",
                      function: { name: t.name, arguments: t.arguments },
                    })),
                  }
                : {}),
            },
            finish_reason: c.finishReason,
          },
    );
    const object = this.completions ? "text_completion" : "chat.completion";
    const response = {
      ...this.head,
      object,
      choices,
      ...(this.usage ? { usage: this.usage } : {}),
    };
    const assembled = fromFinalObject(this.usage ? { usage: this.usage } : {}, response);
    if (this.error) assembled.error = this.error;
    else if (!this.done) assembled.error = "stream ended without data: [DONE]";
    return assembled;
  }
}

/** Counts and durations from an Ollama final object or an OpenAI `usage`. */
function fromFinalObject(value: Json, response: unknown): Assembled {
  const usage = isObject(value.usage) ? value.usage : null;
  return {
    response,
    tokensIn: int(value.prompt_eval_count) ?? int(usage?.prompt_tokens),
    tokensOut: int(value.eval_count) ?? int(usage?.completion_tokens),
    loadDuration: int(value.load_duration),
    promptEvalDuration: int(value.prompt_eval_duration),
    evalDuration: int(value.eval_duration),
    totalDuration: int(value.total_duration),
    error: value.error !== undefined ? errorText(value.error) : null,
  };
}

/**
 * Embedding vectors are kept as their count and size: they are bulky and say nothing an audit
 * can read. Generate's `context` (token ids) likewise.
 */
function summarize(value: unknown): unknown {
  if (!isObject(value)) return value;
  const out: Json = { ...value };
  delete out.context;
  if (Array.isArray(value.embeddings)) {
    out.embeddings = { count: value.embeddings.length, dimensions: dims(value.embeddings[0]) };
  }
  if (Array.isArray(value.embedding)) out.embedding = { dimensions: value.embedding.length };
  if (value.object === "list" && Array.isArray(value.data) && isObject(value.data[0])) {
    if (Array.isArray(value.data[0].embedding)) {
      out.data = { count: value.data.length, dimensions: dims(value.data[0].embedding) };
    }
  }
  return out;
}

function dims(vector: unknown): number | null {
  return Array.isArray(vector) ? vector.length : null;
}

export function errorText(error: unknown): string {
  if (typeof error === "string") return error;
  if (isObject(error) && typeof error.message === "string") return error.message;
  return JSON.stringify(error);
}

function emptyAssembled(response: unknown): Assembled {
  return {
    response,
    tokensIn: null,
    tokensOut: null,
    loadDuration: null,
    promptEvalDuration: null,
    evalDuration: null,
    totalDuration: null,
    error: null,
  };
}

function int(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? Math.round(value) : null;
}

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
