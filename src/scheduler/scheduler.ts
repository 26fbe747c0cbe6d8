import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { describeError, NotFoundError } from "../errors.js";
import type { DecisionRecord, GpuLease, JobRun, SchedulerStore } from "../ledger/stores/index.js";
import type { ActivityEvent, UserActivity } from "../monitor/activity.js";
import { assessFromLedger, type Facts } from "./assess-from-ledger.js";
import {
  type Assessment,
  type IdleGate,
  type JobSettings,
  type QuietWindow,
  resolveSettings,
} from "./conditions.js";
import { DecisionJournal } from "./decision-journal.js";
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
  gpuFreeMb?: (gpu: number) => number | null | Promise<number | null>;
  /**
   * This scheduler's name in leases and runs; defaults to host:pid:id, with a random id per
   * scheduler because pids repeat across restarts and across hosts (containers run as pid 1).
   */
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
  /** The run in progress, in this daemon or (holder says which) another sharing the ledger. */
  running: { runId: string; startedAt: number; gpu: number | null; holder: string } | null;
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
  private readonly journal: DecisionJournal;
  /** Jobs whose start is being decided in the store, so one process never starts one twice. */
  private readonly launching = new Set<string>();
  private readonly deps: RunnerDeps;
  private loop: AbortController | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly options: SchedulerOptions) {
    this.definitions = new Map(options.jobs.map((job) => [job.name, job]));
    this.deps = {
      store: options.store,
      config: options.config,
      clock: options.clock,
      holder: options.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`,
      idleGate: options.idleGate,
      models: options.models ?? null,
      gpuFreeMb: options.gpuFreeMb ?? (() => null),
      warn: options.warn ?? ((line) => process.stderr.write(`${line}\n`)),
      realNow: () => performance.now(),
    };
    this.journal = new DecisionJournal(this.deps);
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

  /** The newest decisions about every job, as recorded in the (possibly shared) ledger. */
  decisions(limit = 20): Promise<DecisionRecord[]> {
    return this.options.store.decisions(null, limit);
  }

  jobNames(): string[] {
    return [...this.definitions.keys()];
  }

  /** The status of every job (or one), without starting anything. */
  async status(name?: string): Promise<JobStatus[]> {
    const names = name ? [this.definition(name).name] : this.jobNames();
    return Promise.all(names.map((job) => this.statusOf(job)));
  }

  private async statusOf(job: string): Promise<JobStatus> {
    const { store } = this.options;
    const definition = this.definition(job);
    const settings = resolveSettings(definition, this.options.config);
    const { assessment, facts } = await this.assess(definition, settings);
    const active = this.active.get(job);
    const live = facts.live;
    const lease = facts.lease ?? null;
    let running: JobStatus["running"] = null;
    if (active) {
      const { runId, startedAt, gpu } = active;
      running = { runId, startedAt, gpu, holder: this.holder };
    } else if (live) {
      const gpu = lease?.runId === live.id ? lease.gpu : null;
      running = { runId: live.id, startedAt: live.startedAt, gpu, holder: live.holder ?? "" };
    }
    const lastRuns = await store.runsOf(job, 5);
    return {
      name: job,
      description: definition.description,
      settings,
      assessment,
      running,
      lastRuns,
      lease,
    };
  }

  /**
   * One evaluation: assesses every job and starts the runnable ones (without awaiting the runs);
   * resolves once each start is decided, so evaluations never overlap.
   */
  async evaluate(): Promise<Assessment[]> {
    const assessments: Assessment[] = [];
    for (const definition of this.definitions.values()) {
      const settings = resolveSettings(definition, this.options.config);
      const { assessment, facts } = await this.assess(definition, settings);
      assessments.push(assessment);
      await this.journal.trackDue(assessment);
      if (!assessment.runnable) {
        await this.journal.recordSkip(assessment);
        continue;
      }
      const plan = { mode: assessment.mode, forced: false, lastSuccessId: facts.lastSuccessId };
      await this.launch(definition, settings, plan, this.reasonFor(assessment));
    }
    return assessments;
  }

  /** Runs one job now and waits for it; `force` skips every condition but the GPU lease. */
  async runNow(name: string, options: { force?: boolean } = {}): Promise<RunResult> {
    const definition = this.definition(name);
    const settings = resolveSettings(definition, this.options.config);
    const local = this.active.get(name);
    if (local || this.launching.has(name)) {
      const runId = local?.runId ?? null;
      return { job: name, runId, status: "skipped", mode: "normal", reason: "already running" };
    }
    const { assessment, facts } = await this.assess(definition, settings);
    if (!options.force && !assessment.runnable) {
      const reason = assessment.blockers.map((b) => b.message).join("; ");
      await this.options.store.recordDecision({
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
    const plan = options.force
      ? { mode: "normal" as const, forced: true, lastSuccessId: undefined }
      : { mode: assessment.mode, forced: false, lastSuccessId: facts.lastSuccessId };
    const started = await this.launch(definition, settings, plan, reason);
    return started instanceof ActiveRun ? started.finished : started;
  }

  /** Evaluates now and then every scheduler.evaluate_every_s; listens for user activity. */
  start(): void {
    if (this.loop) return;
    this.loop = new AbortController();
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
    await this.guarded("recovering stale runs", () =>
      this.journal.recoverStaleRuns(this.jobNames()),
    );
    while (!signal.aborted) {
      await this.guarded("evaluating jobs", () => this.evaluate());
      try {
        await this.options.clock.sleep(every, signal);
      } catch {
        return;
      }
    }
  }

  /** The loop outlives a failed evaluation (the ledger unreachable a while): said, then retried. */
  private async guarded(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.deps.warn(`nightshift scheduler: ${what} failed: ${describeError(error)}`);
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

  private assess(
    definition: JobDefinition,
    settings: JobSettings,
  ): Promise<{ assessment: Assessment; facts: Facts }> {
    const { store, clock, config, idleGate, quietWindow } = this.options;
    const job = definition.name;
    const here = this.active.has(job) || this.launching.has(job);
    const conditions = { store, config, idleGate, quietWindow };
    return assessFromLedger(conditions, definition, settings, clock.now(), here);
  }

  private async launch(
    definition: JobDefinition,
    settings: JobSettings,
    plan: {
      mode: "normal" | "degraded";
      forced: boolean;
      lastSuccessId: string | null | undefined;
    },
    reason: string,
  ): Promise<ActiveRun | RunResult> {
    const job = definition.name;
    if (plan.mode === "degraded") await this.journal.announceDegraded(job, settings);
    this.launching.add(job);
    let started: ActiveRun | RunResult;
    try {
      started = await ActiveRun.start(this.deps, { definition, settings, ...plan, reason });
    } finally {
      this.launching.delete(job);
    }
    if (!(started instanceof ActiveRun)) return started;
    this.active.set(job, started);
    this.journal.forgetSkips(job);
    void started.finished.finally(() => this.active.delete(job)).catch(() => undefined);
    return started;
  }

  private reasonFor(assessment: Assessment): string {
    if (assessment.mode === "degraded") return "due past the degraded limit; machine never idle";
    return "all conditions hold";
  }
}
