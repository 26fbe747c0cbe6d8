import { hostname } from "node:os";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { NotFoundError } from "../errors.js";
import type { GpuLease, JobRun, SchedulerStore } from "../ledger/scheduler-store.js";
import type { ActivityEvent, UserActivity } from "../monitor/activity.js";
import {
  type Assessment,
  assessJob,
  type IdleGate,
  type JobSettings,
  type QuietWindow,
  resolveSettings,
} from "./conditions.js";
import type { JobDefinition } from "./job.js";
import type { ModelManager } from "./models.js";
import { ActiveRun, type RunnerDeps, type RunResult } from "./run-job.js";

export interface SchedulerOptions {
  store: SchedulerStore;
  config: Config;
  clock: Clock;
  jobs: JobDefinition[];
  /** The monitor's idle gate (src/monitor evaluateIdleGate, adapted in src/scheduler/monitor-providers.ts). */
  idleGate: IdleGate;
  /** Whether now is inside the learned quiet window. */
  quietWindow: QuietWindow;
  /** Interactive gateway traffic: pauses watched runs the moment it arrives. */
  activity?: UserActivity;
  /** Ollama model loading/unloading per GPU; null runs jobs without touching models. */
  models?: ModelManager | null;
  /** Free VRAM on a GPU (MB) when known, to skip unloading day models that leave room enough. */
  gpuFreeMb?: (gpu: number) => number | null;
  /** This process's name in leases and runs; defaults to host:pid. */
  holder?: string;
  /** Loud warnings (degraded mode, slow pauses); defaults to stderr. */
  warn?: (line: string) => void;
}

/** What `nightshift jobs` shows for one job. */
export interface JobStatus {
  name: string;
  description: string;
  settings: JobSettings;
  assessment: Assessment;
  running: { runId: string; startedAt: number; gpu: number | null } | null;
  lastRuns: JobRun[];
  lease: GpuLease | null;
}

/**
 * Runs background jobs when their conditions hold. `evaluate()` is one pass (every
 * scheduler.evaluate_every_s under `start()`): each job is assessed (enabled, min interval,
 * backlog, idle gate, quiet window, GPU lease), runnable ones start (or resume their paused run),
 * and a job due for longer than degraded_after_h while the machine is never idle starts in
 * degraded mode, loudly. Running jobs are watched and paused when the user comes back.
 */
