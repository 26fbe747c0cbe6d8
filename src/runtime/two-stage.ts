import { z } from "zod";
import type { Pipeline, RunContext } from "./agent.js";
import type { CheckResult } from "./confidence.js";
import { describeHistory } from "./history.js";
import { type Approach, type Check, defineStage, type Stage, type StageContext } from "./stage.js";
import type { StageResult } from "./stage-run.js";

/**
 * The two-stage shape: a general reasoner reads the user's request and the raw material, extracts
 * what matters and writes a precise prompt for a domain expert; the expert answers that prompt
 * with the extracted data. Small expert models answer well when the question is sharp and the
 * data is clean, and the reasoner is what makes it so. Both stages are logged under one run.
 */

export interface TwoStageInput {
  /** What the user asked, in their words. */
  request: string;
  /** The raw material: text, rows, a statement; serialized as JSON when not a string. */
  material: unknown;
}

export const expertPromptSchema = z.object({
  task: z.string().describe("The exact question for the expert, self-contained"),
  context: z.string().describe("What the expert needs to know about the situation"),
  constraints: z.array(z.string()).describe("Rules the answer must follow"),
  answer_format: z.string().describe("What the answer must contain"),
});
export type ExpertPrompt = z.infer<typeof expertPromptSchema>;

export interface ReasonerOutput<D> {
  data: D;
  expert_prompt: ExpertPrompt;
  confidence: number;
}

export interface ExpertInput<D> {
  request: string;
  data: D;
  prompt: ExpertPrompt;
}

export interface TwoStageOutput<D, O> {
  answer: O;
  data: D;
  prompt: ExpertPrompt;
  reasoner: StageResult<ReasonerOutput<D>>;
  expert: StageResult<O>;
}

export interface TwoStageOptions<D, O> {
  /** Stage names become `<name>.reasoner` and `<name>.expert`. */
  name: string;
  /** The expert's field, said to the reasoner ("personal finance", "tax law"). */
  domain: string;
  reasoner: {
    role?: string | undefined;
    /** What to extract from the material. */
    data: z.ZodType<D>;
    /** Extra guidance: what matters in this domain. */
    instructions?: string | undefined;
    checks?: Check<TwoStageInput, ReasonerOutput<D>>[] | undefined;
    alternatives?: Approach<TwoStageInput>[] | undefined;
  };
  expert: {
    role: string;
    schema: z.ZodType<O>;
    system?: string | undefined;
    checks?: Check<ExpertInput<D>, O>[] | undefined;
    alternatives?: Approach<ExpertInput<D>>[] | undefined;
    confidenceField?: string | null | undefined;
  };
}

export interface TwoStage<D, O> {
  reasoner: Stage<TwoStageInput, ReasonerOutput<D>>;
  expert: Stage<ExpertInput<D>, O>;
  /** Runs both stages inside an agent run (use within a larger pipeline). */
  run(run: RunContext, input: TwoStageInput): Promise<TwoStageOutput<D, O>>;
  /** The pipeline for `runtime.agent(name, pipeline)`. */
  pipeline: Pipeline<TwoStageInput, TwoStageOutput<D, O>>;
}

export function twoStagePipeline<D, O>(options: TwoStageOptions<D, O>): TwoStage<D, O> {
  const reasonerSchema = z.object({
    data: options.reasoner.data,
    expert_prompt: expertPromptSchema,
    confidence: z.number().min(0).max(1),
  }) as unknown as z.ZodType<ReasonerOutput<D>>;
  const reasoner = defineStage<TwoStageInput, ReasonerOutput<D>>({
    name: `${options.name}.reasoner`,
    role: options.reasoner.role ?? "reasoner",
    schema: reasonerSchema,
    knowledge: true,
    knowledgeText: (input) => input.request,
    system: reasonerSystem(options.domain, options.reasoner.instructions),
    prompt: reasonerPrompt,
    checks: [promptIsComplete, ...(options.reasoner.checks ?? [])],
    alternatives: options.reasoner.alternatives,
  });
  const expert = defineStage<ExpertInput<D>, O>({
    name: `${options.name}.expert`,
    role: options.expert.role,
    schema: options.expert.schema,
    history: false,
    system:
      options.expert.system ??
      `You are an expert in ${options.domain}. Answer using only the data given; do not invent figures.`,
    prompt: expertPrompt,
    checks: options.expert.checks,
    alternatives: options.expert.alternatives,
    confidenceField: options.expert.confidenceField,
  });
  const run = async (context: RunContext, input: TwoStageInput) => {
    const first = await context.stage(reasoner, input);
    const second = await context.stage(expert, {
      request: input.request,
      data: first.output.data,
      prompt: first.output.expert_prompt,
    });
    return {
      answer: second.output,
      data: first.output.data,
      prompt: first.output.expert_prompt,
      reasoner: first,
      expert: second,
    };
  };
  return { reasoner, expert, run, pipeline: (input, context) => run(context, input) };
}

function reasonerSystem(domain: string, instructions: string | undefined): string {
  return [
    "You prepare work for a domain expert. Read the user's request and the material.",
    "Put in `data` only what the request needs, copied exactly from the material (no arithmetic, no guesses).",
    `Then write \`expert_prompt\` for an expert in ${domain}: a precise, self-contained task, the context, the constraints and the answer format.`,
    "Set `confidence` to how sure you are that the data is complete and correct (0 to 1).",
    instructions ?? "",
  ]
    .filter(Boolean)
    .join("\n");
}

function reasonerPrompt(input: TwoStageInput, context: StageContext): string {
  const material =
    typeof input.material === "string" ? input.material : JSON.stringify(input.material, null, 2);
  const parts = [`Request:\n${input.request}`, `Material:\n${material}`];
  if (context.knowledge.length > 0) {
    parts.push(
      `What we learned before (knowledge base):\n${context.knowledge.map((k) => `- ${k.content}`).join("\n")}`,
    );
  }
  const history = describeHistory(context.history);
  if (history) parts.push(history);
  return parts.join("\n\n");
}

function expertPrompt<D>(input: ExpertInput<D>): string {
  const { prompt } = input;
  return [
    `Task: ${prompt.task}`,
    `Context: ${prompt.context}`,
    prompt.constraints.length
      ? `Constraints:\n${prompt.constraints.map((c) => `- ${c}`).join("\n")}`
      : "",
    `Data:\n${JSON.stringify(input.data, null, 2)}`,
    `Answer format: ${prompt.answer_format}`,
  ]
    .filter(Boolean)
    .join("\n\n");
}

function promptIsComplete<D>(output: ReasonerOutput<D>): CheckResult {
  const missing = (["task", "answer_format"] as const).filter(
    (k) => output.expert_prompt[k].trim() === "",
  );
  return {
    name: "expert_prompt_complete",
    passed: missing.length === 0,
    detail: missing.length ? `empty: ${missing.join(", ")}` : undefined,
  };
}
