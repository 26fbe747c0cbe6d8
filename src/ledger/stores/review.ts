/**
 * The review queue, feedback on actions, and corrections on their way to plain agents, as the
 * capabilities (src/review, src/plain-agents) need them, whatever the engine. Every guarantee that
 * must hold when several daemons share one ledger is the store's: an item is decided once, a
 * correction is claimed by one webhook sender at a time, an acknowledgement lands once.
 */

export type ReviewKind =
  | "audit_unsure"
  | "low_confidence_verdict"
  | "contradicts_person"
  | "duplicate_suspect"
  | "other";
export type ReviewStatus = "open" | "accepted" | "rejected" | "edited";

export const REVIEW_KINDS: readonly ReviewKind[] = [
  "audit_unsure",
  "low_confidence_verdict",
  "contradicts_person",
  "duplicate_suspect",
  "other",
];

/** One review item (camelCase; see reviewItemToJson for the snake_case shape). */
export interface ReviewItem {
  id: number;
  actionId: string | null;
  kind: ReviewKind;
  agent: string;
  title: string;
  original: unknown;
  proposed: unknown;
  reasoning: string | null;
  confidence: number | null;
  openedBy: string;
  context: unknown;
  createdAt: number;
  status: ReviewStatus;
  decidedBy: string | null;
  decidedAt: number | null;
  decisionOutput: unknown;
  decisionReason: string | null;
  appliedNote: string | null;
}

export type NewReviewItem = Pick<ReviewItem, "kind" | "agent" | "title" | "openedBy"> &
  Partial<
    Pick<ReviewItem, "actionId" | "original" | "proposed" | "reasoning" | "confidence" | "context">
  >;

export interface ReviewDecisionRow {
  id: number;
  status: Exclude<ReviewStatus, "open">;
  decidedBy: string;
  decidedAt: number;
  decisionOutput: unknown;
  decisionReason: string | null;
  appliedNote: string | null;
}

export interface ReviewFilter {
  status?: ReviewStatus;
  agent?: string;
  kind?: ReviewKind;
  limit?: number;
}

/** The review queue's items. */
export interface ReviewItemStore {
  /**
   * Opens an item and puts its action "in_review", in one transaction. While an item of the same
   * kind is open for the same action (opened here or by another daemon at the same moment), that
   * one is returned instead (created: false).
   */
  open(item: NewReviewItem, createdAt: number): Promise<{ item: ReviewItem; created: boolean }>;
  get(id: number): Promise<ReviewItem | undefined>;
  /** Every item of an action, oldest first. */
  byAction(actionId: string): Promise<ReviewItem[]>;
  /** The latest decided item of an action. */
  lastDecision(actionId: string): Promise<ReviewItem | undefined>;
  /** Oldest first, 100 unless a limit is given. */
  list(filter?: ReviewFilter): Promise<ReviewItem[]>;
  count(status: ReviewStatus): Promise<number>;
  /**
   * Records a decision on an open item and marks its action "ruled", in one transaction. False
   * when the item was no longer open: someone (another daemon) decided it first.
   */
  recordDecision(decision: ReviewDecisionRow): Promise<boolean>;
  /**
   * Takes back exactly this decision (its status, decider and time must still be on the item):
   * the item is open again and its action back "in_review". For a decision whose application
   * failed. False when the item has changed since or cannot be reopened.
   */
  withdrawDecision(decision: ReviewDecisionRow): Promise<boolean>;
  /** What applying a recorded decision did. */
  setAppliedNote(id: number, note: string): Promise<void>;
}

/** Feedback on an action after the fact: a person's thumbs, an eval's score. */
export interface Feedback {
  id: number;
  actionId: string;
  createdAt: number;
  givenBy: string;
  confidence: number | null;
  flags: string[];
  reasoning: string | null;
  scores: Record<string, number>;
}

export type NewFeedback = Omit<Feedback, "id">;

export interface FeedbackStore {
  /**
   * Records the feedback and applies it to the action in one transaction: its flags join the
   * action's (and an action that merely passed an audit window is reviewed again), a confidence
   * replaces the action's, reasoning fills the action's when it has none.
   */
  add(feedback: NewFeedback): Promise<Feedback>;
  /** Oldest first. */
  forAction(actionId: string): Promise<Feedback[]>;
}

/** What a plain agent receives about one correction, whoever made it. */
export interface CorrectionForDelivery {
  correctionId: string;
  agent: string;
  actionId: string;
  source: "audit" | "person";
  runId: string | null;
  original: unknown;
  corrected: unknown;
  reasoning: string | null;
  reviewerModel: string | null;
  confidenceAfter: number | null;
}

export type DeliveryStatus = "pending" | "acknowledged" | "failed";

/** A correction on its way to a plain agent, with the correction itself. */
export interface Delivery extends CorrectionForDelivery {
  status: DeliveryStatus;
  createdAt: number;
  acknowledgedAt: number | null;
  acknowledgedVia: "pull" | "webhook" | null;
  note: string | null;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
}

export interface DeliveryAttempt {
  correctionId: string;
  deliveryId: string;
  url: string;
  attemptedAt: number;
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
}

export interface DeliveryStore {
  /** Queues a correction for its agent; a second call for the same correction does nothing. */
  enqueue(correction: CorrectionForDelivery, at: number): Promise<void>;
  get(correctionId: string): Promise<Delivery | undefined>;
  /** An agent's deliveries (any status when null), oldest first. */
  list(agent: string, status: DeliveryStatus | null, limit: number): Promise<Delivery[]>;
  /** True when this call acknowledged it; false when it was acknowledged before (or is unknown). */
  acknowledge(
    id: string,
    via: "pull" | "webhook",
    at: number,
    note: string | null,
  ): Promise<boolean>;
  /** Pending deliveries of an agent whose next try is due, oldest first. */
  due(agent: string, now: number, limit: number): Promise<Delivery[]>;
  /**
   * Takes a pending, due delivery for one try: counts the attempt and pushes its next try to
   * `leaseUntil`, so no other sender (another daemon, a later pass) sends it meanwhile; if the
   * claimer dies, the lease runs out and it is due again. False when someone else has it.
   */
  claim(id: string, now: number, leaseUntil: number): Promise<boolean>;
  retryAt(id: string, at: number, error: string): Promise<void>;
  giveUp(id: string, error: string): Promise<void>;
  recordAttempt(attempt: DeliveryAttempt): Promise<void>;
  attempts(correctionId: string): Promise<DeliveryAttempt[]>;
}

/** The review domain's stores of one engine (LedgerStores.review). */
export interface ReviewStores {
  readonly items: ReviewItemStore;
  readonly feedback: FeedbackStore;
  readonly deliveries: DeliveryStore;
}
