import { performance } from "node:perf_hooks";
import type { Clock } from "../clock.js";
import { NightshiftError } from "../errors.js";
import { newActionId } from "../ledger/ids.js";
import { type AttemptOutcome, type AttemptRequest, runAttempt } from "./attempt.js";
import type { ConfidenceDerivation } from "./confidence.js";
import {
  emptyHistory,
  type HistoryStore,
  inputKey,
  loadHistory,
  type StageHistory,
} from "./history.js";
import type { KnowledgeHit, KnowledgeSource } from "./knowledge.js";
import type { ModelClients } from "./models.js";
import type { RecentActions } from "./recent-actions.js";
import {
  type Approach,
  type AttemptSummary,
  buildMessages,
  inputText,
  type Stage,
  type StageContext,
} from "./stage.js";

/** What running a stage needs; the Runtime holds one. */
export interface StageDeps {
  models: ModelClients;
  history: HistoryStore;
  /** Writes to the ledger's batched writer and remembers, for history before the commit. */
  writer: RecentActions;
  knowledge: KnowledgeSource;
  clock: Clock;
  threshold: number;
  maxInvalidRetries: number;
}

export interface StageScope {
  agent: string;
  traceId: string;
  /** The agent run's root action, or any action the stage belongs under; null for a root stage. */
  parentId: string | null;
  /**
   * Aborts the model call in flight and stops the stage (a paused job): the call is cut, so the
   * model server stops generating and the GPU is free at once instead of after the reply.
   */
  signal?: AbortSignal | undefined;
}

export interface StageResult<O> {
  output: O;
  confidence: number;
  /** Flags on the stage action: low_confidence, requires_audit, check_failed. */
  flags: string[];
  /** The stage action. */
  actionId: string;
  /** The winning attempt's action. */
  winnerId: string;
  winnerApproach: string;
  traceId: string;
  derivation: ConfidenceDerivation;
  attempts: AttemptSummary[];
}

/** Every approach and retry failed to give a valid reply; the stage action records each. */
export class StageFailedError extends NightshiftError {
  override readonly name = "StageFailedError";
  constructor(
    message: string,
    readonly actionId: string,
    readonly traceId: string,
    readonly attempts: AttemptSummary[],
  ) {
    super(message, { status: 502, code: "stage_failed" });
  }
}

/**
 * Runs a stage: each approach in order (primary, then alternatives), each retried while its reply
 * does not fit the schema, stopping at the first valid attempt that reaches the threshold and
 * otherwise keeping the most confident one. The stage action (action_type = stage name) is the
 * parent of every attempt and records the winner and why.
 */
export async function runStage<I, O>(
  deps: StageDeps,
  stage: Stage<I, O>,
  input: I,
  scope: StageScope,
): Promise<StageResult<O>> {
  const startedAt = deps.clock.now();
  const timer = performance.now();
  const stageId = newActionId(startedAt);
  const key = inputKey(stage.name, input);
  const attempts: AttemptSummary[] = [];
  const outcomes: { outcome: AttemptOutcome<O>; approach: string }[] = [];
  const sources = contextSources(deps, stage, input, key, scope);
  let lowConfidence = false;

  for (const [index, approach] of stage.approaches.entries()) {
    scope.signal?.throwIfAborted();
    const outcome = await tryApproach(deps, stage, input, scope, {
      approach,
      index,
      stageId,
      key,
      attempts,
      sources,
    });
    if (!outcome) continue;
    outcomes.push({ outcome, approach: approach.name });
    if ((outcome.confidence ?? 0) >= deps.threshold) break;
    lowConfidence = true;
  }

  const best = pickBest(outcomes);
  const latencyMs = performance.now() - timer;
  const base = {
    id: stageId,
    traceId: scope.traceId,
    parentId: scope.parentId,
    agent: scope.agent,
    actionType: stage.name,
    startedAt,
    endedAt: startedAt + Math.round(latencyMs),
    latencyMs,
    request: { input },
    inputKey: key,
  };
  if (!best) {
    const last = attempts.at(-1);
    const message = `stage "${stage.name}" of agent "${scope.agent}" got no valid reply in ${attempts.length} attempt(s); last: ${last?.error ?? "no attempt"}`;
    deps.writer.write({
      ...base,
      status: "error",
      error: message,
      flags: ["requires_audit"],
      // The model that failed last, so the trace and the audit can say whose reply was refused.
      model: last?.model ?? null,
      meta: {
        threshold: deps.threshold,
        winner: null,
        reason: "no valid attempt",
        attempts: attempts.map(attemptMeta),
      },
    });
    throw new StageFailedError(message, stageId, scope.traceId, attempts);
  }
  const { outcome, approach } = best;
  const confidence = outcome.confidence ?? 0;
  const flags: string[] = [];
  if (lowConfidence || confidence < deps.threshold) flags.push("low_confidence");
  if (confidence < deps.threshold) flags.push("requires_audit");
  if ((outcome.derivation?.checks_failed ?? 0) > 0) flags.push("check_failed");
  const reason = winnerReason(outcomes.length, approach, confidence, deps.threshold);
  deps.writer.write({
    ...base,
    status: "ok",
    response: outcome.output,
    confidence,
    flags,
    model: attempts.find((a) => a.actionId === outcome.actionId)?.model ?? null,
    meta: {
      threshold: deps.threshold,
      winner: outcome.actionId,
      winner_approach: approach,
      reason,
      attempts: attempts.map(attemptMeta),
    },
  });
  return {
    output: outcome.output as O,
    confidence,
    flags,
    actionId: stageId,
    winnerId: outcome.actionId,
    winnerApproach: approach,
    traceId: scope.traceId,
    derivation: outcome.derivation!,
    attempts,
  };
}

