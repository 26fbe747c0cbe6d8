import type { Clock } from "../clock.js";
import { NightshiftError, NotFoundError } from "../errors.js";
import { flagsUnder, parseConfidence, parseFlags } from "../gateway/self-report.js";
import type { Action } from "../ledger/actions.js";
import type { ActionReads, Feedback, ReviewStores } from "../ledger/stores/index.js";

/** What a client may send to POST /v0/actions/:id/feedback (or `nightshift actions flag`). */
export interface FeedbackFields {
  confidence: number | null;
  flags: string[];
  reasoning: string | null;
  scores: Record<string, number>;
  by: string | null;
}

const FIELDS = new Set(["confidence", "flags", "reasoning", "scores", "by"]);
const SCORE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$/;
const MAX_SCORES = 32;
const MAX_REASONING = 20_000;

/**
 * Validates a feedback body. Scores are numbers; a thumbs up/down may be sent as "up"/"down" or
 * true/false and is stored as 1/0, so every score sums and averages the same way.
 */
export function parseFeedbackBody(body: Record<string, unknown>): FeedbackFields {
  const unknown = Object.keys(body).filter((k) => !FIELDS.has(k));
  if (unknown.length) {
    throw new NightshiftError(
      `unknown feedback field${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; send confidence, flags, reasoning, scores and by`,
    );
  }
  const confidence =
    body.confidence === undefined || body.confidence === null
      ? null
      : parseConfidence(body.confidence, '"confidence"');
  if (body.flags !== undefined && !Array.isArray(body.flags)) {
    throw new NightshiftError('"flags" must be an array of flag names, e.g. ["requires_audit"]');
  }
  const flags = parseFlags((body.flags as unknown[] | undefined) ?? [], '"flags"');
  const reasoning = optionalString(body.reasoning, "reasoning", MAX_REASONING);
  const by = optionalString(body.by, "by", 200);
  const scores = parseScores(body.scores);
  if (confidence === null && !flags.length && reasoning === null && !Object.keys(scores).length) {
    throw new NightshiftError(
      "empty feedback: send at least one of confidence, flags, reasoning or scores",
    );
  }
  return { confidence, flags, reasoning, scores, by };
}

function optionalString(value: unknown, name: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value.trim() === "" || value.length > max) {
    throw new NightshiftError(`"${name}" must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

function parseScores(raw: unknown): Record<string, number> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new NightshiftError('"scores" must be an object of name → number, e.g. {"thumbs": "up"}');
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_SCORES) {
    throw new NightshiftError(`"scores": ${entries.length} scores; at most ${MAX_SCORES}`);
  }
  const scores: Record<string, number> = {};
  for (const [name, value] of entries) {
    if (!SCORE_NAME.test(name)) {
      throw new NightshiftError(
        `"scores": ${JSON.stringify(name)} is not a score name (letters, digits, _ . : -)`,
      );
    }
    scores[name] = scoreValue(name, value);
  }
  return scores;
}

function scoreValue(name: string, value: unknown): number {
  if (value === true || value === "up") return 1;
  if (value === false || value === "down") return 0;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  throw new NightshiftError(
    `"scores.${name}": ${JSON.stringify(value)} is not a score; send a number, "up"/"down" or true/false`,
  );
}

/** The `--json` and API shape. */
export function feedbackToJson(f: Feedback): Record<string, unknown> {
  return {
    id: f.id,
    action_id: f.actionId,
    created_at: new Date(f.createdAt).toISOString(),
    given_by: f.givenBy,
    confidence: f.confidence,
    flags: f.flags,
    reasoning: f.reasoning,
    scores: f.scores,
  };
}

export interface FeedbackDeps {
  /** The opened ledger of either engine. */
  ledger: {
    actions: Pick<ActionReads, "find" | "get">;
    writer: { flush(): Promise<unknown> };
    review: ReviewStores;
  };
  clock: Clock;
  /** config.runtime.confidence_threshold: a confidence under it flags the action for review. */
  threshold: number;
}

/** Records feedback on an action (id or 8+ character prefix); returns the action as it now is. */
export async function giveFeedback(
  deps: FeedbackDeps,
  id: string,
  fields: FeedbackFields,
  fallbackBy: string,
): Promise<{ action: Action; feedback: Feedback }> {
  // The gateway writes in batches; a client giving feedback right after its call must find it.
  await deps.ledger.writer.flush();
  const found = await deps.ledger.actions.find(id);
  if (!found)
    throw new NotFoundError(`no action ${id} (an id or a unique prefix of 8+ characters)`);
  const flags = [...fields.flags];
  if (fields.confidence !== null && fields.confidence < deps.threshold) flags.push(...flagsUnder());
  const feedback = await deps.ledger.review.feedback.add({
    actionId: found.id,
    createdAt: deps.clock.now(),
    givenBy: fields.by ?? fallbackBy,
    confidence: fields.confidence,
    flags: [...new Set(flags)],
    reasoning: fields.reasoning,
    scores: fields.scores,
  });
  return { action: (await deps.ledger.actions.get(found.id))!, feedback };
}

/** Every feedback row of an action, oldest first. */
export function feedbackFor(
  ledger: { review: ReviewStores },
  actionId: string,
): Promise<Feedback[]> {
  return ledger.review.feedback.forAction(actionId);
}
