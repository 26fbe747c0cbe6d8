// The correction handlers belong to the review domain (src/review/handlers.ts); the audit applies
// corrections through them.
export * from "../review/handlers.js";
