import { z } from "zod";
import { NightshiftError } from "../errors.js";
import type { ChatMessage, JsonSchema } from "./backends/types.js";
import type { CheckResult } from "./confidence.js";
import type { StageHistory } from "./history.js";
import type { KnowledgeHit } from "./knowledge.js";

/** What a prompt builder may return: the user's turn, a system + user pair, or whole messages. */
export type PromptResult = string | { system?: string; user: string } | ChatMessage[];

export interface AttemptSummary {
  actionId: string;
  approach: string;
  role: string;
  model: string;
  valid: boolean;
  error: string | null;
  confidence: number | null;
  failedChecks: string[];
  output: unknown;
}

/** Everything a prompt builder can draw on besides the input itself. */
export interface StageContext {
  agent: string;
  stage: string;
  /** "primary", or the name of the alternative being tried. */
  approach: string;
  /** 1-based number of this attempt within the stage run. */
  attempt: number;
  /** Knowledge-base entries for this input, when the approach asks for them. */
  knowledge: KnowledgeHit[];
  /** The agent's earlier actions on the same input and in the same run. */
  history: StageHistory;
  /** Attempts already made in this stage run, in order: what was tried and what failed. */
  previous: AttemptSummary[];
  /** Why the last reply of this approach was refused, when this is a retry. */
  invalidReason: string | null;
}

export type PromptBuilder<I> = (input: I, context: StageContext) => PromptResult;

/**
 * A check over a stage's output and input: the output reconciles, a figure matches the data, two
 * approaches agree, a rule matched. It may be async. A check that throws counts as failed, with
 * the error as its detail.
 */
export type Check<I, O> = (output: O, input: I) => CheckResult | Promise<CheckResult>;

/** Where the stage's prompt may draw from besides the input. */
export interface ContextOptions {
  /** Ask the knowledge base: true for 5 entries, or how many. */
  knowledge?: boolean | number | undefined;
  /** Read the agent's earlier actions on the same input and trace. */
  history?: boolean | undefined;
}

/** Another way to get the answer, tried in order when confidence is under the threshold. */
export interface Approach<I> extends ContextOptions {
  name: string;
  /** Another model role; the stage's role when absent. */
  role?: string | undefined;
  /** Another prompt; the stage's prompt when absent. */
  prompt?: PromptBuilder<I> | undefined;
  system?: string | undefined;
  options?: Record<string, unknown> | undefined;
}

export interface StageDefinition<I, O> extends ContextOptions {
  /** Also the stage action's action_type in the ledger. */
  name: string;
  /** The output's shape; becomes the JSON schema sent as Ollama `format` / OpenAI response_format. */
  schema: z.ZodType<O>;
  /** The model role asked first (a key of `models` in config). */
  role: string;
  prompt: PromptBuilder<I>;
  /** A system message sent before the prompt. */
  system?: string | undefined;
  checks?: Check<I, O>[] | undefined;
  alternatives?: Approach<I>[] | undefined;
  /** Field of the output holding the model's self-reported confidence; null for none. */
  confidenceField?: string | null | undefined;
  /** Checks score used when the stage has no checks (see confidence.ts); 0.5 by default. */
  prior?: number | undefined;
  /** Backend options for every approach (temperature, seed...). */
  options?: Record<string, unknown> | undefined;
  /** The text the knowledge base is searched with; the input as text by default. */
  knowledgeText?: ((input: I) => string) | undefined;
}

/** A stage ready to run: the definition plus its JSON schema, computed once. */
export interface Stage<I, O> extends StageDefinition<I, O> {
  readonly jsonSchema: JsonSchema;
  readonly approaches: Approach<I>[];
}

/**
 * Declares a stage. The zod schema is converted to JSON schema here, once, so a schema that
 * cannot be expressed (a transform, a date) fails at definition, not on the first request.
 */
export function defineStage<I, O>(definition: StageDefinition<I, O>): Stage<I, O> {
  if (!/^[a-z][a-z0-9_.-]*$/i.test(definition.name)) {
    throw new NightshiftError(
      `stage name "${definition.name}" must start with a letter and use letters, digits, _ . -`,
    );
  }
  let jsonSchema: JsonSchema;
  try {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(definition.schema, {
      io: "output",
    }) as JsonSchema;
    jsonSchema = rest;
  } catch (error) {
    throw new NightshiftError(
      `stage "${definition.name}": its schema cannot be expressed as JSON schema (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  const primary: Approach<I> = {
    name: "primary",
    role: definition.role,
    prompt: definition.prompt,
    system: definition.system,
    options: definition.options,
    knowledge: definition.knowledge,
    history: definition.history,
  };
  const names = new Set<string>(["primary"]);
  for (const alternative of definition.alternatives ?? []) {
    if (names.has(alternative.name)) {
      throw new NightshiftError(
        `stage "${definition.name}": approach name "${alternative.name}" is used twice`,
      );
    }
    names.add(alternative.name);
  }
  return { ...definition, jsonSchema, approaches: [primary, ...(definition.alternatives ?? [])] };
}

/** Turns a prompt builder's result into chat messages, with the retry feedback appended. */
export function buildMessages(
  result: PromptResult,
  system: string | undefined,
  invalidReason: string | null,
): ChatMessage[] {
  let messages: ChatMessage[];
  if (typeof result === "string") {
    messages = [{ role: "user", content: result }];
  } else if (Array.isArray(result)) {
    messages = result.map((m) => ({ ...m }));
  } else {
    messages = [{ role: "user", content: result.user }];
    if (result.system) messages.unshift({ role: "system", content: result.system });
  }
  if (system && messages[0]?.role !== "system")
    messages.unshift({ role: "system", content: system });
  if (invalidReason) {
    messages.push({
      role: "user",
      content: `Your previous reply was refused: ${invalidReason}. Reply again with JSON that fits the schema exactly.`,
    });
  }
  return messages;
}

/** The input as text, for knowledge search. */
export function inputText(input: unknown): string {
  return typeof input === "string" ? input : JSON.stringify(input);
}
