import { describeError } from "../errors.js";
import type { AttemptSummary } from "./stage.js";
import { StageFailedError } from "./stage-run.js";

/**
 * A stage that got no usable reply, in words a person reads: which model, how many tries, and
 * what was wrong with the reply ("the field category was missing"), not the schema library's
 * own text. The full messages stay on the attempts in the ledger (`nightshift trace`).
 */
export function describeModelFailure(error: unknown): string {
  if (!(error instanceof StageFailedError) || error.attempts.length === 0) {
    return describeError(error);
  }
  const attempts = error.attempts;
  const models = [...new Set(attempts.map((a) => a.model))].join(", ");
  const problems = [...new Set(attempts.map(describeAttemptProblem))];
  const tries = attempts.length === 1 ? "1 try" : `${attempts.length} tries`;
  return `no usable answer from ${models} in ${tries}: ${problems.join("; ")} (see \`nightshift trace ${error.traceId}\`)`;
}

function describeAttemptProblem(attempt: AttemptSummary): string {
  const error = attempt.error ?? "its answer failed the checks";
  if (error.startsWith("reply is not JSON")) return "the reply was not JSON";
  const schema = /^reply does not fit the schema: (.*)$/s.exec(error);
  if (!schema) return error;
  const fields = schema[1]!.split("; ").map(describeIssue);
  return `the reply did not have the expected shape (${[...new Set(fields)].join(", ")})`;
}

/** "category: Invalid input: expected string, received undefined" → "category was missing". */
function describeIssue(issue: string): string {
  const colon = issue.indexOf(": ");
  const path = colon < 0 ? "(root)" : issue.slice(0, colon);
  const message = colon < 0 ? issue : issue.slice(colon + 2);
  const field = path === "(root)" ? "the answer" : `the field ${path}`;
  if (/received undefined/i.test(message)) return `${field} was missing`;
  if (/invalid option|expected one of/i.test(message)) {
    return `${field} was not one of the allowed values`;
  }
  const types = /expected (\w+), received (\w+)/i.exec(message);
  if (types) return `${field} was a ${types[2]}, not a ${types[1]}`;
  if (/too (small|big)/i.test(message)) return `${field} was out of range`;
  return `${field} was not valid`;
}
