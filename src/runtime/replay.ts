import { z } from "zod";
import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import { NightshiftError, NotFoundError } from "../errors.js";
import type { Action } from "../ledger/actions.js";
import type { ActionReads } from "../ledger/stores/index.js";
import { type AttemptRequest, runAttempt } from "./attempt.js";
import type { ConfidenceDerivation } from "./confidence.js";
import { modelReportedConfidence } from "./confidence.js";
import type { ModelClients } from "./models.js";
import type { ActionSink } from "./recent-actions.js";
import type { Stage } from "./stage.js";

/**
 * The ledger of either engine, or the runtime's view of it: where the original is read and the
 * replay written.
 */
export interface ReplayLedger {
  actions: Pick<ActionReads, "find" | "get" | "children">;
  writer: ActionSink;
}

export interface ReplayOptions {
  /** Ask this model instead (same role, so same backend and URL). */
  model?: string | undefined;
  /** Ask this role's model instead. */
  role?: string | undefined;
  /** The stage's definition, to re-run its checks; without it the replay has no confidence. */
  stage?: Stage<unknown, unknown> | undefined;
  clock?: Clock | undefined;
}

export interface OutputDifference {
  /** Dotted path into the output ("" for the whole value). */
  path: string;
  before: unknown;
  after: unknown;
}

export interface ReplayResult {
  /** The attempt replayed (a stage id resolves to its winning attempt). */
  originalId: string;
  replayId: string;
  traceId: string;
  before: {
    model: string | null;
    role: string;
    output: unknown;
    confidence: number | null;
    derivation: ConfidenceDerivation | null;
  };
  after: {
    model: string;
    role: string;
    valid: boolean;
    error: string | null;
    output: unknown;
    confidence: number | null;
    modelReported: number | null;
    derivation: ConfidenceDerivation | null;
  };
  /** Empty when the outputs are equal. */
  differences: OutputDifference[];
  checksRerun: boolean;
}

/**
 * Re-runs a logged stage or attempt: the same messages and JSON schema, sent to the same model or
 * another, logged as a "replay" action under the original (meta.replay_of), and compared with it.
 * This is how a person compares a single model with the two-stage pipeline, or a new model with
 * the old one, on real inputs.
 */
export async function replayAction(
  ledger: ReplayLedger,
  models: ModelClients,
  id: string,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const original = await resolveAttempt(ledger, id);
  const request = original.request as AttemptRequest;
  const role = options.role ?? request.role;
  const client = options.model
    ? models.withModel(role, options.model)
    : options.role
      ? models.role(role)
      : models.withModel(role, request.model);
  const stageAction = original.parentId ? await ledger.actions.get(original.parentId) : undefined;
  const input = (stageAction?.request as { input?: unknown } | null)?.input ?? null;
  const outcome = await runAttempt(
    {
      agent: original.agent,
      traceId: original.traceId,
      parentId: original.id,
      inputKey: original.inputKey ?? "",
      writer: ledger.writer,
      clock: options.clock ?? systemClock,
    },
    {
      client,
      request: {
        ...request,
        role,
        backend: client.backend,
        model: client.model,
        location: client.location,
      },
      schema: z.fromJSONSchema(request.schema as Parameters<typeof z.fromJSONSchema>[0]),
      checks: options.stage?.checks ?? null,
      input,
      confidenceField:
        options.stage?.confidenceField === undefined ? "confidence" : options.stage.confidenceField,
      prior: options.stage?.prior,
      meta: { replay_of: original.id, original_model: original.model, original_role: request.role },
      actionType: "replay",
    },
  );
  await ledger.writer.flush();
  const before = original.response as { output?: unknown } | null;
  const beforeOutput = before?.output ?? null;
  return {
    originalId: original.id,
    replayId: outcome.actionId,
    traceId: original.traceId,
    before: {
      model: original.model,
      role: request.role,
      output: beforeOutput,
      confidence: original.confidence,
      derivation: (original.meta?.confidence as ConfidenceDerivation | undefined) ?? null,
    },
    after: {
      model: client.model,
      role,
      valid: outcome.valid,
      error: outcome.error,
      output: outcome.output,
      confidence: outcome.confidence,
      modelReported: modelReportedConfidence(outcome.output, "confidence"),
      derivation: outcome.derivation,
    },
    differences: outcome.valid ? diffValues(beforeOutput, outcome.output) : [],
    checksRerun: options.stage !== undefined,
  };
}

/** An attempt or replay as it is; a stage action as its winning (or last) attempt. */
async function resolveAttempt(ledger: ReplayLedger, id: string): Promise<Action> {
  // The original may still be queued in this process's writer.
  await ledger.writer.flush();
  const action = await ledger.actions.find(id);
  if (!action) throw new NotFoundError(`no action ${id} in the ledger`);
  if (isReplayable(action)) return action;
  const winner = action.meta?.winner;
  if (typeof winner === "string") {
    const attempt = await ledger.actions.get(winner);
    if (attempt && isReplayable(attempt)) return attempt;
  }
  const last = (await ledger.actions.children(action.id)).filter(isReplayable).at(-1);
  if (last) return last;
  throw new NightshiftError(
    `action ${action.id} (${action.actionType}) is neither a gateway chat, generate or completion call nor a runtime stage or attempt; only those can be replayed`,
  );
}

function isReplayable(action: Action): boolean {
  const request = action.request as Partial<AttemptRequest> | null;
  return (
    (action.actionType === "attempt" || action.actionType === "replay") &&
    Array.isArray(request?.messages) &&
    typeof request?.schema === "object" &&
    typeof request?.role === "string"
  );
}

/** Leaf-by-leaf differences between two JSON values. */
export function diffValues(before: unknown, after: unknown, path = ""): OutputDifference[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => diffValues(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const length = Math.max(before.length, after.length);
    return Array.from({ length }, (_, i) =>
      diffValues(before[i], after[i], `${path}[${i}]`),
    ).flat();
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before, after }];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
