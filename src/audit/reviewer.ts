import type { Config } from "../config.js";
import { ConfigError, NightshiftError } from "../errors.js";
import type { Runtime } from "../runtime/runtime.js";
import { defineStage } from "../runtime/stage.js";
import { StageFailedError } from "../runtime/stage-run.js";
import { type BatchReview, batchReviewSchema, type ReviewPrompt } from "./review.js";
import { AUDITOR_AGENT } from "./select.js";

/**
 * The reviewer model, asked through the runtime so each of its calls is a stage action of agent
 * "auditor" in the run's trace (with its attempts and tokens), like any agent's work.
 */
export interface Reviewer {
  readonly role: string;
  readonly model: string;
  readonly contextWindow: number;
  review(
    prompt: ReviewPrompt,
    actionIds: string[],
    traceId: string,
    signal?: AbortSignal,
  ): Promise<ReviewAnswer>;
}

export interface ReviewAnswer {
  review: BatchReview | null;
  /** Why there is no usable review (the reply never fit the schema), for the items' reasoning. */
  failure: string | null;
}

/** Used when a role sets no context_window: Ollama's usual default for 7–14B models today. */
export const DEFAULT_CONTEXT_WINDOW = 8192;

export function contextWindowOf(config: Pick<Config, "models">, role: string): number {
  const entry = config.models[role];
  if (!entry) {
    const known = Object.keys(config.models).join(", ") || "none";
    throw new ConfigError(
      `the audit's reviewer role "${role}" is not in models (known: ${known}); add models.${role} to nightshift.yaml or set audit.reviewer_role`,
    );
  }
  return entry.context_window ?? entry.context_size ?? DEFAULT_CONTEXT_WINDOW;
}

interface ReviewInput {
  system: string;
  user: string;
  action_ids: string[];
}

const STAGE_NAME = "audit_review";

export function runtimeReviewer(
  runtime: Runtime,
  config: Pick<Config, "models">,
  role: string,
): Reviewer {
  const contextWindow = contextWindowOf(config, role);
  const roleOptions = config.models[role]?.options ?? {};
  const stage = defineStage<ReviewInput, BatchReview>({
    name: STAGE_NAME,
    role,
    schema: batchReviewSchema,
    prompt: (input) => ({ system: input.system, user: input.user }),
    // The verdicts carry their own confidences; the stage's is earned by answering every item.
    confidenceField: null,
    checks: [
      (output, input) => {
        const answered = new Set(output.verdicts.map((v) => v.action_id));
        const missing = input.action_ids.filter((id) => !answered.has(id));
        return {
          name: "every_item_answered",
          passed: missing.length === 0,
          detail: missing.length ? `no verdict for ${missing.length} item(s)` : undefined,
        };
      },
    ],
    // Ollama cuts a prompt to its default context unless told the window: the batch was sized
    // to the role's window, so ask for it.
    options: "num_ctx" in roleOptions ? undefined : { num_ctx: contextWindow },
  });
  return {
    role,
    get model() {
      return runtime.models.role(role).model;
    },
    contextWindow,
    async review(prompt, actionIds, traceId, signal) {
      try {
        const result = await runtime.runStage(
          stage,
          { system: prompt.system, user: prompt.user, action_ids: actionIds },
          { agent: AUDITOR_AGENT, traceId, signal },
        );
        return { review: result.output, failure: null };
      } catch (error) {
        if (!(error instanceof StageFailedError)) throw error;
        return { review: null, failure: unusableReply(error) };
      }
    },
  };
}

/**
 * A reviewer that answered, but never in the verdict schema, gives "unsure" items (a person
 * looks); a reviewer that could not be reached fails the batch, so the run stops there and
 * resumes later instead of sending the whole night's work to the queue.
 */
function unusableReply(error: StageFailedError): string {
  const answered = error.attempts.filter((a) => a.error && /^reply /.test(a.error));
  if (answered.length === 0) {
    const last = error.attempts.at(-1)?.error ?? error.message;
    throw new NightshiftError(`the audit's reviewer could not be reached: ${last}`, {
      status: 502,
      code: "reviewer_unreachable",
      cause: error,
    });
  }
  return `the reviewer's reply did not fit the verdict schema (${answered.at(-1)!.error})`;
}