export class Scheduler {
  private readonly active = new Map<string, ActiveRun>();
  private readonly definitions: Map<string, JobDefinition>;
  private readonly lastSkipKey = new Map<string, string>();
  private readonly deps: RunnerDeps;
  private loop: AbortController | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly options: SchedulerOptions) {
    this.definitions = new Map(options.jobs.map((job) => [job.name, job]));
    this.deps = {
      store: options.store,
      config: options.config,
      clock: options.clock,
      holder: options.holder ?? `${hostname()}:${process.pid}`,
      idleGate: options.idleGate,
      models: options.models ?? null,
      gpuFreeMb: options.gpuFreeMb ?? (() => null),
      warn: options.warn ?? ((line) => process.stderr.write(`${line}\n`)),
      realNow: () => performance.now(),
    };
    this.listen();
  }

  /** Activity pauses runs started by `runNow` as well as by the loop, so listen from the start. */
  private listen(): void {
    if (this.options.activity && !this.unsubscribe) {
      this.unsubscribe = this.options.activity.onActive((event) => this.onUserActive(event));
    }
  }

  get holder(): string {
    return this.deps.holder;
  }

  jobNames(): string[] {
    return [...this.definitions.keys()];
  }

  /** The status of every job (or one), without starting anything. */
  status(name?: string): JobStatus[] {
    const names = name ? [this.definition(name).name] : this.jobNames();
    return names.map((job) => {
      const definition = this.definition(job);
      const settings = resolveSettings(definition, this.options.config);
      const active = this.active.get(job);
      return {
        name: job,
        description: definition.description,
        settings,
        assessment: this.assess(definition, settings),
        running: active
          ? { runId: active.runId, startedAt: active.startedAt, gpu: active.gpu }
          : null,
        lastRuns: this.options.store.runsOf(job, 5),
        lease: settings.gpu === null ? null : (this.options.store.lease(settings.gpu) ?? null),
      };
    });
  }

  /** One evaluation: assesses every job and starts the runnable ones (without awaiting them). */
  evaluate(): Assessment[] {
    const assessments: Assessment[] = [];
    for (const definition of this.definitions.values()) {
      const settings = resolveSettings(definition, this.options.config);
      const assessment = this.assess(definition, settings);
      assessments.push(assessment);
      this.trackDue(assessment);
      if (!assessment.runnable) {
        this.recordSkip(assessment);
        continue;
      }
      this.launch(definition, settings, assessment.mode, false, this.reasonFor(assessment));
    }
    return assessments;
  }

  /** Runs one job now and waits for it; `force` skips every condition but the GPU lease. */
  async runNow(name: string, options: { force?: boolean } = {}): Promise<RunResult> {
    const definition = this.definition(name);
    const settings = resolveSettings(definition, this.options.config);
    const assessment = this.assess(definition, settings);
    if (this.active.has(name)) {
      return {
        job: name,
        runId: this.active.get(name)!.runId,
        status: "skipped",
        mode: "normal",
        reason: "already running",
      };
    }
    if (!options.force && !assessment.runnable) {
      const reason = assessment.blockers.map((b) => b.message).join("; ");
      this.options.store.recordDecision({
        at: this.options.clock.now(),
        job: name,
        runId: null,
        decision: "skip",
        reason,
        details: { blockers: assessment.blockers },
      });
      return { job: name, runId: null, status: "skipped", mode: assessment.mode, reason };
    }
    const reason = options.force ? "run now with --force" : "run now";
    const started = this.launch(
      definition,
      settings,
      options.force ? "normal" : assessment.mode,
      !!options.force,
      reason,
    );
    return started instanceof ActiveRun ? started.finished : started;
  }

  /** Evaluates now and then every scheduler.evaluate_every_s; listens for user activity. */
  start(): void {
    if (this.loop) return;
    this.loop = new AbortController();
    this.recoverStaleRuns();
    this.listen();
    void this.runLoop(this.loop.signal);
  }

  /** Stops evaluating, pauses every running job and waits until each has let go of its GPU. */
  async stop(reason = "nightshift is shutting down"): Promise<void> {
    this.loop?.abort();
    this.loop = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    const runs = [...this.active.values()];
    for (const run of runs) run.requestPause(reason);
    await Promise.all(runs.map((run) => run.finished));
  }

  /** Pauses watched runs at once: the user is back, and their request must not wait. */
  onUserActive(event: ActivityEvent): void {
    for (const run of this.active.values()) {
      if (!run.watched) continue;
      const model = event.model ? ` for ${event.model}` : "";
      run.requestPause(`interactive request from ${event.agent}${model}`, {
        agent: event.agent,
        model: event.model,
      });
    }
  }

  /** The runs in progress in this process. */
  running(): ActiveRun[] {
    return [...this.active.values()];
  }

  /** Resolves when every run in progress has finished (tests, shutdown). */
  async settle(): Promise<RunResult[]> {
    return Promise.all([...this.active.values()].map((run) => run.finished));
  }

  private async runLoop(signal: AbortSignal): Promise<void> {
    const every = this.options.config.scheduler.evaluate_every_s * 1000;
    while (!signal.aborted) {
      this.evaluate();
      try {
        await this.options.clock.sleep(every, signal);
      } catch {
        return;
      }
    }
  }

  private definition(name: string): JobDefinition {
    const definition = this.definitions.get(name);
    if (!definition) {
      throw new NotFoundError(
        `no job named "${name}"; known jobs: ${this.jobNames().join(", ") || "none"}`,
      );
    }
    return definition;
  }

  private assess(definition: JobDefinition, settings: JobSettings): Assessment {
    const { store, clock, config } = this.options;
    const now = clock.now();
    const staleBefore = now - config.scheduler.lease_ttl_s * 1000;
    const resumable = store.resumableRun(definition.name, staleBefore);
    const lease = settings.gpu === null ? undefined : store.lease(settings.gpu);
    const foreign = lease && lease.expiresAt > now ? lease : null;
    const machine = settings.requiresIdle || settings.quietWindowOnly;
    return assessJob({
      settings,
      now,
      running: this.active.has(definition.name),
      lastSuccessAt: store.lastSuccess(definition.name)?.finishedAt ?? null,
      resumable: resumable !== undefined,
      backlog: definition.backlog ? definition.backlog(now).count : null,
      idle: machine && settings.requiresIdle ? this.options.idleGate(now) : null,
      quiet: settings.quietWindowOnly ? this.options.quietWindow(now) : null,
      leaseHeldBy: foreign ?? null,
      dueSince: store.dueSince(definition.name),
    });
  }

  private launch(
    definition: JobDefinition,
    settings: JobSettings,
    mode: "normal" | "degraded",
    forced: boolean,
    reason: string,
  ): ActiveRun | RunResult {
    const { store, clock, config } = this.options;
    const staleBefore = clock.now() - config.scheduler.lease_ttl_s * 1000;
    const resume = store.resumableRun(definition.name, staleBefore);
    if (mode === "degraded") this.announceDegraded(definition.name, settings);
    const started = ActiveRun.start(this.deps, {
      definition,
      settings,
      mode,
      forced,
      resumeId: resume?.id ?? null,
      reason,
    });
    if (!(started instanceof ActiveRun)) return started;
    this.active.set(definition.name, started);
    this.lastSkipKey.delete(definition.name);
    void started.finished.finally(() => this.active.delete(definition.name));
    return started;
  }

  private announceDegraded(job: string, settings: JobSettings): void {
    const { store, clock } = this.options;
    const since = store.dueSince(job);
    const hours = since === null ? 0 : (clock.now() - since) / 3_600_000;
    const reason = `${job} has been due for ${hours.toFixed(0)} h (limit ${settings.degradedAfterH} h) and the machine was never idle; running it in degraded mode (${settings.degradedModels.join(", ") || "no model"}, ${settings.degradedUsesGpu ? "on its GPU" : "CPU only"}, niced)`;
    store.recordDecision({
      at: clock.now(),
      job,
      runId: null,
      decision: "degraded",
      reason,
      details: { due_hours: Math.round(hours) },
    });
    this.deps.warn(`nightshift: WARNING: ${reason}`);
  }

  private trackDue(assessment: Assessment): void {
    const { store, clock } = this.options;
    if (assessment.due && assessment.dueSince === null) {
      store.setDueSince(assessment.job, clock.now(), clock.now());
    } else if (!assessment.due && assessment.dueSince !== null) {
      store.setDueSince(assessment.job, null, clock.now());
    }
  }

  /** Records a skip when the set of blocking conditions changes, not every minute. */
  private recordSkip(assessment: Assessment): void {
    const key = assessment.blockers.map((b) => `${b.condition}:${b.metric ?? ""}`).join(",");
    if (this.lastSkipKey.get(assessment.job) === key) return;
    this.lastSkipKey.set(assessment.job, key);
    if (assessment.blockers.some((b) => b.condition === "running")) return;
    const reason = assessment.blockers.map((b) => b.message).join("; ");
    this.options.store.recordDecision({
      at: this.options.clock.now(),
      job: assessment.job,
      runId: null,
      decision: "skip",
      reason,
      details: { blockers: assessment.blockers },
    });
  }

  private reasonFor(assessment: Assessment): string {
    if (assessment.mode === "degraded") return "due past the degraded limit; machine never idle";
    return "all conditions hold";
  }

  /** Runs this holder left "running" when it died are marked interrupted, to resume later. */
  private recoverStaleRuns(): void {
    const { store, clock } = this.options;
    for (const job of this.jobNames()) {
      const stale = store.resumableRun(
        job,
        clock.now() - this.options.config.scheduler.lease_ttl_s * 1000,
      );
      if (stale?.status === "running") {
        store.recordDecision({
          at: clock.now(),
          job,
          runId: stale.id,
          decision: "interrupted",
          reason: `holder ${stale.holder} stopped heartbeating; will resume from its checkpoint`,
          details: null,
        });
      }
    }
  }
}
