import { performance } from "node:perf_hooks";
import { describeError } from "../errors.js";
import { newActionId, newTraceId } from "../ledger/ids.js";
import { inputKey } from "./history.js";
import type { Stage } from "./stage.js";
import { runStage, type StageDeps, type StageResult } from "./stage-run.js";

/** Handed to a pipeline: runs stages as children of this run's root action. */
export interface RunContext {
  agent: string;
  traceId: string;
  /** The run's root action. */
  rootId: string;
  stage<I, O>(stage: Stage<I, O>, input: I): Promise<StageResult<O>>;
}

/** An agent's pipeline: stages run through `run.stage`, in whatever order and shape it needs. */
export type Pipeline<I, O> = (input: I, run: RunContext) => Promise<O>;

export interface AgentResult<O> {
  output: O;
  /** The weakest stage's confidence: a pipeline is as sure as its least sure step. */
  confidence: number;
  /** Union of the stages' flags. */
  flags: string[];
  traceId: string;
  /** The root action of the run (action_type "run"). */
  actionId: string;
  stages: StageResult<unknown>[];
}

export interface RunOptions {
  /** Join an existing trace (a request the gateway already logged) instead of starting one. */
  traceId?: string | undefined;
  /** Put the run under an existing action. */
  parentId?: string | undefined;
}

/** A named pipeline of stages. Each run is one trace: a root action, stages, attempts. */
export class Agent<I, O> {
  constructor(
    private readonly deps: StageDeps,
    readonly name: string,
    private readonly pipeline: Pipeline<I, O>,
  ) {}

  async run(input: I, options: RunOptions = {}): Promise<AgentResult<O>> {
    const startedAt = this.deps.clock.now();
    const timer = performance.now();
    const traceId = options.traceId ?? newTraceId();
    const rootId = newActionId(startedAt);
    const stages: StageResult<unknown>[] = [];
    const context: RunContext = {
      agent: this.name,
      traceId,
      rootId,
      stage: async (stage, stageInput) => {
        const result = await runStage(this.deps, stage, stageInput, {
          agent: this.name,
          traceId,
          parentId: rootId,
        });
        stages.push(result);
        return result;
      },
    };
    const root = {
      id: rootId,
      traceId,
      parentId: options.parentId ?? null,
      agent: this.name,
      actionType: "run",
      startedAt,
      request: { input },
      inputKey: inputKey(`run:${this.name}`, input),
    };
    let output: O;
    try {
      output = await this.pipeline(input, context);
    } catch (error) {
      const latencyMs = performance.now() - timer;
      this.deps.writer.write({
        ...root,
        endedAt: startedAt + Math.round(latencyMs),
        latencyMs,
        status: "error",
        error: describeError(error),
        meta: { stages: stages.map((s) => s.actionId) },
      });
      throw error;
    }
    const confidence = stages.length ? Math.min(...stages.map((s) => s.confidence)) : 1;
    const flags = [...new Set(stages.flatMap((s) => s.flags))];
    const latencyMs = performance.now() - timer;
    this.deps.writer.write({
      ...root,
      endedAt: startedAt + Math.round(latencyMs),
      latencyMs,
      status: "ok",
      response: output,
      confidence,
      // Flags stay on the stages that earned them, so the audit reviews each step once.
      meta: { stages: stages.map((s) => s.actionId), stage_flags: flags },
    });
    return { output, confidence, flags, traceId, actionId: rootId, stages };
  }
}

/** A pipeline where each stage's output is the next stage's input. */
// biome-ignore lint/suspicious/noExplicitAny: each stage's input is the previous stage's output, which TypeScript cannot thread through a rest parameter.
export function chain(...stages: Stage<any, any>[]): Pipeline<unknown, unknown> {
  return async (input, run) => {
    let value = input;
    for (const stage of stages) value = (await run.stage(stage, value)).output;
    return value;
  };
}
