/**
 * How a stage's confidence is earned. Checks that can fail weigh more than the model's word about
 * itself (DESIGN.md, "Confidence is earned"):
 *
 *   checks_score = Σ weight·passed / Σ weight          over the stage's checks
 *                = prior (default 0.5)                 when the stage has no checks
 *   model        = the model's self-reported confidence, clamped to [0, 1]
 *                = checks_score                        when the model reports none
 *   confidence   = 0.7 · checks_score + 0.3 · model
 *
 * So a stage with no checks cannot pass 0.80 on the model's word alone (0.7·0.5 + 0.3·1 = 0.65),
 * one failed check out of two keeps any answer under it (0.35 + 0.3 = 0.65), and all checks
 * passing with a silent model gives 1.0. Schema validity is a precondition, not a term: a reply
 * that does not fit the schema is a failed attempt with no confidence at all.
 */

export const CHECKS_WEIGHT = 0.7;
export const MODEL_WEIGHT = 0.3;
export const DEFAULT_PRIOR = 0.5;

export interface CheckResult {
  name: string;
  passed: boolean;
  detail?: string | undefined;
  /** Relative weight among the stage's checks; 1 unless given. */
  weight?: number | undefined;
}

/** What the attempt action's meta records, so the number can be re-derived by a person. */
export interface ConfidenceDerivation {
  formula: string;
  checks: CheckResult[];
  checks_passed: number;
  checks_failed: number;
  checks_score: number;
  /** True when there were no checks and the prior stood in for them. */
  prior_used: boolean;
  model_reported: number | null;
  value: number;
}

export function deriveConfidence(
  checks: CheckResult[],
  modelReported: number | null,
  prior = DEFAULT_PRIOR,
): ConfidenceDerivation {
  const totalWeight = checks.reduce((sum, c) => sum + weightOf(c), 0);
  const passedWeight = checks.reduce((sum, c) => sum + (c.passed ? weightOf(c) : 0), 0);
  const priorUsed = totalWeight === 0;
  const checksScore = priorUsed ? clamp(prior) : passedWeight / totalWeight;
  const model = modelReported === null ? checksScore : clamp(modelReported);
  const value = round(CHECKS_WEIGHT * checksScore + MODEL_WEIGHT * model);
  return {
    formula: `${CHECKS_WEIGHT} * checks_score + ${MODEL_WEIGHT} * model_reported (checks_score when the model reports none)`,
    checks,
    checks_passed: checks.filter((c) => c.passed).length,
    checks_failed: checks.filter((c) => !c.passed).length,
    checks_score: round(checksScore),
    prior_used: priorUsed,
    model_reported: modelReported === null ? null : clamp(modelReported),
    value,
  };
}

/** The model's self-reported confidence at `field` of its output, if it is a finite number. */
export function modelReportedConfidence(output: unknown, field: string | null): number | null {
  if (field === null || !output || typeof output !== "object") return null;
  const value = (output as Record<string, unknown>)[field];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function weightOf(check: CheckResult): number {
  const weight = check.weight ?? 1;
  return Number.isFinite(weight) && weight > 0 ? weight : 0;
}

function clamp(value: number): number {
  return Math.min(1, Math.max(0, value));
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
