/**
 * Expected failures: bad input, a dead upstream, an unknown model. The message is written for the
 * person who has to act on it (what, where, what to do); `status` is the HTTP status the API and
 * gateway answer with. Anything that is not a NightshiftError is a bug and keeps its stack trace.
 */
export class NightshiftError extends Error {
  override readonly name: string = "NightshiftError";
  readonly status: number;
  readonly code: string;

  constructor(message: string, options: { status?: number; code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status ?? 400;
    this.code = options.code ?? "bad_request";
  }
}

/** A config file or value that cannot be used; names the file and the key path. */
export class ConfigError extends NightshiftError {
  override readonly name = "ConfigError";
  constructor(message: string) {
    super(message, { status: 500, code: "config" });
  }
}

export class NotFoundError extends NightshiftError {
  override readonly name = "NotFoundError";
  constructor(message: string) {
    super(message, { status: 404, code: "not_found" });
  }
}

export function isNightshiftError(error: unknown): error is NightshiftError {
  return error instanceof NightshiftError;
}

/** One line for a person: the message, and the cause's message where it adds something. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    return cause && !error.message.includes(cause) ? `${error.message} (${cause})` : error.message;
  }
  return String(error);
}
