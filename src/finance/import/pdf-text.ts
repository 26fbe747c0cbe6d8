import { NightshiftError } from "../../errors.js";

/** A run of text with no wide gap inside it: a word, a phrase, a date, an amount. */
export interface Cell {
  text: string;
  x0: number;
  x1: number;
}

/** One visual line of a page: cells sorted left to right. */
export interface Line {
  page: number;
  y: number;
  /** Font size, for gaps measured in lines. */
  size: number;
  cells: Cell[];
  text: string;
}

interface Piece {
  text: string;
  x0: number;
  x1: number;
  y: number;
  size: number;
  charWidth: number;
}

/**
 * Positioned text of every page, rebuilt into lines. PDF producers split text freely ("01/" and
 * "05", "1,2" and "34.56"), so pieces closer than about a character are one cell; a column gap
 * is much wider than that.
 */
export async function readPdfLines(bytes: Uint8Array, file: string): Promise<Line[]> {
  const document = await openPdf(bytes, file);
  try {
    const lines: Line[] = [];
    for (let n = 1; n <= document.numPages; n++) {
      const page = await document.getPage(n);
      const content = await page.getTextContent();
      const pieces: Piece[] = [];
      for (const item of content.items) {
        if (!("str" in item) || item.str.trim() === "") continue;
        const size = Math.hypot(item.transform[2]!, item.transform[3]!) || item.height || 10;
        pieces.push(
          ...splitRuns(item.str, item.transform[4]!, item.width, item.transform[5]!, size),
        );
      }
      lines.push(...groupLines(pieces, n));
      page.cleanup();
    }
    return lines;
  } finally {
    await document.destroy();
  }
}

async function openPdf(bytes: Uint8Array, file: string) {
  // Loaded on first use: pdfjs adds ~33 MB to a process, and the daemon and most commands never
  // read a PDF.
  const { getDocument } = await import("pdfjs-dist/legacy/build/pdf.mjs");
  try {
    // pdfjs takes ownership of the buffer it is given, so it gets a copy.
    return await getDocument({
      data: new Uint8Array(bytes),
      disableFontFace: true,
      isEvalSupported: false,
      useSystemFonts: false,
      verbosity: 0,
    }).promise;
  } catch (error) {
    const name = (error as { name?: string }).name;
    const reason =
      name === "PasswordException"
        ? "it is encrypted (password-protected); save an unprotected copy from your bank's site or your PDF viewer and import that"
        : `it is not a readable PDF (${(error as Error).message}); download the statement again`;
    throw new NightshiftError(`${file}: cannot import: ${reason}`, {
      code: "bad_file",
      cause: error,
    });
  }
}

/**
 * Some producers write a whole row as one string, aligned with runs of spaces (monospaced
 * statements): each run of two or more spaces is a column gap, and positions inside the string
 * are estimated from its average character width.
 */
function splitRuns(text: string, x0: number, width: number, y: number, size: number): Piece[] {
  const charWidth = text.length > 0 ? width / text.length : size / 2;
  const pieces: Piece[] = [];
  for (const match of text.matchAll(/\S+(?: \S+)*/g)) {
    const start = x0 + match.index * charWidth;
    pieces.push({
      text: match[0],
      x0: start,
      x1: start + match[0].length * charWidth,
      y,
      size,
      charWidth,
    });
  }
  return pieces;
}

function groupLines(pieces: Piece[], page: number): Line[] {
  pieces.sort((a, b) => b.y - a.y || a.x0 - b.x0);
  const groups: Piece[][] = [];
  for (const piece of pieces) {
    const last = groups.at(-1);
    const tolerance = Math.max(2, piece.size * 0.35);
    if (last && Math.abs(last[0]!.y - piece.y) <= tolerance) last.push(piece);
    else groups.push([piece]);
  }
  return groups.map((group) => {
    group.sort((a, b) => a.x0 - b.x0);
    const cells = joinCells(group);
    return {
      page,
      y: group[0]!.y,
      size: Math.max(...group.map((p) => p.size)),
      cells,
      text: cells.map((c) => c.text).join("  "),
    };
  });
}

function joinCells(pieces: Piece[]): Cell[] {
  const cells: Cell[] = [];
  let previous: Piece | undefined;
  for (const piece of pieces) {
    const last = cells.at(-1);
    const gap = previous ? piece.x0 - previous.x1 : Number.POSITIVE_INFINITY;
    const charWidth = Math.max(piece.charWidth, previous?.charWidth ?? 0, piece.size * 0.45);
    // One space (a full character in a monospaced font) joins words; two or more part columns.
    if (last && gap < charWidth * 1.5) {
      const space = gap > piece.size * 0.15 && !last.text.endsWith(" ") ? " " : "";
      last.text = `${last.text}${space}${piece.text}`;
      last.x1 = Math.max(last.x1, piece.x1);
    } else {
      cells.push({ text: piece.text, x0: piece.x0, x1: piece.x1 });
    }
    previous = piece;
  }
  for (const cell of cells) cell.text = cell.text.replace(/\s+/g, " ").trim();
  return cells;
}
