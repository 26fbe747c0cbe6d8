import { performance } from "node:perf_hooks";
import type { z } from "zod";
import type { Clock } from "../clock.js";
import { describeError, isNightshiftError } from "../errors.js";
import { newActionId } from "../ledger/ids.js";
import type { ChatMessage, JsonSchema, ModelClient, ModelReply } from "./backends/types.js";
import {
  type CheckResult,
  type ConfidenceDerivation,
  deriveConfidence,
  modelReportedConfidence,
} from "./confidence.js";
import type { ActionSink } from "./recent-actions.js";
import type { Check } from "./stage.js";

/** What one attempt sends: everything replay needs to send it again. */
export interface AttemptRequest {
  role: string;
  backend: string;
  model: string;
  location: string;
  approach: string;
  schema_name: string;
  schema: JsonSchema;
  messages: ChatMessage[];
  options?: Record<string, unknown> | undefined;
}

export interface AttemptOutcome<O> {
  actionId: string;
  valid: boolean;
  /** Transport failure (dead server, unknown model): retrying the same approach will not help. */
  unreachable: boolean;
  output: O | null;
  content: string | null;
  error: string | null;
  confidence: number | null;
  derivation: ConfidenceDerivation | null;
  flags: string[];
}

export interface AttemptScope {
  agent: string;
  traceId: string;
  parentId: string;
  inputKey: string;
  writer: ActionSink;
  clock: Clock;
  signal?: AbortSignal | undefined;
}

export interface AttemptPlan<I, O> {
  client: ModelClient;
  request: AttemptRequest;
  schema: z.ZodType<O>;
  /** null when the checks cannot be run (a replay without the stage's code): no confidence then. */
  checks: Check<I, O>[] | null;
  input: I;
  confidenceField: string | null;
  prior: number | undefined;
  meta: Record<string, unknown>;
  /** Set to write the attempt under another action type (replay does). */
  actionType?: string;
}

/**
 * Asks the model once and judges the reply: parse, validate, run checks, derive confidence. A
 * reply that does not fit is an invalid attempt, not an exception; only bugs throw from here.
 * The attempt is written as one action (child of the stage); when the backend is not the gateway,
 * the model call is written too, as the attempt's child, so every LLM call is in the ledger.
 */
export async function runAttempt<I, O>(
  scope: AttemptScope,
  plan: AttemptPlan<I, O>,
): Promise<AttemptOutcome<O>> {
  const startedAt = scope.clock.now();
  const timer = performance.now();
  const actionId = newActionId(startedAt);
  const { client, request } = plan;
  let reply: ModelReply | null = null;
  let transportError: unknown = null;
  try {
    reply = await client.chat({
      messages: request.messages,
      schema: request.schema,
      schemaName: request.schema_name,
      options: request.options,
      agent: scope.agent,
      parentId: actionId,
      traceId: scope.traceId,
      signal: scope.signal,
    });
  } catch (error) {
    if (!isNightshiftError(error)) throw error;
    transportError = error;
  }
  const modelMs = performance.now() - timer;
  if (!client.loggedByGateway)
    writeModelCall(scope, actionId, startedAt, modelMs, plan, reply, transportError);

  const outcome = reply
    ? await judge(reply.content, plan)
    : { valid: false, output: null, error: describeError(transportError), derivation: null };
  const flags: string[] = [];
  if (reply && !outcome.valid) flags.push("invalid_output");
  if (outcome.derivation && outcome.derivation.checks_failed > 0) flags.push("check_failed");
  const latencyMs = performance.now() - timer;
  scope.writer.write({
    id: actionId,
    traceId: scope.traceId,
    parentId: scope.parentId,
    agent: scope.agent,
    actionType: plan.actionType ?? "attempt",
    model: reply?.model ?? client.model,
    upstream: client.location,
    gpu: client.gpu,
    startedAt,
    endedAt: startedAt + Math.round(latencyMs),
    latencyMs,
    status: outcome.valid ? "ok" : "error",
    error: outcome.error,
    request,
    response: reply ? { content: reply.content, output: outcome.output } : null,
    confidence: outcome.derivation?.value ?? null,
    flags,
    tokensIn: reply?.tokensIn,
    tokensOut: reply?.tokensOut,
    loadDuration: reply?.loadDuration,
    promptEvalDuration: reply?.promptEvalDuration,
    evalDuration: reply?.evalDuration,
    totalDuration: reply?.totalDuration,
    inputKey: scope.inputKey,
    meta: {
      ...plan.meta,
      approach: request.approach,
      role: request.role,
      backend: request.backend,
      model_ms: round(modelMs),
      logged_by_gateway: client.loggedByGateway,
      ...(outcome.derivation ? { confidence: outcome.derivation } : {}),
    },
  });
  return {
    actionId,
    valid: outcome.valid,
    unreachable: transportError !== null,
    output: outcome.output,
    content: reply?.content ?? null,
    error: outcome.error,
    confidence: outcome.derivation?.value ?? null,
    derivation: outcome.derivation,
    flags,
  };
}

