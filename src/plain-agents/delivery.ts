import type { CorrectionHandler } from "../audit/handlers.js";
import { type Clock, systemClock } from "../clock.js";
import { NightshiftError, NotFoundError } from "../errors.js";
import { type Delivery, DeliveryStore } from "../ledger/delivery-store.js";
import type { Ledger } from "../ledger/ledger.js";

/**
 * The correction handler of agents that live outside nightshift (a script using the `ollama`
 * client, an n8n flow): instead of changing the agent's data, it queues the correction for the
 * agent, which pulls it (GET /v0/corrections) or receives it on its webhook, and acknowledges it
 * once applied. Audit corrections and review-queue decisions both come through here.
 */
export function deliveryHandler(ledger: Ledger, clock: Clock = systemClock): CorrectionHandler {
  const store = new DeliveryStore(ledger.db);
  return {
    async apply(correction) {
      const now = clock.now();
      // A review decision has no corrections row of its own ("review-<item id>"); it gets one,
      // so the agent sees one kind of thing whoever corrected it.
      if (correction.source === "person") {
        store.insertPersonCorrection({
          id: correction.correctionId,
          actionId: correction.actionId,
          agent: correction.agent,
          original: correction.original,
          corrected: correction.corrected,
          at: now,
        });
      }
      store.enqueue(correction.correctionId, correction.agent, now);
      return `queued for agent "${correction.agent}": GET /v0/corrections?agent=${correction.agent} or its webhook`;
    },
  };
}

export type DeliveryStatus = Delivery["status"];
const STATUSES: readonly (DeliveryStatus | "all")[] = ["pending", "acknowledged", "failed", "all"];

export function parseDeliveryStatus(raw: string | null): DeliveryStatus | null {
  const status = raw ?? "pending";
  if (!STATUSES.includes(status as DeliveryStatus)) {
    throw new NightshiftError(`status=${status}: use one of ${STATUSES.join(", ")}`);
  }
  return status === "all" ? null : (status as DeliveryStatus);
}

/** The shape an agent receives, by pull and in a webhook's body. */
export function deliveryToJson(d: Delivery): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: d.correctionId,
    agent: d.agent,
    action_id: d.actionId,
    source: d.source,
    run_id: d.runId,
    original: d.original,
    corrected: d.corrected,
    reasoning: d.reasoning,
    reviewer_model: d.reviewerModel,
    confidence: d.confidenceAfter,
    created_at: iso(d.createdAt),
    status: d.status,
    acknowledged_at: iso(d.acknowledgedAt),
    acknowledged_via: d.acknowledgedVia,
    attempts: d.attempts,
    last_error: d.lastError,
    ack: `/v0/corrections/${encodeURIComponent(d.correctionId)}/ack`,
  };
}

/**
 * Acknowledges a correction the agent has applied. Idempotent: a second ack answers with the
 * first one's record (already: true) and changes nothing; an ack naming another agent is refused.
 */
export function acknowledgeCorrection(
  store: DeliveryStore,
  id: string,
  options: { agent: string | null; note: string | null; now: number },
): { delivery: Delivery; already: boolean } {
  const found = store.get(id);
  if (!found) {
    throw new NotFoundError(
      `no correction ${id} waiting for delivery; GET /v0/corrections?agent=NAME lists them`,
    );
  }
  if (options.agent !== null && options.agent !== found.agent) {
    throw new NightshiftError(
      `correction ${id} belongs to agent "${found.agent}", not "${options.agent}"`,
      { status: 409, code: "wrong_agent" },
    );
  }
  const acknowledged = store.acknowledge(id, "pull", options.now, options.note);
  return { delivery: store.get(id)!, already: !acknowledged };
}
