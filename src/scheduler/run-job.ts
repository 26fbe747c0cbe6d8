import { availableParallelism } from "node:os";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { describeError, NightshiftError } from "../errors.js";
import { newActionId } from "../ledger/ids.js";
import type { Decision, SchedulerStore } from "../ledger/scheduler-store.js";
import type { IdleGate, JobSettings } from "./conditions.js";
import type { JobContext, JobDefinition, JobMode, JobOutcome } from "./job.js";
import type { ModelManager, ResidentModel } from "./models.js";

export interface RunResult {
  job: string;
  runId: string | null;
  status: "done" | "paused" | "failed" | "skipped";
  mode: JobMode;
  reason?: string;
  summary?: Record<string, unknown>;
  /** From the pause request to the GPU lease released and the job's models unloaded. */
  pauseToReleaseMs?: number;
}

export interface RunPlan {
  definition: JobDefinition;
  settings: JobSettings;
  mode: JobMode;
  forced: boolean;
  /** A paused / interrupted / stale run to resume instead of starting a new one. */
  resumeId: string | null;
  reason: string;
}

export interface RunnerDeps {
  store: SchedulerStore;
  config: Config;
  clock: Clock;
  holder: string;
  idleGate: IdleGate;
  models: ModelManager | null;
  gpuFreeMb: (gpu: number) => number | null;
  warn: (line: string) => void;
  /** Real time for latency figures (the clock may be a test's manual one). */
  realNow: () => number;
}

/**
 * One run of one job, from taking its GPU lease to giving it back: makes room for its models,
 * hands the job a context, watches the machine while it runs (every watch_every_s, renewing the
 * lease), and on a pause request aborts the job, unloads its models and releases the GPU.
 */
export class ActiveRun {
  readonly controller = new AbortController();
  readonly finished: Promise<RunResult>;
  readonly gpu: number | null;
  readonly models: string[];
  readonly startedAt: number;
  /** Whether user activity and the idle gate may pause it (not for forced or degraded runs). */
  readonly watched: boolean;
  pauseReason: string | null = null;
  private pausedAtReal: number | null = null;
  private releasedEarly = false;
  private done = false;
  private readonly stopWatch = new AbortController();
  private cpuMark = process.cpuUsage();
  private cpuMarkAt = Date.now();
  private dayModels: ResidentModel[] = [];

  private constructor(
    private readonly deps: RunnerDeps,
    private readonly plan: RunPlan,
    readonly runId: string,
    private readonly checkpoint: unknown,
  ) {
    const { settings, mode } = plan;
    this.gpu = mode === "normal" || settings.degradedUsesGpu ? settings.gpu : null;
    this.models = mode === "degraded" ? settings.degradedModels : settings.models;
    this.startedAt = deps.clock.now();
    this.watched = !plan.forced && mode === "normal" && settings.requiresIdle;
    this.finished = this.execute();
  }

  /** Leases belong to one run, so two jobs of one process never share a GPU either. */
  get leaseHolder(): string {
    return leaseHolderOf(this.deps.holder, this.runId);
  }

  get job(): string {
    return this.plan.settings.name;
  }

  /**
   * Takes the GPU lease and claims the run synchronously, so two starts in one evaluation can
   * never both think they have the card; returns a skip result when the lease is held.
   */
  static start(deps: RunnerDeps, plan: RunPlan): ActiveRun | RunResult {
    const { store, clock, holder, config } = deps;
    const name = plan.settings.name;
    const now = clock.now();
    const runId = plan.resumeId ?? newActionId();
    const gpu = plan.mode === "normal" || plan.settings.degradedUsesGpu ? plan.settings.gpu : null;
    if (gpu !== null) {
      const ttlMs = config.scheduler.lease_ttl_s * 1000;
      const leaseHolder = leaseHolderOf(holder, runId);
      const request = { gpu, holder: leaseHolder, job: name, runId, now, ttlMs };
      const { taken, lease } = store.takeLease(request);
      if (!taken) {
        const reason = `GPU ${gpu} is leased by ${lease.job} (${lease.holder}) until ${new Date(lease.expiresAt).toISOString()}`;
        store.recordDecision({
          at: now,
          job: name,
          runId: null,
          decision: "skip",
          reason,
          details: { gpu },
        });
        return { job: name, runId: null, status: "skipped", mode: plan.mode, reason };
      }
    }
    let checkpoint: unknown = null;
    if (plan.resumeId && store.claimRun(plan.resumeId, holder, plan.mode, now)) {
      checkpoint = store.getRun(plan.resumeId)?.checkpoint ?? null;
    } else {
      store.createRun({ id: runId, job: name, mode: plan.mode, holder, forced: plan.forced, now });
    }
    const decision: Decision = plan.resumeId ? "resume" : "start";
    const details = { gpu, mode: plan.mode, forced: plan.forced, checkpoint: checkpoint !== null };
    store.recordDecision({ at: now, job: name, runId, decision, reason: plan.reason, details });
    return new ActiveRun(deps, plan, runId, checkpoint);
  }

