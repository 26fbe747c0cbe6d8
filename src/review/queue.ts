import type { CorrectionHandlers } from "../audit/handlers.js";
import { type Clock, systemClock } from "../clock.js";
import { NightshiftError, NotFoundError } from "../errors.js";
import type { ActionStore } from "../ledger/actions.js";
import type { Db } from "../ledger/db.js";
import {
  type NewReviewItem,
  REVIEW_KINDS,
  type ReviewItem,
  type ReviewKind,
  type ReviewStatus,
  ReviewStore,
} from "../ledger/review-store.js";

export type {
  NewReviewItem,
  ReviewItem,
  ReviewKind,
  ReviewStatus,
} from "../ledger/review-store.js";
export { REVIEW_KINDS } from "../ledger/review-store.js";

export type Decision = "accept" | "reject" | "edit";

export interface DecideOptions {
  /** Who decided: a person's name (the CLI uses the login name). */
  by: string;
  /** Why, in the person's words; kept with the decision. */
  reason?: string | undefined;
}

export interface DecisionResult {
  item: ReviewItem;
  /** True when the owning agent's handler applied the decided output. */
  applied: boolean;
  /** The handler's note, or why nothing was applied. */
  note: string;
}

/** A person's ruling on an action, as later audits must respect it. */
export interface PersonDecision {
  itemId: number;
  actionId: string;
  status: Exclude<ReviewStatus, "open">;
  /** The output the person settled on: the proposal (accepted), theirs (edited) or the original (rejected). */
  output: unknown;
  decidedBy: string;
  decidedAt: number;
  reason: string | null;
}

export interface ReviewQueueOptions {
  /** Where accepted and edited outputs are applied; without it decisions are recorded only. */
  handlers?: CorrectionHandlers;
  clock?: Clock;
}

/**
 * The human review queue: what the audit or an agent could not settle alone waits here for a
 * person. A decision is final (deciding twice is refused), recorded with who and when, applied
 * through the owning agent's correction handler, and marks the action "ruled" so later audits
 * leave it alone (see personDecisionFor).
 */
export class ReviewQueue {
  readonly store: ReviewStore;
  private readonly clock: Clock;

  private readonly actions: ActionStore;

