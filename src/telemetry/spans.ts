import {
  type Attributes,
  type HrTime,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
} from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import {
  ATTR_ERROR_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from "@opentelemetry/semantic-conventions";
import {
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_SYSTEM,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
} from "@opentelemetry/semantic-conventions/incubating";
import { spanOf } from "../gateway/identity.js";
import type { Action } from "../ledger/actions.js";
import { VERSION } from "../version.js";

/** gen_ai.operation.name of each action type that is one model call. */
const OPERATIONS: Record<string, string> = {
  chat: "chat",
  "openai.chat": "chat",
  generate: "text_completion",
  "openai.completions": "text_completion",
  embed: "embeddings",
  embeddings: "embeddings",
  "openai.embeddings": "embeddings",
  attempt: "chat",
  model_call: "chat",
  replay: "chat",
};

const SCOPE = { name: "nightshift", version: VERSION };

/**
 * One finished action as an OpenTelemetry span, following the GenAI semantic conventions: the
 * trace id is the action's trace, the span id the action's (its UUID's last 16 hex digits, as in
 * the traceparent the gateway answers with) and the parent its parent action's, so a trace in
 * Tempo or Jaeger has the shape of `nightshift trace`.
 */
export function actionToSpan(action: Action, resource: Resource): ReadableSpan {
  const operation = OPERATIONS[action.actionType];
  const start = toHrTime(action.startedAt);
  const durationMs =
    action.latencyMs ?? Math.max(0, (action.endedAt ?? action.startedAt) - action.startedAt);
  const parentSpan = action.parentId
    ? spanOf(action.parentId)
    : typeof action.meta?.parent_span === "string"
      ? action.meta.parent_span
      : undefined;
  const context = {
    traceId: action.traceId,
    spanId: spanOf(action.id),
    traceFlags: TraceFlags.SAMPLED,
  };
  return {
    name: operation
      ? `${operation} ${action.model ?? ""}`.trim()
      : `${action.actionType} ${action.agent}`,
    kind: operation ? SpanKind.CLIENT : SpanKind.INTERNAL,
    spanContext: () => context,
    ...(parentSpan
      ? {
          parentSpanContext: {
            traceId: action.traceId,
            spanId: parentSpan,
            traceFlags: TraceFlags.SAMPLED,
            isRemote: !action.parentId,
          },
        }
      : {}),
    startTime: start,
    endTime: toHrTime(action.startedAt + durationMs),
    duration: msToHr(durationMs),
    status:
      action.status === "error"
        ? { code: SpanStatusCode.ERROR, message: action.error ?? "error" }
        : { code: SpanStatusCode.UNSET },
    attributes: attributesOf(action, operation),
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

function attributesOf(action: Action, operation: string | undefined): Attributes {
  const a: Attributes = {
    "nightshift.action.id": action.id,
    "nightshift.action.type": action.actionType,
    "nightshift.agent": action.agent,
    [ATTR_GEN_AI_AGENT_NAME]: action.agent,
  };
  if (operation) Object.assign(a, modelAttributes(action, operation));
  if (action.confidence !== null) a["nightshift.confidence"] = action.confidence;
  if (action.flags.length) a["nightshift.flags"] = action.flags;
  if (action.inputKey) a["nightshift.input_key"] = action.inputKey;
  if (action.auditStatus) a["nightshift.audit_status"] = action.auditStatus;
  if (action.gpu !== null) a["nightshift.gpu"] = action.gpu;
  if (action.upstream) Object.assign(a, serverOf(action.upstream));
  if (action.status === "error") a[ATTR_ERROR_TYPE] = errorType(action);
  return a;
}

type Body = Record<string, unknown> & {
  model?: unknown;
  id?: unknown;
  done_reason?: unknown;
  choices?: { finish_reason?: unknown }[];
  options?: { temperature?: unknown; num_predict?: unknown };
  temperature?: unknown;
  max_tokens?: unknown;
};

function modelAttributes(action: Action, operation: string): Attributes {
  const request = (isObject(action.request) ? action.request : {}) as Body;
  const response = (isObject(action.response) ? action.response : {}) as Body;
  // The OpenAI-compatible endpoints are served by Ollama behind the gateway all the same.
  const provider = action.meta?.api === "openai" ? "openai" : "ollama";
  const a: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: operation,
    [ATTR_GEN_AI_PROVIDER_NAME]: provider,
    [ATTR_GEN_AI_SYSTEM]: provider,
  };
  if (action.model) a[ATTR_GEN_AI_REQUEST_MODEL] = action.model;
  const responseModel = typeof response.model === "string" ? response.model : action.model;
  if (responseModel && action.status === "ok") a[ATTR_GEN_AI_RESPONSE_MODEL] = responseModel;
  if (action.tokensIn !== null) a[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = action.tokensIn;
  if (action.tokensOut !== null) a[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = action.tokensOut;
  if (typeof response.id === "string") a[ATTR_GEN_AI_RESPONSE_ID] = response.id;
  const reasons = finishReasons(response);
  if (reasons.length) a[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = reasons;
  const temperature = request.temperature ?? request.options?.temperature;
  if (typeof temperature === "number") a[ATTR_GEN_AI_REQUEST_TEMPERATURE] = temperature;
  const maxTokens = request.max_tokens ?? request.options?.num_predict;
  if (typeof maxTokens === "number") a[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = maxTokens;
  return a;
}

function finishReasons(response: Body): string[] {
  if (typeof response.done_reason === "string") return [response.done_reason];
  if (!Array.isArray(response.choices)) return [];
  return response.choices.flatMap((c) =>
    typeof c?.finish_reason === "string" ? [c.finish_reason] : [],
  );
}

function serverOf(upstream: string): Attributes {
  try {
    const url = new URL(upstream);
    const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
    return {
      [ATTR_SERVER_ADDRESS]: url.hostname.replace(/^\[|\]$/g, ""),
      [ATTR_SERVER_PORT]: port,
    };
  } catch {
    return {};
  }
}

function errorType(action: Action): string {
  const status = action.meta?.http_status;
  return typeof status === "number" && status >= 400 ? String(status) : "_OTHER";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function toHrTime(ms: number): HrTime {
  return msToHr(ms);
}

function msToHr(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  // Rounding 999.9999996 ms up must carry into the seconds, not make a 1e9 nanosecond field.
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
}
