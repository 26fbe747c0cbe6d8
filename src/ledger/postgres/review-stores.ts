import type pg from "pg";
import type { ReviewStores } from "../stores/review.js";
import { PostgresDeliveries } from "./deliveries.js";
import { PostgresFeedback } from "./feedback.js";
import { PostgresReviewItems } from "./review.js";

/** The review queue, feedback and deliveries of a PostgreSQL ledger. */
export class PostgresReviewStores implements ReviewStores {
  readonly items: PostgresReviewItems;
  readonly feedback: PostgresFeedback;
  readonly deliveries: PostgresDeliveries;

  constructor(pool: pg.Pool) {
    this.items = new PostgresReviewItems(pool);
    this.feedback = new PostgresFeedback(pool);
    this.deliveries = new PostgresDeliveries(pool);
  }
}
