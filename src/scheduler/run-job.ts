import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { describeError, NightshiftError } from "../errors.js";
import { newActionId } from "../ledger/ids.js";
import { leaseHolderOf, type SchedulerStore } from "../ledger/stores/index.js";
import type { IdleGate, JobSettings } from "./conditions.js";
import type { JobContext, JobDefinition, JobMode, JobOutcome } from "./job.js";
import type { ModelManager, ResidentModel } from "./models.js";
import { CpuShare, type RunResult, recordRunEnd } from "./run-end.js";

export type { RunResult };

export interface RunPlan {
  definition: JobDefinition;
  settings: JobSettings;
  mode: JobMode;
  forced: boolean;
  /**
   * The job's last success as assessed (its run id, or null for none): if another daemon
   * finishes a run before this one starts, the job is no longer due and is not started again.
   * Undefined for a forced run.
   */
  lastSuccessId?: string | null | undefined;
  reason: string;
}

export interface RunnerDeps {
  store: SchedulerStore;
  config: Config;
  clock: Clock;
  holder: string;
  idleGate: IdleGate;
  models: ModelManager | null;
  gpuFreeMb: (gpu: number) => number | null | Promise<number | null>;
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
  private readonly cpu = new CpuShare();
  private dayModels: ResidentModel[] = [];
  /** The run's writes (checkpoints, log lines, pause decisions), in the order they were made. */
  private writes: Promise<void> = Promise.resolve();
  private lost: NightshiftError | null = null;

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
   * Starts the run, or resumes the job's paused or dead one, in one store transaction that also
   * takes its GPU lease and makes it the job's only run across every daemon of the ledger;
   * returns a skip result when the lease or the job is held elsewhere.
   */
  static async start(deps: RunnerDeps, plan: RunPlan): Promise<ActiveRun | RunResult> {
    const { store, clock, holder, config } = deps;
    const name = plan.settings.name;
    const now = clock.now();
    const ttlMs = config.scheduler.lease_ttl_s * 1000;
    const gpu = plan.mode === "normal" || plan.settings.degradedUsesGpu ? plan.settings.gpu : null;
    const started = await store.startRun({
      job: name,
      holder,
      mode: plan.mode,
      forced: plan.forced,
      now,
      staleBefore: now - ttlMs,
      newRunId: newActionId(),
      gpu,
      leaseTtlMs: ttlMs,
      ...(plan.lastSuccessId === undefined ? {} : { lastSuccessId: plan.lastSuccessId }),
      reason: plan.reason,
    });
    if (!started.started) {
      const reason = started.message;
      const details = { gpu, why: started.why };
      await store.recordDecision({
        at: now,
        job: name,
        runId: null,
        decision: "skip",
        reason,
        details,
      });
      return { job: name, runId: null, status: "skipped", mode: plan.mode, reason };
    }
    const checkpoint = started.resumed ? started.run.checkpoint : null;
    return new ActiveRun(deps, plan, started.run.id, checkpoint);
  }

  /** Asks the job to stop at its next checkpoint; the lease and models are released after. */
  requestPause(reason: string, details: Record<string, unknown> = {}): void {
    if (this.pauseReason !== null || this.done) return;
    this.pauseReason = reason;
    this.pausedAtReal = this.deps.realNow();
    const { store, clock } = this.deps;
    const decision = {
      at: clock.now(),
      job: this.job,
      runId: this.runId,
      decision: "pause" as const,
      reason,
      details: { gpu: this.gpu, ...details },
    };
    void this.queue(() => store.recordDecision(decision)).catch(() => undefined);
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
    try {
      return await this.finish(outcome);
    } catch (error) {
      // The ledger is unreachable: the run stays "running" until its heartbeat goes stale, and
      // is then resumed from its last checkpoint, by this daemon or another.
      const reason = `recording the end of run ${this.runId} failed: ${describeError(error)}`;
      this.deps.warn(`nightshift: ${this.job}: ${reason}`);
      return { job: this.job, runId: this.runId, mode: this.plan.mode, status: "failed", reason };
    }
  }

  /** Runs `write` after the run's earlier writes; a failed write does not stop later ones. */
  private queue(write: () => Promise<void>): Promise<void> {
    const next = this.writes.then(write);
    this.writes = next.catch(() => undefined);
    return next;
  }

