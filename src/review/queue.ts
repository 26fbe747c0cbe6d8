import { type Clock, systemClock } from "../clock.js";
import { NightshiftError, NotFoundError } from "../errors.js";
import {
  type NewReviewItem,
  REVIEW_KINDS,
  type ReviewDecisionRow,
  type ReviewFilter,
  type ReviewItem,
  type ReviewItemStore,
  type ReviewStatus,
  type ReviewStores,
} from "../ledger/stores/review.js";
import type { CorrectionHandlers } from "./handlers.js";

export type {
  NewReviewItem,
  ReviewItem,
  ReviewKind,
  ReviewStatus,
} from "../ledger/stores/review.js";
export { REVIEW_KINDS } from "../ledger/stores/review.js";

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
 * person. A decision is final (deciding twice is refused, also from another daemon sharing the
 * ledger), recorded with who and when, applied through the owning agent's correction handler,
 * and marks the action "ruled" so later audits leave it alone (see personDecisionFor).
 */
export class ReviewQueue {
  readonly store: ReviewItemStore;
  private readonly clock: Clock;

  /** `ledger`: the opened ledger of either engine (LedgerStores), or just its review stores. */
  constructor(
    ledger: { review: ReviewStores },
    private readonly options: ReviewQueueOptions = {},
  ) {
    this.store = ledger.review.items;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Opens an item. While an item of the same kind is open for the same action, returns that one
   * instead (created: false), so a resumed audit or a re-run import does not queue duplicates.
   * Sets the action's audit_status to "in_review".
   */
  async open(input: NewReviewItem): Promise<{ item: ReviewItem; created: boolean }> {
    if (!REVIEW_KINDS.includes(input.kind)) {
      throw new NightshiftError(
        `unknown review kind "${input.kind}"; use one of ${REVIEW_KINDS.join(", ")}`,
      );
    }
    if (input.title.trim() === "") throw new NightshiftError("a review item needs a title");
    return this.store.open(input, this.clock.now());
  }

  get(id: number): Promise<ReviewItem | undefined> {
    return this.store.get(id);
  }

  /** The item, or a NotFoundError naming the id and how to list the queue. */
  async require(id: number): Promise<ReviewItem> {
    const item = await this.store.get(id);
    if (!item) {
      throw new NotFoundError(`no review item ${id}; \`nightshift review\` lists the open ones`);
    }
    return item;
  }

  /** Items by id (oldest first); open ones unless a status is given. */
  list(filter: ReviewFilter = {}): Promise<ReviewItem[]> {
    return this.store.list({ status: "open", ...filter });
  }

  /** Every item ever opened for an action, decided or not, oldest first. */
  itemsFor(actionId: string): Promise<ReviewItem[]> {
    return this.store.byAction(actionId);
  }

  /**
   * The latest decision a person made on this action, or undefined if none. The audit calls
   * this before judging an action: a ruled action is skipped, and a verdict that contradicts
   * the ruling goes back to the queue (kind "contradicts_person") instead of being applied.
   */
  personDecisionFor(actionId: string): Promise<PersonDecision | undefined> {
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
   * Records a decision, then applies it through the owning agent's handler. Recording first is
   * what makes a decision happen once across daemons: of two deciding the same item, one records
   * it and the other gets a conflict naming the winner, before any handler runs. If the handler
   * fails, the decision is withdrawn and the item stays open (the error names the failure).
   */
  async decide(
    id: number,
    decision: Decision,
    edited: unknown,
    options: DecideOptions,
  ): Promise<DecisionResult> {
    if (options.by.trim() === "") throw new NightshiftError("a decision needs the decider's name");
    const item = await this.require(id);
    if (item.status !== "open") throw alreadyDecided(item);
    const output = decidedOutput(item, decision, edited);
    const status = ({ accept: "accepted", reject: "rejected", edit: "edited" } as const)[decision];
    const row: ReviewDecisionRow = {
      id,
      status,
      decidedBy: options.by,
      decidedAt: this.clock.now(),
      decisionOutput: output,
      decisionReason: options.reason ?? null,
      appliedNote:
        decision === "reject"
          ? "the original output stands"
          : "decided; the agent's handler had not confirmed applying it yet",
    };
    if (!(await this.store.recordDecision(row))) throw alreadyDecided(await this.require(id));
    if (decision === "reject") {
      return { item: await this.require(id), applied: false, note: row.appliedNote! };
    }
    const outcome = await this.applyRecorded(item, output, row);
    await this.store.setAppliedNote(id, outcome.note);
    return { item: await this.require(id), ...outcome };
  }

  /** Applies a recorded decision; if the handler fails, the decision is withdrawn. */
  private async applyRecorded(item: ReviewItem, output: unknown, row: ReviewDecisionRow) {
    try {
      return await this.apply(item, output, row.decisionReason);
    } catch (error) {
      if (await this.store.withdrawDecision(row)) throw error;
      throw new NightshiftError(
        `${(error as Error).message.replace(/; the item stays open$/, "")}; the decision stays recorded, as the item changed meanwhile and cannot be reopened`,
        { status: 502, code: "handler_failed", cause: error },
      );
    }
  }

  private async apply(
    item: ReviewItem,
    output: unknown,
    reason: string | null,
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
        reasoning: reason,
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
export async function personDecisionFor(
  store: Pick<ReviewItemStore, "lastDecision">,
  actionId: string,
): Promise<PersonDecision | undefined> {
  const item = await store.lastDecision(actionId);
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
