import { type Clock, systemClock } from "../clock.js";
import { NightshiftError, NotFoundError } from "../errors.js";
import type { Ledger } from "../ledger/ledger.js";
import { reviewStoresOf } from "../ledger/sqlite/review-stores.js";
import type {
  Delivery,
  DeliveryStatus,
  DeliveryStore,
  ReviewStores,
} from "../ledger/stores/review.js";
import type { CorrectionHandler } from "../review/handlers.js";

export type { DeliveryStatus } from "../ledger/stores/review.js";

/**
 * The correction handler of agents that live outside nightshift (a script using the `ollama`
 * client, an n8n flow): instead of changing the agent's data, it queues the correction for the
 * agent, which pulls it (GET /v0/corrections) or receives it on its webhook, and acknowledges it
 * once applied. Audit corrections and review-queue decisions both come through here.
 * `ledger`: the opened ledger of either engine; a SQLite `Ledger` still works while the
 * handler registry (agent-handlers.ts) passes one.
 */
export function deliveryHandler(
  ledger: Ledger | { review: ReviewStores },
  clock: Clock = systemClock,
): CorrectionHandler {
  const store = reviewStoresOf(ledger).deliveries;
  return {
    async apply(correction) {
      await store.enqueue(
        {
          correctionId: correction.correctionId,
          agent: correction.agent,
          actionId: correction.actionId,
          source: correction.source,
          runId: correction.runId ?? null,
          original: correction.original,
          corrected: correction.corrected,
          reasoning: correction.reasoning ?? null,
          reviewerModel: correction.reviewerModel ?? null,
          confidenceAfter: correction.confidenceAfter ?? null,
        },
        clock.now(),
      );
      return `queued for agent "${correction.agent}": GET /v0/corrections?agent=${correction.agent} or its webhook`;
    },
  };
}

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
 * Acknowledges a correction the agent has applied. Idempotent, also across daemons: of two acks
 * one records it and the other answers with that record (already: true); an ack naming another
 * agent is refused.
 */
export async function acknowledgeCorrection(
  store: DeliveryStore,
  id: string,
  options: { agent: string | null; note: string | null; now: number },
): Promise<{ delivery: Delivery; already: boolean }> {
  const found = await store.get(id);
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
  const acknowledged = await store.acknowledge(id, "pull", options.now, options.note);
  return { delivery: (await store.get(id))!, already: !acknowledged };
}
