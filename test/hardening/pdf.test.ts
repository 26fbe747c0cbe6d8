import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { readPdfLinesIsolated } from "../../src/finance/import/pdf-worker.js";
import { parseStatementBytes } from "../../src/finance/import/read-file.js";
import { bombPdf, deepPdf, pdfWith } from "./pdf-bombs.js";

const finance = parseConfig({}).finance;

describe("hostile PDFs are refused with the file and the limit, never a crash", () => {
  it("refuses a 4 MB file whose stream inflates to 4 GB, naming the file and the limit", async () => {
    const bomb = bombPdf(4096);
    expect(bomb.length).toBeLessThan(5 * 1024 * 1024);
    await expect(parseStatementBytes(bomb, "bomb.pdf", finance)).rejects.toMatchObject({
      name: "NightshiftError",
      message: expect.stringMatching(
        /^bomb\.pdf: cannot import: .*inflate past the limit of 128 MB/,
      ),
    });
  }, 120_000);

  it("refuses a stream far beyond a plausible compression ratio even under the total limit", async () => {
    const small = bombPdf(64);
    await expect(
      readPdfLinesIsolated(small, "ratio.pdf", {
        memoryMb: 160,
        timeoutMs: 60_000,
        maxInflatedBytes: 1024 * 1024 * 1024,
        maxRatio: 100,
        maxNesting: 512,
      }),
    ).rejects.toThrow(
      /^ratio\.pdf: cannot import: a stream of \d+ bytes inflates past \d+ bytes, over 100 times its size/,
    );
  }, 120_000);

  it("refuses a 600 KB file nested 300,000 levels with a clear message and no stack trace", async () => {
    const deep = deepPdf(300_000);
    const error = await parseStatementBytes(deep, "deep.pdf", finance).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: "NightshiftError",
      message:
        "deep.pdf: cannot import: objects nested deeper than 512 levels (a malformed or hostile file)",
    });
  }, 120_000);

  it("turns a parser stack overflow inside the limits into the same kind of refusal", async () => {
    const deep = deepPdf(100_000);
    const limits = {
      memoryMb: 160,
      timeoutMs: 60_000,
      maxInflatedBytes: 1 << 27,
      maxRatio: 500,
      maxNesting: 1e9,
    };
    await expect(readPdfLinesIsolated(deep, "deep2.pdf", limits)).rejects.toMatchObject({
      name: "NightshiftError",
      message: expect.stringMatching(
        /^deep2\.pdf: cannot import: it is nested too deeply|needed more than 160 MB/,
      ),
    });
  }, 120_000);

  it("still reads an ordinary Flate-compressed page", async () => {
    const { deflateSync } = await import("node:zlib");
    const page = pdfWith(
      deflateSync(Buffer.from("BT /F1 12 Tf 72 700 Td (hello) Tj ET")),
      "/Filter /FlateDecode",
    );
    await expect(readPdfLinesIsolated(page, "ok.pdf")).resolves.toBeInstanceOf(Array);
  }, 120_000);
});