  private async prepareModels(): Promise<void> {
    const { models, config, gpuFreeMb } = this.deps;
    if (this.gpu === null || !models || this.models.length === 0) return;
    if (!config.scheduler.unload_day_models) return;
    this.dayModels = await models.makeRoom(this.gpu, this.models, {
      neededMb: this.plan.settings.vramMb,
      freeMb: this.plan.settings.vramMb === null ? null : await gpuFreeMb(this.gpu),
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
        if (this.lost) return Promise.reject(this.lost);
        const lease = this.gpu === null ? null : { gpu: this.gpu, holder: this.leaseHolder };
        const now = clock.now();
        const write = this.queue(async () => {
          if (this.lost) throw this.lost;
          if (await store.saveCheckpoint(this.runId, holder, lease, state, now)) return;
          const what = this.gpu === null ? "the run" : `its GPU ${this.gpu} lease`;
          this.lost = new NightshiftError(
            `${this.job}: run ${this.runId} lost ${what} to another holder; checkpoint not saved`,
            { code: "lease_lost" },
          );
          this.requestPause(`lost ${what} (expired before renewal)`);
          throw this.lost;
        });
        // A job that does not await still stops: the run is paused, and its next call throws.
        write.catch(() => undefined);
        return write;
      },
      log: (message) => this.logLine(message),
    };
  }

  private logLine(message: string): void {
    void this.queue(() => this.deps.store.logRun(this.runId, message)).catch((error: unknown) =>
      this.deps.warn(`nightshift: ${this.job}: recording a progress line: ${describeError(error)}`),
    );
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
      try {
        await this.heartbeat();
        if (this.watched && this.pauseReason === null && !this.done) await this.checkMachine();
      } catch (error) {
        // Unreachable ledger: keep running; if it stays away the lease expires and the next
        // renewal that gets through finds it lost and pauses the run.
        this.deps.warn(`nightshift: ${this.job}: heartbeat failed: ${describeError(error)}`);
      }
    }
  }

  private async heartbeat(): Promise<void> {
    const { store, clock, holder, config } = this.deps;
    const now = clock.now();
    if (!(await store.heartbeatRun(this.runId, holder, now))) {
      if (!this.done) this.requestPause(`run ${this.runId} was taken over by another holder`);
      return;
    }
    if (this.gpu === null) return;
    const ttlMs = config.scheduler.lease_ttl_s * 1000;
    if (!(await store.renewLease(this.gpu, this.leaseHolder, now, ttlMs))) {
      this.requestPause(`lost the GPU ${this.gpu} lease (expired before renewal)`);
    }
  }

  /** The idle gate without the job's own load: its leased GPU and its share of the CPU. */
  private async checkMachine(): Promise<void> {
    const verdict = await this.deps.idleGate(this.deps.clock.now(), {
      gpus: this.gpu === null ? [] : [this.gpu],
      cpuPct: this.cpu.sinceLast(),
    });
    // Absence of data is no evidence that someone is back; only failed thresholds pause.
    if (verdict.idle || verdict.failed.length === 0) return;
    const reason = verdict.failed.map((f) => f.message).join("; ");
    this.requestPause(`machine busy: ${reason}`, { failed: verdict.failed });
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
    await this.writes;
    let result: RunResult;
    if (outcome instanceof Error && this.pauseReason === null) {
      const error = describeError(outcome);
      await store.finishRun(this.runId, holder, "failed", clock.now(), { error });
      result = { ...base, status: "failed", reason: error };
    } else if (outcome instanceof Error || outcome.status === "paused" || this.pauseReason) {
      await store.finishRun(this.runId, holder, "paused", clock.now());
      result = { ...base, status: "paused", reason: this.pauseReason ?? "the job paused itself" };
    } else {
      await store.finishRun(this.runId, holder, "done", clock.now(), { summary: outcome.summary });
      await store.setDueSince(this.job, null, clock.now());
      result = {
        ...base,
        status: "done",
        ...(outcome.summary ? { summary: outcome.summary } : {}),
      };
    }
    const releaseError = await this.release();
    if (this.pausedAtReal !== null)
      result.pauseToReleaseMs = this.deps.realNow() - this.pausedAtReal;
    const ran = { job: this.job, runId: this.runId, gpu: this.gpu, models: this.models };
    await recordRunEnd(store, clock.now(), ran, result, releaseError);
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
    if (this.gpu !== null) await store.releaseLease(this.gpu, this.leaseHolder);
    if (models && config.scheduler.warm_day_models_after && this.dayModels.length > 0) {
      await models.warm(this.dayModels).catch((e: unknown) => {
        error = `${error ? `${error}; ` : ""}warming day models: ${describeError(e)}`;
      });
    }
    if (error) this.deps.warn(`nightshift: ${this.job}: ${error}`);
    return error;
  }
}
