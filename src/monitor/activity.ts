import { EventEmitter } from "node:events";
import { type Clock, systemClock } from "../clock.js";

export interface ActivityEvent {
  agent: string;
  model: string | null;
  at: number;
}

/**
 * User activity as the gateway sees it: every request start is reported here, and requests of
 * background agents (the auditor, the scheduler's own jobs) do not count as a person at work.
 * The monitor samples it; the scheduler listens to pause a job the moment someone is back.
 */
export class UserActivity {
  private last: number | null = null;
  private readonly events = new EventEmitter();
  private readonly background: Set<string>;

  constructor(
    backgroundAgents: Iterable<string> = ["auditor"],
    private readonly clock: Clock = systemClock,
  ) {
    this.background = new Set(backgroundAgents);
  }

  isBackground(agent: string): boolean {
    return this.background.has(agent);
  }

  /** Marks an agent as background work (its traffic is not user activity). */
  addBackground(agent: string): void {
    this.background.add(agent);
  }

  record(agent: string, model: string | null, at = this.clock.now()): void {
    if (this.isBackground(agent)) return;
    this.last = this.last === null ? at : Math.max(this.last, at);
    this.events.emit("active", { agent, model, at } satisfies ActivityEvent);
  }

  /** When interactive traffic was last seen, or null if never since start. */
  lastActiveAt(): number | null {
    return this.last;
  }

  onActive(listener: (event: ActivityEvent) => void): () => void {
    this.events.on("active", listener);
    return () => this.events.off("active", listener);
  }
}