interface ApproachRun<I> {
  approach: Approach<I>;
  index: number;
  stageId: string;
  key: string;
  attempts: AttemptSummary[];
  sources: ContextSources;
}

/** One approach: its attempts until a reply fits the schema; undefined if none did. */
async function tryApproach<I, O>(
  deps: StageDeps,
  stage: Stage<I, O>,
  input: I,
  scope: StageScope,
  run: ApproachRun<I>,
): Promise<AttemptOutcome<O> | undefined> {
  const { approach } = run;
  const role = approach.role ?? stage.role;
  const client = deps.models.role(role);
  const [knowledge, history] = await Promise.all([
    run.sources.knowledge(approach.knowledge ?? stage.knowledge),
    run.sources.history(approach.history ?? stage.history ?? true),
  ]);
  let invalidReason: string | null = null;
  for (let retry = 0; retry <= deps.maxInvalidRetries; retry++) {
    const context: StageContext = {
      agent: scope.agent,
      stage: stage.name,
      approach: approach.name,
      attempt: run.attempts.length + 1,
      knowledge,
      history,
      previous: [...run.attempts],
      invalidReason,
    };
    const prompt = (approach.prompt ?? stage.prompt)(input, context);
    const request: AttemptRequest = {
      role,
      backend: client.backend,
      model: client.model,
      location: client.location,
      approach: approach.name,
      schema_name: stage.name,
      schema: stage.jsonSchema,
      messages: buildMessages(prompt, approach.system ?? stage.system, invalidReason),
      options: { ...stage.options, ...approach.options },
    };
    const outcome = await runAttempt(
      {
        agent: scope.agent,
        traceId: scope.traceId,
        parentId: run.stageId,
        inputKey: run.key,
        writer: deps.writer,
        clock: deps.clock,
        signal: scope.signal,
      },
      {
        client,
        request,
        schema: stage.schema,
        checks: stage.checks ?? [],
        input,
        confidenceField: stage.confidenceField === undefined ? "confidence" : stage.confidenceField,
        prior: stage.prior,
        meta: { approach_index: run.index, retry, knowledge_keys: knowledge.map((k) => k.key) },
      },
    );
    // The aborted attempt is logged (as a failed call) before the stage gives up.
    scope.signal?.throwIfAborted();
    run.attempts.push({
      actionId: outcome.actionId,
      approach: approach.name,
      role,
      model: client.model,
      valid: outcome.valid,
      error: outcome.error,
      confidence: outcome.confidence,
      failedChecks: (outcome.derivation?.checks ?? []).filter((c) => !c.passed).map((c) => c.name),
      output: outcome.output,
    });
    if (outcome.valid) return outcome;
    if (outcome.unreachable) return undefined;
    invalidReason = outcome.error;
  }
  return undefined;
}

interface ContextSources {
  knowledge(option: boolean | number | undefined): Promise<KnowledgeHit[]>;
  history(enabled: boolean): Promise<StageHistory>;
}

/** Knowledge and history are read at most once per stage run, and only when an approach asks. */
function contextSources<I, O>(
  deps: StageDeps,
  stage: Stage<I, O>,
  input: I,
  key: string,
  scope: StageScope,
): ContextSources {
  const hits = new Map<number, Promise<KnowledgeHit[]>>();
  let history: Promise<StageHistory> | undefined;
  return {
    knowledge(option) {
      const limit = option === true ? 5 : typeof option === "number" ? option : 0;
      if (limit <= 0) return Promise.resolve([]);
      let found = hits.get(limit);
      if (!found) {
        const text = stage.knowledgeText ? stage.knowledgeText(input) : inputText(input);
        found = deps.knowledge.search({ agent: scope.agent, text, limit });
        hits.set(limit, found);
      }
      return found;
    },
    history(enabled) {
      if (!enabled) return Promise.resolve(emptyHistory);
      history ??= loadHistory(deps.history, deps.writer, scope.agent, key, scope.traceId);
      return history;
    },
  };
}

function pickBest<O>(
  outcomes: { outcome: AttemptOutcome<O>; approach: string }[],
): { outcome: AttemptOutcome<O>; approach: string } | undefined {
  let best: { outcome: AttemptOutcome<O>; approach: string } | undefined;
  for (const candidate of outcomes) {
    // Strictly greater: on a tie the earlier approach (the cheaper, primary one) wins.
    if (!best || (candidate.outcome.confidence ?? 0) > (best.outcome.confidence ?? 0))
      best = candidate;
  }
  return best;
}

function winnerReason(
  tried: number,
  approach: string,
  confidence: number,
  threshold: number,
): string {
  if (confidence >= threshold) {
    return tried === 1
      ? `${approach} reached the threshold (${confidence} >= ${threshold})`
      : `${approach} reached the threshold (${confidence} >= ${threshold}) after ${tried - 1} approach(es) under it`;
  }
  return `no approach reached the threshold ${threshold}; ${approach} had the highest confidence (${confidence}) of ${tried} valid approach(es)`;
}

function attemptMeta(a: AttemptSummary): Record<string, unknown> {
  return {
    id: a.actionId,
    approach: a.approach,
    role: a.role,
    model: a.model,
    valid: a.valid,
    confidence: a.confidence,
    failed_checks: a.failedChecks,
    error: a.error,
  };
}
