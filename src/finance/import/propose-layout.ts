import { z } from "zod";
import type { Config } from "../../config.js";
import { NightshiftError } from "../../errors.js";
import { defineStage, type Runtime } from "../../runtime/index.js";
import { maskText } from "../mask.js";
import { reconcileStatement } from "../reconcile.js";
import { isDateCell } from "./column-profile.js";
import { type KnownLayout, parseCsv, readCsvTable } from "./csv.js";

const column = z.string().min(1).nullable();
const proposalSchema = z.object({
  date: z.string().min(1),
  description: z.string().min(1),
  amount: column,
  debit: column,
  credit: column,
  sign: column,
  balance: column,
  date_format: column,
  decimal: z.enum([".", ","]).nullable(),
});
type Proposal = z.infer<typeof proposalSchema>;

interface ProposalInput {
  text: string;
  file: string;
  prompt: string;
  signature: string;
}

/** A layout a model proposed and the checks accepted, with the stage action that proposed it. */
export interface ProposedLayout {
  known: KnownLayout;
  actionId: string;
}

const SAMPLE_ROWS = 5;

/**
 * When no layout fits a CSV export, the reasoner sees its header and a few rows (account
 * numbers masked, every figure's digits replaced by 9s) and names the columns. The parser then
 * reads the file with that mapping; the model never supplies a number. The proposal counts only
 * if the reading passes the checks: every row read, no contradiction, balances (if any) agree.
 */
export function layoutProposer(runtime: Runtime, config: Config["finance"]) {
  const stage = defineStage<ProposalInput, Proposal>({
    name: "propose_csv_layout",
    role: config.reasoner_role,
    schema: proposalSchema,
    system: [
      "You map the columns of a bank's CSV export. Answer with column names exactly as in the header,",
      'or "column N" (1-based) when there is no header. amount: one signed amount column; or debit and',
      "credit: separate money-out and money-in columns; sign: a column marking debit/credit when amounts",
      "are unsigned; balance: a running balance. date_format like DD.MM.YYYY, MM/DD/YYYY or YYYYMMDD.",
      "Use null for what the file does not have.",
    ].join("\n"),
    prompt: (input) => input.prompt,
    history: false,
    checks: [(proposal, input) => checkProposal(proposal, input)],
  });
  return async (text: string, file: string): Promise<ProposedLayout> => {
    const table = readCsvTable(text, file);
    const rows = [table.header, ...table.body.slice(0, SAMPLE_ROWS).map((row) => row.cells)]
      .filter((row): row is string[] => row !== null)
      .map((row, i) => (i === 0 && table.header ? row : row.map(maskCell)).join(" | "));
    const prompt = `${table.header ? "Header and sample rows" : "Sample rows (no header)"}:\n${rows.join("\n")}`;
    const input = { text, file, prompt, signature: table.signature };
    const result = await runtime.runStage(stage, input, { agent: "finance" });
    const verdict = checkProposal(result.output, input);
    if (!verdict.passed) {
      throw new NightshiftError(
        `${file}: the model's column mapping did not pass the checks (${verdict.detail})`,
        { code: "layout_unknown" },
      );
    }
    return { known: toKnown(result.output, table.signature), actionId: result.actionId };
  };
}

/** Dates stay as printed (their format is the question); figures keep their shape only. */
function maskCell(cell: string): string {
  if (isDateCell(cell)) return cell;
  if (/^[-+(]?\D{0,3}\d[\d.,' ]*\)?-?$/.test(cell.trim())) return cell.replace(/\d/g, "9");
  return maskText(cell);
}

function toKnown(proposal: Proposal, signature: string): KnownLayout {
  const layout: KnownLayout["layout"] = { date: proposal.date, description: proposal.description };
  for (const key of ["amount", "debit", "credit", "sign", "balance", "date_format"] as const) {
    const value = proposal[key];
    if (value !== null) layout[key] = value;
  }
  if (proposal.decimal !== null) layout.decimal = proposal.decimal;
  return { source: "model", layout, signature };
}

function checkProposal(proposal: Proposal, input: ProposalInput) {
  const name = "reads_and_checks";
  try {
    const statement = parseCsv(input.text, input.file, {}, [toKnown(proposal, input.signature)]);
    if (statement.transactions.length === 0)
      return { name, passed: false, detail: "no transaction could be read with it" };
    if (statement.warnings.some((w) => w.startsWith("skipped")))
      return { name, passed: false, detail: statement.warnings.join("; ") };
    const reconciliation = reconcileStatement(statement);
    const passed = reconciliation.status !== "mismatch";
    return { name, passed, detail: reconciliation.problems.join("; ") || reconciliation.status };
  } catch (error) {
    if (!(error instanceof NightshiftError)) throw error;
    return { name, passed: false, detail: error.message };
  }
}
