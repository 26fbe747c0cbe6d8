import type { Config } from "../../config.js";
import { NightshiftError } from "../../errors.js";
import type { ReadProgress } from "../import-progress.js";
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
  /** Each step of reading a CSV (the slow part of a large one). */
  progress?: ReadProgress,
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
  return [parseCsv(text, file, config.csv_layouts, known, progress)];
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

/**
 * UTF-8 unless that fails; then GB18030 (Chinese banks' exports), which rejects the lone
 * accented bytes of Western files; then Windows-1252 (older exports, OFX CHARSET:1252).
 */
function decode(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // not UTF-8: a legacy code page
  }
  const western = decodeWindows1252(bytes);
  // Accented letters inside words ("Transferência") are Western text; runs of high bytes
  // ("±±¾©²ÍÌü") are double-byte Chinese, which GB18030 reads.
  const inWords = western.match(/[A-Za-z][\u00c0-\u00ff][A-Za-z]/g)?.length ?? 0;
  const runs = western.match(/[\u0080-\u00ff]{2,}/g)?.length ?? 0;
  if (runs > inWords) {
    try {
      return new TextDecoder("gb18030", { fatal: true }).decode(bytes);
    } catch {
      // not GB18030 either
    }
  }
  return western;
}

// Node's "windows-1252" decoder is Latin-1: 0x80-0x9F come out as control characters, so the
// euro sign and typographic quotes are mapped here.
const CP1252_HIGH =
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
  "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

function decodeWindows1252(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    out += byte >= 0x80 && byte <= 0x9f ? CP1252_HIGH[byte - 0x80]! : String.fromCharCode(byte);
  }
  return out;
}
