import { NightshiftError } from "./errors.js";
/**
 * Time as a dependency. Components that wait or compare times take a Clock, so tests drive time
 * forward instead of sleeping for real minutes.
 */
export interface Clock {
  now(): number;
  /** Resolves after `ms` of this clock's time, or early (rejecting) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

interface Sleeper {
  until: number;
  resolve: () => void;
}

/** A clock that moves only when told to; sleepers wake as `advance` passes their time. */
export class ManualClock implements Clock {
  private sleepers: Sleeper[] = [];

  constructor(private current = Date.parse("2026-01-05T00:00:00Z")) {}

  now(): number {
    return this.current;
  }

  set(time: number): void {
    this.current = time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      // A sleeper that wakes lets go of the signal: a loop sleeping on one signal adds no
      // listener per turn.
      const sleeper: Sleeper = {
        until: this.current + ms,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Moves time forward, waking each sleeper in order and letting its continuation run. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const next = this.sleepers
        .filter((s) => s.until <= target)
        .sort((a, b) => a.until - b.until)[0];
      if (!next) break;
      this.current = Math.max(this.current, next.until);
      this.sleepers = this.sleepers.filter((s) => s !== next);
      next.resolve();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * The CLI's clock. NIGHTSHIFT_NOW (an ISO date or ms since the epoch) starts time at that instant
 * and lets it run on at the real rate, so a test can say "it is Monday 03:00" to a spawned CLI.
 * Only this factory reads it: code below the CLI always takes the Clock it is given.
 */
export function clockFromEnvironment(env: NodeJS.ProcessEnv = process.env): Clock {
  const value = env.NIGHTSHIFT_NOW?.trim();
  if (!value) return systemClock;
  const start = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(start)) {
    throw new Error(
      `NIGHTSHIFT_NOW=${value}: expected an ISO date or milliseconds since the epoch`,
    );
  }
  const offset = start - Date.now();
  return { now: () => Date.now() + offset, sleep: systemClock.sleep };
}

/** "2h", "30m", "7d" (before `now`, from the caller's Clock) or an ISO date → ms since the epoch. */
export function parseSince(value: string, now: number): number {
  const relative = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(value.trim());
  if (relative) {
    const unit = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[relative[2] as "s"];
    return now - Number(relative[1]) * unit;
  }
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) {
    throw new NightshiftError(`"${value}" is not a duration (like 2h, 30m, 7d) or an ISO date`);
  }
  return parsed;
}
