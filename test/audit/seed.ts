import type { Action, NewAction } from "../../src/ledger/actions.js";
import { newActionId } from "../../src/ledger/ids.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { inputKey } from "../../src/runtime/history.js";

/** A day agent's stage action as the runtime logs it: input, structured output, confidence. */
export interface StageSpec {
  agent?: string;
  stage?: string;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
  confidence?: number;
  flags?: string[];
  at: number;
  status?: "ok" | "error";
  parentId?: string;
  traceId?: string;
}

export function stageAction(spec: StageSpec): NewAction {
  const stage = spec.stage ?? "categorize";
  return {
    id: newActionId(spec.at),
    agent: spec.agent ?? "finance",
    actionType: stage,
    model: "qwen2.5:7b",
    startedAt: spec.at,
    endedAt: spec.at + 40,
    latencyMs: 40,
    status: spec.status ?? "ok",
    error: spec.status === "error" ? "upstream answered 500" : null,
    request: { input: spec.input },
    response: spec.status === "error" ? null : spec.output,
    confidence: spec.confidence ?? 0.9,
    flags: spec.flags ?? [],
    inputKey: inputKey(stage, spec.input),
    ...(spec.parentId ? { parentId: spec.parentId } : {}),
    ...(spec.traceId ? { traceId: spec.traceId } : {}),
  };
}

export function insertStages(ledger: Ledger, specs: StageSpec[]): Action[] {
  return ledger.actions.insert(specs.map(stageAction));
}

/** A gateway chat call of some agent (not a runtime stage). */
export function chatAction(agent: string, at: number, extra: Partial<NewAction> = {}): NewAction {
  return {
    agent,
    actionType: "chat",
    model: "qwen2.5:7b",
    startedAt: at,
    status: "ok",
    request: { model: "qwen2.5:7b", messages: [{ role: "user", content: `question at ${at}` }] },
    response: { message: { role: "assistant", content: "an answer" } },
    confidence: null,
    ...extra,
  };
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
