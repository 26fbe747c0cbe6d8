import type { Config } from "../config.js";
import { describeError, NightshiftError } from "../errors.js";
import type { KnowledgeBase } from "../knowledge/kb.js";
import type { KnownLayout } from "./import/csv.js";
import { rememberedLayouts } from "./import/layout-memory.js";
import type { ProposedLayout } from "./import/propose-layout.js";
import { parseStatementBytes } from "./import/read-file.js";
import { type ParsedStatement, payeeFromDescription } from "./import/statement.js";
import type { ReadProgress } from "./import-progress.js";

export interface ReadDeps {
  config: Config["finance"];
  /** Layouts learned earlier are read from it. */
  kb?: KnowledgeBase | undefined;
  /** A model reading for PDF layouts the parser does not know (see extract.ts). */
  extract?: ((bytes: Uint8Array, file: string) => Promise<ParsedStatement>) | undefined;
  /** A model naming the columns of a CSV the parser cannot map (see propose-layout.ts). */
  proposeLayout?: ((text: string, file: string) => Promise<ProposedLayout>) | undefined;
}

export interface StatementsRead {
  parts: ParsedStatement[];
  extraction: "parser" | "model";
  /** A column mapping a model proposed and the checks passed: remembered on import. */
  proposed: ProposedLayout | null;
}

/**
 * The statements in a file: the parser with every layout it knows (configured, learned), and
 * when it cannot map the file, a model's help: a column mapping for a CSV (the parser still
 * reads every number) or, for a PDF, a reading that must reconcile.
 */
export async function readStatements(
  bytes: Uint8Array,
  path: string,
  deps: ReadDeps,
  progress?: ReadProgress,
): Promise<StatementsRead> {
  const known: KnownLayout[] = deps.kb ? await rememberedLayouts(deps.kb) : [];
  try {
    const parts = await parseStatementBytes(bytes, path, deps.config, known, progress);
    return { parts, extraction: "parser", proposed: null };
  } catch (error) {
    if (!(error instanceof NightshiftError) || error.code !== "layout_unknown") throw error;
    const isPdf = Buffer.from(bytes.subarray(0, 4)).toString("latin1") === "%PDF";
    if (!isPdf && deps.proposeLayout) return withProposedLayout(bytes, path, deps, error);
    if (isPdf && deps.extract) return withModelReading(bytes, path, deps, error);
    throw error;
  }
}

async function withProposedLayout(
  bytes: Uint8Array,
  path: string,
  deps: ReadDeps,
  error: NightshiftError,
): Promise<StatementsRead> {
  const text = new TextDecoder("utf-8").decode(bytes);
  let proposed: ProposedLayout;
  try {
    proposed = await deps.proposeLayout!(text, path);
  } catch (failure) {
    if (!(failure instanceof NightshiftError)) throw failure;
    throw new NightshiftError(
      `${error.message}; a model's column mapping did not help either: ${describeError(failure)}`,
      { code: "layout_unknown", cause: failure },
    );
  }
  const parts = await parseStatementBytes(bytes, path, deps.config, [proposed.known]);
  for (const part of parts) part.flags = [...(part.flags ?? []), "layout_by_model"];
  return { parts, extraction: "parser", proposed };
}

async function withModelReading(
  bytes: Uint8Array,
  path: string,
  deps: ReadDeps,
  error: NightshiftError,
): Promise<StatementsRead> {
  let parsed: ParsedStatement;
  try {
    parsed = await deps.extract!(bytes, path);
  } catch (failure) {
    if (!(failure instanceof NightshiftError)) throw failure;
    throw new NightshiftError(
      `${error.message}; reading it with a model failed too: ${describeError(failure)}`,
      { code: "layout_unknown", cause: failure },
    );
  }
  if (parsed.transactions.some((t) => !Number.isSafeInteger(t.amountCents))) {
    throw new NightshiftError(
      `${error.message}; the model's reading has amounts that are not amounts`,
      { code: "layout_unknown" },
    );
  }
  for (const t of parsed.transactions) t.payee = payeeFromDescription(t.description);
  return { parts: [parsed], extraction: "model", proposed: null };
}
