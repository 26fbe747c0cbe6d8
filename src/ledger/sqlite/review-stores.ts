import type { Ledger } from "../ledger.js";
import type { ReviewStores } from "../stores/review.js";
import { SqliteDeliveries } from "./deliveries.js";
import { SqliteFeedback } from "./feedback.js";
import { SqliteReviewItems } from "./review.js";

/** The review queue, feedback and deliveries of a SQLite ledger. */
export class SqliteReviewStores implements ReviewStores {
  readonly items: SqliteReviewItems;
  readonly feedback: SqliteFeedback;
  readonly deliveries: SqliteDeliveries;

  constructor(ledger: Ledger) {
    this.items = new SqliteReviewItems(ledger.db);
    this.feedback = new SqliteFeedback(ledger.db, ledger.actions);
    this.deliveries = new SqliteDeliveries(ledger.db);
  }
}

/**
 * The review stores of an opened ledger of either engine, or of a SQLite `Ledger` (what the
 * correction handler registry still passes until every agent takes the engine's stores).
 */
export function reviewStoresOf(ledger: Ledger | { review: ReviewStores }): ReviewStores {
  return "review" in ledger ? ledger.review : new SqliteReviewStores(ledger);
}
