/**
 * How a correction reaches the agent that owns the corrected action: each agent registers a
 * handler (finance re-categorizes the transaction, for instance). Handlers must be idempotent:
 * applying the same correction twice leaves the same state, so a resumed audit is safe.
 */
export interface CorrectionToApply {
  correctionId: string;
  actionId: string;
  agent: string;
  /** The action's original output and the reviewer's (or a person's) corrected output. */
  original: unknown;
  corrected: unknown;
  /** "audit" or "person". */
  source: "audit" | "person";
}

export interface CorrectionHandler {
  /**
   * Applies the correction to the agent's own data; resolves with a short note for the report.
   * Async: a handler may write to a ledger on another machine.
   */
  apply(correction: CorrectionToApply): Promise<string | undefined>;
}

/** Agent name → handler. Built where the daemon (or a CLI command) wires the agents. */
export class CorrectionHandlers {
  private readonly handlers = new Map<string, CorrectionHandler>();
  private fallback: CorrectionHandler | undefined;

  register(agent: string, handler: CorrectionHandler): void {
    this.handlers.set(agent, handler);
  }

  /** The handler of every agent that registered none: plain agents, which receive corrections by delivery. */
  registerFallback(handler: CorrectionHandler): void {
    this.fallback = handler;
  }

  for(agent: string): CorrectionHandler | undefined {
    return this.handlers.get(agent) ?? this.fallback;
  }
}
