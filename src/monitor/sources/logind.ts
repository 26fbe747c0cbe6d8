/**
 * logind's idle state of the user's sessions, read through `loginctl`: pure parsers over its
 * output, so they are tested on fixtures. logind sets IdleHint from the desktop (screen saver)
 * or, for text sessions, from the terminal's last input.
 */

export interface LoginSession {
  id: string;
  className: string | null;
  idleHint: boolean | null;
  /** When the idle state last changed, ms since the epoch (logind gives µs). */
  idleSince: number | null;
}

/** Session ids from `loginctl list-sessions --no-legend` (first column). */
export function parseSessionList(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((id) => /^[\w-]+$/.test(id));
}

/**
 * `loginctl show-session ID... -p Id -p Class -p IdleHint -p IdleSinceHint`: key=value lines,
 * one blank-line separated block per session.
 */
export function parseShowSession(text: string): LoginSession[] {
  const sessions: LoginSession[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const props = new Map<string, string>();
    for (const line of block.split("\n")) {
      const eq = line.indexOf("=");
      if (eq > 0) props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
    const id = props.get("Id");
    if (!id) continue;
    const hint = props.get("IdleHint");
    const since = Number(props.get("IdleSinceHint"));
    sessions.push({
      id,
      className: props.get("Class") ?? null,
      idleHint: hint === "yes" ? true : hint === "no" ? false : null,
      idleSince: Number.isFinite(since) && since > 0 ? Math.floor(since / 1000) : null,
    });
  }
  return sessions;
}

/**
 * The user's last activity as logind sees it: `now` while any user session is not idle, else
 * the latest moment one went idle. Null when there is no user session with an idle state.
 */
export function lastActivityFromSessions(
  sessions: readonly LoginSession[],
  now: number,
): number | null {
  let last: number | null = null;
  for (const session of sessions) {
    if (session.className !== null && session.className !== "user") continue;
    if (session.idleHint === false) return now;
    if (session.idleHint === true && session.idleSince !== null) {
      last = Math.max(last ?? 0, session.idleSince);
    }
  }
  return last;
}
