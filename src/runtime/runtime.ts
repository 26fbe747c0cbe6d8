import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import type { Config } from "../config.js";
import { newTraceId } from "../ledger/ids.js";
import type { ActionLedger } from "../ledger/stores/index.js";
import { Agent, type Pipeline } from "./agent.js";
import { emptyKnowledge, type KnowledgeSource } from "./knowledge.js";
import { ModelClients } from "./models.js";
import { RecentActions } from "./recent-actions.js";
import { type ReplayOptions, type ReplayResult, replayAction } from "./replay.js";
import type { Stage } from "./stage.js";
import { runStage, type StageDeps, type StageResult } from "./stage-run.js";

export interface RuntimeOptions {
  config: Pick<Config, "models" | "server" | "upstreams" | "runtime">;
  /**
   * The action log of either engine (`LedgerStores` from ledger/select.ts or src/app.ts, or any
   * ActionLedger): actions are queued on `writer` (batched) and history read from `actions`.
   */
  ledger: Pick<ActionLedger, "actions" | "writer">;
  knowledge?: KnowledgeSource | undefined;
  clock?: Clock | undefined;
  /** Base URL for HTTP roles without their own `url`; the gateway by default. */
  baseUrl?: string | undefined;
  /** Bring your own clients (tests, or a process sharing loaded GGUF models). */
  models?: ModelClients | undefined;
}

export interface StageRunOptions {
  agent: string;
  traceId?: string | undefined;
  parentId?: string | undefined;
  /** Cuts the model call in flight and stops the stage (see StageScope.signal). */
  signal?: AbortSignal | undefined;
}

/**
 * The SDK's entry point: holds the model clients, the ledger, the knowledge source and the
 * thresholds, and makes agents. One per process; `close()` releases embedded models.
 */
export class Runtime {
  readonly models: ModelClients;
  private readonly deps: StageDeps;
  private readonly ownsModels: boolean;
  private readonly ledger: Pick<ActionLedger, "actions" | "writer">;

  constructor(options: RuntimeOptions) {
    this.ownsModels = options.models === undefined;
    this.ledger = options.ledger;
    this.models = options.models ?? new ModelClients(options.config, { baseUrl: options.baseUrl });
    this.deps = {
      models: this.models,
      history: options.ledger.actions,
      writer: new RecentActions(options.ledger.writer),
      knowledge: options.knowledge ?? emptyKnowledge,
      clock: options.clock ?? systemClock,
      threshold: options.config.runtime.confidence_threshold,
      maxInvalidRetries: options.config.runtime.max_invalid_retries,
    };
  }

  get threshold(): number {
    return this.deps.threshold;
  }

  /** An agent: a name and a pipeline of stages. */
  agent<I, O>(name: string, pipeline: Pipeline<I, O>): Agent<I, O> {
    return new Agent(this.deps, name, pipeline);
  }

  /**
   * Runs one stage outside an agent run (a reviewer call, a one-off question). Without a
   * traceId it starts a trace of its own with the stage action as root.
   */
  runStage<I, O>(stage: Stage<I, O>, input: I, options: StageRunOptions): Promise<StageResult<O>> {
    return runStage(this.deps, stage, input, {
      agent: options.agent,
      traceId: options.traceId ?? newTraceId(),
      parentId: options.parentId ?? null,
      signal: options.signal,
    });
  }

  /**
   * Re-runs a logged stage (its winning attempt) or attempt with the same messages and schema,
   * against the same model or `options.model` / `options.role`; logged as a "replay" action under
   * the original. Pass `options.stage` to re-run the stage's checks and derive a confidence.
   */
  replay(id: string, options: Omit<ReplayOptions, "clock"> = {}): Promise<ReplayResult> {
    return replayAction(
      { actions: this.ledger.actions, writer: this.deps.writer },
      this.models,
      id,
      { ...options, clock: this.deps.clock },
    );
  }

  /**
   * Commits queued actions now (they are committed within the flush interval anyway); resolves
   * with how many were committed.
   */
  flush(): Promise<number> {
    return this.deps.writer.flush();
  }

  /** Commits what is queued and releases embedded models; the ledger stays the caller's. */
  async close(): Promise<void> {
    try {
      await this.deps.writer.flush();
    } finally {
      if (this.ownsModels) await this.models.close();
    }
  }
}