  /** Asks the job to stop at its next checkpoint; the lease and models are released after. */
  requestPause(reason: string, details: Record<string, unknown> = {}): void {
    if (this.pauseReason !== null || this.done) return;
    this.pauseReason = reason;
    this.pausedAtReal = this.deps.realNow();
    const { store, clock } = this.deps;
    store.recordDecision({
      at: clock.now(),
      job: this.job,
      runId: this.runId,
      decision: "pause",
      reason,
      details: { gpu: this.gpu, ...details },
    });
    this.controller.abort(new NightshiftError(`paused: ${reason}`, { code: "paused" }));
    void this.releaseIfSlow();
  }

  private async execute(): Promise<RunResult> {
    void this.watch();
    let outcome: JobOutcome | Error;
    try {
      await this.prepareModels();
      outcome = await this.plan.definition.run(this.context());
    } catch (error) {
      outcome = error instanceof Error ? error : new Error(String(error));
    }
    this.done = true;
    this.stopWatch.abort();
    return this.finish(outcome);
  }

  private async prepareModels(): Promise<void> {
    const { models, config, gpuFreeMb } = this.deps;
    if (this.gpu === null || !models || this.models.length === 0) return;
    if (!config.scheduler.unload_day_models) return;
    this.dayModels = await models.makeRoom(this.gpu, this.models, {
      neededMb: this.plan.settings.vramMb,
      freeMb: this.plan.settings.vramMb === null ? null : gpuFreeMb(this.gpu),
    });
    if (this.dayModels.length > 0) {
      this.logLine(
        `unloaded ${this.dayModels.map((m) => m.model).join(", ")} from GPU ${this.gpu}`,
      );
    }
  }

  private context(): JobContext {
    const { store, clock, holder } = this.deps;
    return {
      job: this.job,
      runId: this.runId,
      mode: this.plan.mode,
      checkpoint: this.checkpoint,
      gpu: this.gpu,
      models: this.models,
      signal: this.controller.signal,
      shouldPause: () => this.pauseReason !== null,
      saveCheckpoint: (state) => {
        const lease = this.gpu === null ? null : { gpu: this.gpu, holder: this.leaseHolder };
        if (!store.saveCheckpoint(this.runId, holder, lease, state, clock.now())) {
          throw new NightshiftError(
            `${this.job}: run ${this.runId} lost its GPU ${this.gpu} lease; checkpoint not saved`,
            { code: "lease_lost" },
          );
        }
      },
      log: (message) => this.logLine(message),
    };
  }

  private logLine(message: string): void {
    this.deps.store.logRun(this.runId, message);
  }

  /** Heartbeats and watches until the job ends; a pause is requested when the user is back. */
  private async watch(): Promise<void> {
    const { clock, config } = this.deps;
    for (;;) {
      try {
        await clock.sleep(config.scheduler.watch_every_s * 1000, this.stopWatch.signal);
      } catch {
        return;
      }
      if (this.done) return;
      this.heartbeat();
      if (this.watched && this.pauseReason === null) this.checkMachine();
    }
  }

  private heartbeat(): void {
    const { store, clock, holder, config } = this.deps;
    const now = clock.now();
    store.heartbeatRun(this.runId, holder, now);
    if (this.gpu === null) return;
    if (!store.renewLease(this.gpu, this.leaseHolder, now, config.scheduler.lease_ttl_s * 1000)) {
      this.requestPause(`lost the GPU ${this.gpu} lease (expired before renewal)`);
    }
  }

  /** The idle gate without the job's own load: its leased GPU and its share of the CPU. */
  private checkMachine(): void {
    const verdict = this.deps.idleGate(this.deps.clock.now(), {
      gpus: this.gpu === null ? [] : [this.gpu],
      cpuPct: this.ownCpuPct(),
    });
    // Absence of data is no evidence that someone is back; only failed thresholds pause.
    if (verdict.idle || verdict.failed.length === 0) return;
    const reason = verdict.failed.map((f) => f.message).join("; ");
    this.requestPause(`machine busy: ${reason}`, { failed: verdict.failed });
  }

