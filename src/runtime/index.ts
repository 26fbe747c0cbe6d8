/**
 * nightshift's agent runtime: the public API agents are written with.
 *
 * ```ts
 * // ledger: the action log of either engine, e.g. await openActionLedger(selectLedger(config.ledger, dbPath))
 * //   (src/ledger/select.ts) or the `stores` of src/app.ts: the runtime queues actions on its
 * //   batched `writer` and reads history from its `actions`.
 * const runtime = new Runtime({ config, ledger, knowledge });
 * const classify = defineStage({ name: "classify", role: "reasoner", schema, prompt, checks, alternatives });
 * const agent = runtime.agent("triage", async (input: string, run) => (await run.stage(classify, input)).output);
 * const result = await agent.run("The app crashes when I click save");
 * // result.output, result.confidence, result.flags, result.traceId, result.actionId
 * await runtime.flush(); // optional: commit the queued actions now (close does too)
 * await runtime.close();
 * ```
 *
 * Ledger shape of a run (every row an action, linked by parent_id within one trace_id):
 *   run (root) → <stage name> → attempt (one per try) → model_call (when not logged by the gateway)
 *
 * Flags: on a stage action, `low_confidence` (an approach came in under the threshold),
 * `requires_audit` (no approach reached it, or no valid reply at all), `check_failed` (the
 * winner failed a check); on an attempt, `invalid_output` (reply did not parse or fit the schema)
 * and `check_failed`.
 */

export {
  Agent,
  type AgentResult,
  chain,
  type Pipeline,
  type RunContext,
  type RunOptions,
} from "./agent.js";
export type { AttemptRequest } from "./attempt.js";
export type {
  BackendKind,
  ChatMessage,
  JsonSchema,
  ModelClient,
  ModelReply,
  ModelRequest,
} from "./backends/types.js";
export {
  CHECKS_WEIGHT,
  type CheckResult,
  type ConfidenceDerivation,
  DEFAULT_PRIOR,
  deriveConfidence,
  MODEL_WEIGHT,
} from "./confidence.js";
export { describeModelFailure } from "./failure-words.js";
export {
  canonicalJson,
  describeHistory,
  inputKey,
  type PastStep,
  type StageHistory,
} from "./history.js";
export {
  emptyKnowledge,
  type KnowledgeHit,
  type KnowledgeQuery,
  type KnowledgeSource,
} from "./knowledge.js";
export { ModelClients, type ModelClientsOptions } from "./models.js";
export {
  diffValues,
  type OutputDifference,
  type ReplayOptions,
  type ReplayResult,
  replayAction,
} from "./replay.js";
export { Runtime, type RuntimeOptions, type StageRunOptions } from "./runtime.js";
export {
  type Approach,
  type AttemptSummary,
  type Check,
  type ContextOptions,
  defineStage,
  type PromptBuilder,
  type PromptResult,
  type Stage,
  type StageContext,
  type StageDefinition,
} from "./stage.js";
export { StageFailedError, type StageResult } from "./stage-run.js";
export {
  formatTraceTree,
  loadTraceTree,
  type TraceNode,
  type TraceTree,
  traceTreeToJson,
} from "./trace-tree.js";
export {
  type ExpertInput,
  type ExpertPrompt,
  expertPromptSchema,
  type ReasonerOutput,
  type TwoStage,
  type TwoStageInput,
  type TwoStageOptions,
  type TwoStageOutput,
  twoStagePipeline,
} from "./two-stage.js";