interface Judgement<O> {
  valid: boolean;
  output: O | null;
  error: string | null;
  derivation: ConfidenceDerivation | null;
}

async function judge<I, O>(content: string, plan: AttemptPlan<I, O>): Promise<Judgement<O>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    const shown = content.length > 120 ? `${content.slice(0, 120)}…` : content;
    return {
      valid: false,
      output: null,
      error: `reply is not JSON: ${JSON.stringify(shown)}`,
      derivation: null,
    };
  }
  const result = plan.schema.safeParse(parsed);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`);
    return {
      valid: false,
      output: null,
      error: `reply does not fit the schema: ${issues.join("; ")}`,
      derivation: null,
    };
  }
  if (plan.checks === null)
    return { valid: true, output: result.data, error: null, derivation: null };
  const checks = await runChecks(plan.checks, result.data, plan.input);
  const reported = modelReportedConfidence(result.data, plan.confidenceField);
  return {
    valid: true,
    output: result.data,
    error: null,
    derivation: deriveConfidence(checks, reported, plan.prior),
  };
}

export async function runChecks<I, O>(
  checks: Check<I, O>[],
  output: O,
  input: I,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [index, check] of checks.entries()) {
    const fallbackName = check.name || `check ${index + 1}`;
    try {
      const result = await check(output, input);
      results.push({ ...result, name: result.name || fallbackName });
    } catch (error) {
      // A check that cannot run has not passed; the error is kept as its detail for the trace.
      results.push({
        name: fallbackName,
        passed: false,
        detail: `check threw: ${describeError(error)}`,
      });
    }
  }
  return results;
}

function writeModelCall<I, O>(
  scope: AttemptScope,
  attemptId: string,
  startedAt: number,
  latencyMs: number,
  plan: AttemptPlan<I, O>,
  reply: ModelReply | null,
  error: unknown,
): void {
  const { client, request } = plan;
  scope.writer.write({
    traceId: scope.traceId,
    parentId: attemptId,
    agent: scope.agent,
    actionType: "model_call",
    model: reply?.model ?? client.model,
    upstream: client.location,
    gpu: client.gpu,
    startedAt,
    endedAt: startedAt + Math.round(latencyMs),
    latencyMs,
    status: reply ? "ok" : "error",
    error: reply ? null : describeError(error),
    request: {
      model: client.model,
      messages: request.messages,
      format: request.schema,
      options: request.options,
    },
    response: reply ? { content: reply.content } : null,
    tokensIn: reply?.tokensIn,
    tokensOut: reply?.tokensOut,
    loadDuration: reply?.loadDuration,
    promptEvalDuration: reply?.promptEvalDuration,
    evalDuration: reply?.evalDuration,
    totalDuration: reply?.totalDuration,
    meta: { backend: client.backend, role: client.role },
  });
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
