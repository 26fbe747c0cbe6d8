import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import type { Config } from "../config.js";
import { describeError, NightshiftError, NotFoundError } from "../errors.js";
import type { Action } from "../ledger/actions.js";
import type { ActionAppender } from "../ledger/stores/index.js";
import { diffLines } from "./reply-diff.js";
import { Upstreams } from "./upstreams.js";

/** Gateway endpoints whose reply is a model's text, and so can be asked again. */
const REPLAYABLE = new Set(["chat", "generate", "openai.chat", "openai.completions"]);

export interface CallReplayOptions {
  config: Config;
  model?: string | undefined;
  /** A role from `models:` in the config: its model is asked. */
  role?: string | undefined;
  clock?: Clock;
}

export interface ReplySide {
  model: string | null;
  text: string;
  tokensIn: number | null;
  tokensOut: number | null;
  latencyMs: number | null;
}

export interface CallReplayResult {
  originalId: string;
  replayId: string;
  traceId: string;
  upstream: string;
  before: ReplySide;
  after: ReplySide & { error: string | null };
  identical: boolean;
  /** The two replies' text, line by line ("  " same, "- " only before, "+ " only after). */
  diff: string[];
}

export function isGatewayCall(action: Action): boolean {
  const api = action.meta?.api;
  return (api === "ollama" || api === "openai") && REPLAYABLE.has(action.actionType);
}

/**
 * Sends a logged gateway call's request again, unchanged but for the model (and without
 * streaming), to the upstream that serves the new model, logs it as a "replay" action under the
 * original (same trace, meta.replay_of) and compares the two replies' text.
 */
export async function replayGatewayCall(
  ledger: { writer: Pick<ActionAppender, "write" | "flush"> },
  action: Action,
  options: CallReplayOptions,
): Promise<CallReplayResult> {
  const request = action.request as Record<string, unknown> | null;
  const path = typeof action.meta?.path === "string" ? action.meta.path.split("?")[0]! : null;
  if (!isGatewayCall(action) || !request || typeof request !== "object" || !path) {
    throw new NightshiftError(
      `action ${action.id} (${action.actionType}) is not a logged chat, generate or completion call with its request; it cannot be replayed`,
    );
  }
  const model = targetModel(options, action);
  const body: Record<string, unknown> = { ...request, model, stream: false };
  delete body.stream_options;
  const upstreams = new Upstreams(options.config.upstreams);
  const upstream = upstreams.forModel(model);
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const t0 = performance.now();
  const reply = await send(`${upstream.url}${path}`, body, options.config.upstreams.timeout_ms);
  upstreams.close();
  const latencyMs = Math.round((performance.now() - t0) * 1000) / 1000;
  const after = readReply(action.actionType, reply.body);
  const error = reply.error ?? (reply.body === null ? "no JSON reply" : null);
  const written = ledger.writer.write({
    traceId: action.traceId,
    parentId: action.id,
    agent: action.agent,
    actionType: "replay",
    model,
    upstream: upstream.url,
    gpu: upstream.gpu,
    startedAt,
    endedAt: clock.now(),
    latencyMs,
    status: error ? "error" : "ok",
    error,
    request: body,
    response: reply.body,
    tokensIn: after.tokensIn,
    tokensOut: after.tokensOut,
    meta: { replay_of: action.id, original_model: action.model, api: action.meta?.api, path },
  });
  await ledger.writer.flush();
  const before = { ...readReply(action.actionType, action.response), model: action.model };
  return {
    originalId: action.id,
    replayId: written.id,
    traceId: action.traceId,
    upstream: upstream.url,
    before: { ...before, latencyMs: action.latencyMs },
    after: { ...after, model, latencyMs, error },
    identical: error === null && before.text === after.text,
    diff: error === null ? diffLines(before.text, after.text) : [],
  };
}

function targetModel(options: CallReplayOptions, action: Action): string {
  if (options.model) return options.model;
  if (options.role) {
    const role = options.config.models[options.role];
    if (!role) {
      const roles = Object.keys(options.config.models).join(", ") || "none";
      throw new NotFoundError(`no model role "${options.role}" in the config (roles: ${roles})`);
    }
    if (role.backend === "llamacpp") {
      throw new NightshiftError(
        `role "${options.role}" runs embedded llama.cpp; a gateway call is replayed on a model server`,
      );
    }
    return role.model;
  }
  if (!action.model) throw new NightshiftError(`action ${action.id} names no model; give --model`);
  return action.model;
}

async function send(url: string, body: unknown, timeoutMs: number) {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    const error = response.ok
      ? null
      : `${url} answered HTTP ${response.status}: ${text.slice(0, 300)}`;
    return { body: parsed, error };
  } catch (error) {
    return { body: null, error: `${url}: ${describeError(error)}` };
  }
}

type Reply = Record<string, unknown> & {
  message?: { content?: unknown };
  response?: unknown;
  choices?: { message?: { content?: unknown }; text?: unknown }[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
  prompt_eval_count?: unknown;
  eval_count?: unknown;
};

/** The reply's text and token counts, in either API's shape. */
export function readReply(
  actionType: string,
  raw: unknown,
): Omit<ReplySide, "model" | "latencyMs"> {
  const r = (raw && typeof raw === "object" ? raw : {}) as Reply;
  const num = (v: unknown) => (typeof v === "number" ? v : null);
  const text =
    actionType === "chat"
      ? r.message?.content
      : actionType === "generate"
        ? r.response
        : actionType === "openai.chat"
          ? r.choices?.[0]?.message?.content
          : r.choices?.[0]?.text;
  const openai = actionType.startsWith("openai.");
  return {
    text: typeof text === "string" ? text : "",
    tokensIn: num(openai ? r.usage?.prompt_tokens : r.prompt_eval_count),
    tokensOut: num(openai ? r.usage?.completion_tokens : r.eval_count),
  };
}
