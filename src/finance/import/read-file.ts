import type { Config } from "../../config.js";
import { NightshiftError } from "../../errors.js";
import { type KnownLayout, parseCsv } from "./csv.js";
import { parseOfx } from "./ofx.js";
import { parsePdf } from "./pdf.js";
import type { ParsedStatement } from "./statement.js";

/**
 * The statements in one file (an OFX download may hold several accounts'). Chooses the parser
 * by content first (a renamed file still imports), then by extension. */
export async function parseStatementBytes(
  bytes: Uint8Array,
  file: string,
  config: Config["finance"],
  known: KnownLayout[] = [],
): Promise<ParsedStatement[]> {
  if (bytes.length === 0) {
    throw new NightshiftError(`${file}: cannot import: the file is empty`, { code: "bad_file" });
  }
  const head = Buffer.from(bytes.subarray(0, 1024)).toString("latin1");
  if (head.startsWith("%PDF") || /\.pdf$/i.test(file)) {
    if (!head.startsWith("%PDF")) {
      throw new NightshiftError(
        `${file}: cannot import: not a PDF file (no %PDF header); download the statement again`,
        {
          code: "bad_file",
        },
      );
    }
    return [await parsePdf(bytes, file)];
  }
  if (bytes.subarray(0, 4096).includes(0)) {
    throw new NightshiftError(
      `${file}: cannot import: a binary file that is not a PDF; use a PDF, CSV, OFX or QFX statement`,
      {
        code: "bad_file",
      },
    );
  }
  const text = decode(bytes);
  if (/OFXHEADER|<OFX>/i.test(text.slice(0, 4096)) || /\.(?:ofx|qfx)$/i.test(file))
    return parseOfx(text, file);
  refusePlainText(text, file);
  return [parseCsv(text, file, config.csv_layouts, known)];
}

/**
 * Text extracted from a PDF (pdftotext's page breaks, columns padded with runs of spaces) is
 * not a CSV: reading it as one would invent columns. The PDF itself imports.
 */
function refusePlainText(text: string, file: string): void {
  const lines = text
    .split(/\r?\n/)
    .filter((line) => line.trim())
    .slice(0, 200);
  const delimited = lines.filter((line) => /[,;\t|]/.test(line)).length;
  const padded = lines.filter((line) => /\S {3,}\S/.test(line)).length;
  if (text.includes("\f") || (delimited < lines.length / 2 && padded > 0)) {
    throw new NightshiftError(
      `${file}: cannot import: plain text (it looks like text extracted from a PDF), not a CSV with separated columns; import the PDF statement itself`,
      { code: "bad_file" },
    );
  }
}

/** UTF-8 unless that fails; older bank exports (OFX CHARSET:1252) are Windows-1252. */
function decode(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}