  private ownCpuPct(): number {
    const usage = process.cpuUsage(this.cpuMark);
    const elapsedMs = Date.now() - this.cpuMarkAt;
    this.cpuMark = process.cpuUsage();
    this.cpuMarkAt = Date.now();
    if (elapsedMs <= 0) return 0;
    const busyMs = (usage.user + usage.system) / 1000;
    return (100 * busyMs) / (elapsedMs * availableParallelism());
  }

  /** If the job is slow to reach a checkpoint, its models go now so the user never waits. */
  private async releaseIfSlow(): Promise<void> {
    const graceMs = Math.min(5000, this.deps.config.scheduler.watch_every_s * 1000);
    const stopped = await Promise.race([
      this.finished.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), graceMs).unref()),
    ]);
    if (stopped || this.gpu === null || !this.deps.models) return;
    this.releasedEarly = true;
    this.deps.warn(
      `nightshift: ${this.job} did not stop within ${graceMs} ms of a pause; unloading its models now`,
    );
    await this.deps.models.unload(this.gpu, this.models);
  }

  private async finish(outcome: JobOutcome | Error): Promise<RunResult> {
    const { store, clock, holder } = this.deps;
    const base = { job: this.job, runId: this.runId, mode: this.plan.mode };
    let result: RunResult;
    if (outcome instanceof Error && this.pauseReason === null) {
      const error = describeError(outcome);
      store.finishRun(this.runId, holder, "failed", clock.now(), { error });
      result = { ...base, status: "failed", reason: error };
    } else if (outcome instanceof Error || outcome.status === "paused" || this.pauseReason) {
      store.finishRun(this.runId, holder, "paused", clock.now());
      result = { ...base, status: "paused", reason: this.pauseReason ?? "the job paused itself" };
    } else {
      store.finishRun(this.runId, holder, "done", clock.now(), { summary: outcome.summary });
      store.setDueSince(this.job, null, clock.now());
      result = {
        ...base,
        status: "done",
        ...(outcome.summary ? { summary: outcome.summary } : {}),
      };
    }
    const releaseError = await this.release();
    if (this.pausedAtReal !== null)
      result.pauseToReleaseMs = this.deps.realNow() - this.pausedAtReal;
    this.recordEnd(result, releaseError);
    return result;
  }

  /** Unloads the job's models, releases the lease, warms the day models; errors are returned. */
  private async release(): Promise<string | null> {
    const { store, models, config } = this.deps;
    let error: string | null = null;
    if (this.gpu !== null && models && this.models.length > 0 && !this.releasedEarly) {
      await models.unload(this.gpu, this.models).catch((e: unknown) => {
        error = `unloading ${this.models.join(", ")}: ${describeError(e)}`;
      });
    }
    if (this.gpu !== null) store.releaseLease(this.gpu, this.leaseHolder);
    if (models && config.scheduler.warm_day_models_after && this.dayModels.length > 0) {
      await models.warm(this.dayModels).catch((e: unknown) => {
        error = `${error ? `${error}; ` : ""}warming day models: ${describeError(e)}`;
      });
    }
    if (error) this.deps.warn(`nightshift: ${this.job}: ${error}`);
    return error;
  }

  private recordEnd(result: RunResult, releaseError: string | null): void {
    const { store, clock } = this.deps;
    const at = clock.now();
    if (this.gpu !== null) {
      const details = {
        gpu: this.gpu,
        unloaded: this.models,
        pause_to_release_ms: result.pauseToReleaseMs ?? null,
        error: releaseError,
      };
      store.recordDecision({
        at,
        job: this.job,
        runId: this.runId,
        decision: "release",
        reason: `released GPU ${this.gpu}`,
        details,
      });
    }
    if (result.status === "done") {
      store.recordDecision({
        at,
        job: this.job,
        runId: this.runId,
        decision: "done",
        reason: "finished",
        details: result.summary ?? null,
      });
    } else if (result.status === "failed") {
      store.recordDecision({
        at,
        job: this.job,
        runId: this.runId,
        decision: "fail",
        reason: result.reason ?? "failed",
        details: null,
      });
    }
  }
}

function leaseHolderOf(holder: string, runId: string): string {
  return `${holder}#${runId}`;
}