  /** `ledger`: the opened Ledger (its database and action store). */
  constructor(
    ledger: { db: Db; actions: ActionStore },
    private readonly options: ReviewQueueOptions = {},
  ) {
    this.store = new ReviewStore(ledger.db);
    this.actions = ledger.actions;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Opens an item. While an item of the same kind is open for the same action, returns that one
   * instead (created: false), so a resumed audit or a re-run import does not queue duplicates.
   * Sets the action's audit_status to "in_review".
   */
  open(input: NewReviewItem): { item: ReviewItem; created: boolean } {
    if (!REVIEW_KINDS.includes(input.kind)) {
      throw new NightshiftError(
        `unknown review kind "${input.kind}"; use one of ${REVIEW_KINDS.join(", ")}`,
      );
    }
    if (input.title.trim() === "") throw new NightshiftError("a review item needs a title");
    return this.store.transaction(() => {
      if (input.actionId) {
        const existing = this.store.openFor(input.actionId, input.kind);
        if (existing) return { item: existing, created: false };
      }
      const item = this.store.insert(input, this.clock.now());
      if (input.actionId) this.actions.setAuditStatus([input.actionId], "in_review");
      return { item, created: true };
    });
  }

  get(id: number): ReviewItem | undefined {
    return this.store.get(id);
  }

  /** The item, or a NotFoundError naming the id and how to list the queue. */
  require(id: number): ReviewItem {
    const item = this.store.get(id);
    if (!item) {
      throw new NotFoundError(`no review item ${id}; \`nightshift review\` lists the open ones`);
    }
    return item;
  }

  /** Items by id (oldest first); open ones unless a status is given. */
  list(
    filter: { status?: ReviewStatus; agent?: string; kind?: ReviewKind; limit?: number } = {},
  ): ReviewItem[] {
    return this.store.list({ status: "open", ...filter });
  }

  /** Every item ever opened for an action, decided or not, oldest first. */
  itemsFor(actionId: string): ReviewItem[] {
    return this.store.byAction(actionId);
  }

  /**
   * The latest decision a person made on this action, or undefined if none. The audit calls
   * this before judging an action: a ruled action is skipped, and a verdict that contradicts
   * the ruling goes back to the queue (kind "contradicts_person") instead of being applied.
   */
  personDecisionFor(actionId: string): PersonDecision | undefined {
    return personDecisionFor(this.store, actionId);
  }

  accept(id: number, options: DecideOptions): Promise<DecisionResult> {
    return this.decide(id, "accept", undefined, options);
  }

  reject(id: number, options: DecideOptions): Promise<DecisionResult> {
    return this.decide(id, "reject", undefined, options);
  }

  edit(id: number, output: unknown, options: DecideOptions): Promise<DecisionResult> {
    return this.decide(id, "edit", output, options);
  }

  /**
   * Applies a decision, then records it: if the handler throws, nothing is recorded and the item
   * stays open (the error names the handler's failure). The handler runs outside the queue's
   * transaction (it may write to a ledger on another machine); handlers are idempotent, so one
   * that applied for an item decided meanwhile elsewhere changes nothing twice.
   */
  async decide(
    id: number,
    decision: Decision,
    edited: unknown,
    options: DecideOptions,
  ): Promise<DecisionResult> {
    if (options.by.trim() === "") throw new NightshiftError("a decision needs the decider's name");
    const item = this.require(id);
    if (item.status !== "open") throw alreadyDecided(item);
    const output = decidedOutput(item, decision, edited);
    const { applied, note } =
      decision === "reject"
        ? { applied: false, note: "the original output stands" }
        : await this.apply(item, output);
    return this.store.transaction(() => {
      const decidedAt = this.clock.now();
      const status = ({ accept: "accepted", reject: "rejected", edit: "edited" } as const)[
        decision
      ];
      const recorded = this.store.decide({
        id,
        status,
        decidedBy: options.by,
        decidedAt,
        decisionOutput: output,
        decisionReason: options.reason ?? null,
        appliedNote: note,
      });
      if (!recorded) throw alreadyDecided(this.require(id));
      if (item.actionId) this.actions.setAuditStatus([item.actionId], "ruled");
      return { item: this.require(id), applied, note };
    });
  }

  private async apply(
    item: ReviewItem,
    output: unknown,
  ): Promise<{ applied: boolean; note: string }> {
    const handler = this.options.handlers?.for(item.agent);
    if (!handler) {
      return {
        applied: false,
        note: `recorded only: no correction handler is registered for agent "${item.agent}"`,
      };
    }
    try {
      const note = await handler.apply({
        correctionId: `review-${item.id}`,
        actionId: item.actionId ?? "",
        agent: item.agent,
        original: item.original,
        corrected: output,
        source: "person",
      });
      return { applied: true, note: note ?? "applied" };
    } catch (error) {
      throw new NightshiftError(
        `the ${item.agent} agent could not apply review item ${item.id}: ${(error as Error).message}; the item stays open`,
        { status: 502, code: "handler_failed", cause: error },
      );
    }
  }
}

/** See ReviewQueue.personDecisionFor; usable with just the store. */
export function personDecisionFor(
  store: ReviewStore,
  actionId: string,
): PersonDecision | undefined {
  const item = store.lastDecision(actionId);
  if (!item || item.status === "open") return undefined;
  return {
    itemId: item.id,
    actionId,
    status: item.status,
    output: item.decisionOutput,
    decidedBy: item.decidedBy ?? "unknown",
    decidedAt: item.decidedAt ?? item.createdAt,
    reason: item.decisionReason,
  };
}

function decidedOutput(item: ReviewItem, decision: Decision, edited: unknown): unknown {
  if (decision === "reject") return item.original;
  if (decision === "edit") {
    if (edited === undefined) {
      throw new NightshiftError(`editing review item ${item.id} needs the output to apply`);
    }
    return edited;
  }
  if (item.proposed === null || item.proposed === undefined) {
    throw new NightshiftError(
      `review item ${item.id} proposes no output to accept; reject it to keep the original, or edit it with --output`,
      { status: 409, code: "conflict" },
    );
  }
  return item.proposed;
}

function alreadyDecided(item: ReviewItem): NightshiftError {
  const when = item.decidedAt === null ? "" : ` at ${new Date(item.decidedAt).toISOString()}`;
  return new NightshiftError(
    `review item ${item.id} was already ${item.status} by ${item.decidedBy ?? "someone"}${when}; a decision is final`,
    { status: 409, code: "already_decided" },
  );
}

/** The `--json` and API shape: snake_case field names, ISO timestamps. */
export function reviewItemToJson(item: ReviewItem): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: item.id,
    action_id: item.actionId,
    kind: item.kind,
    agent: item.agent,
    title: item.title,
    original: item.original,
    proposed: item.proposed,
    reasoning: item.reasoning,
    confidence: item.confidence,
    opened_by: item.openedBy,
    context: item.context,
    created_at: iso(item.createdAt),
    status: item.status,
    decided_by: item.decidedBy,
    decided_at: iso(item.decidedAt),
    decision_output: item.decisionOutput,
    decision_reason: item.decisionReason,
    applied_note: item.appliedNote,
  };
}
