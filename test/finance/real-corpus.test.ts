import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  cents,
  checkExpected,
  corpusDirs,
  EXPECTATIONS_DIR,
  listDataFiles,
  loadCorpus,
  sourcesPath,
} from "../fixtures/finance/real-corpus.js";

// The real-world corpus is well-formed: every expectation parses and means one thing, every file
// is accounted for in SOURCES.md with its licence, and where the data files are present they are
// the bytes SOURCES.md pins. What the parser makes of them is measured by
// `npm run bench -- finance-real`.

const corpus = loadCorpus();
const sources = readFileSync(sourcesPath(), "utf8");
/** SOURCES.md rows: `| \`dir/file\` | repo | commit | path | licence | how | \`sha256\` |`. */
const rows = new Map(
  [...sources.matchAll(/^\| `([^`]+)` \|.*\| `([0-9a-f]{16})` \|$/gm)].map((m) => [m[1]!, m[2]!]),
);
const dataDirs = corpusDirs().filter((d) => listDataFiles(d).length > 0);
/** The `<owner>__<repo>` folder a corpus file sits in (some keep their own sub-folders). */
const repoOf = (name: string) => name.split("/")[0]!;

describe("real statement corpus", () => {
  it("has files from several repositories", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    expect(new Set(corpus.map((e) => repoOf(e.name))).size).toBeGreaterThanOrEqual(5);
  });

  it.each(corpus.map((e) => [e.name, e] as const))("%s: expectation is well-formed", (_, e) => {
    expect(checkExpected(e.expected)).toEqual([]);
  });

  it.each(corpus.map((e) => [e.name] as const))("%s: listed in SOURCES.md", (name) => {
    expect(rows.has(name)).toBe(true);
  });

  it("lists nothing in SOURCES.md that has no expectation", () => {
    const names = new Set(corpus.map((e) => e.name));
    expect([...rows.keys()].filter((name) => !names.has(name))).toEqual([]);
  });

  it("has each repository's licence notice", () => {
    const missing = [...new Set(corpus.map((e) => repoOf(e.name)))].filter(
      (repo) => !existsSync(join(EXPECTATIONS_DIR, "LICENSES", `${repo}.txt`)),
    );
    expect(missing).toEqual([]);
  });

  it("names no reserved repository", () => {
    const reserved = /monopoly|ofxparse\b|csv2ofx|beangulp|ofxstatement-dutch/i;
    expect(corpus.filter((e) => reserved.test(repoOf(e.name)))).toEqual([]);
  });

  // The data files are public data kept in shared/ (see SOURCES.md); where a copy is here, it
  // must be complete and byte for byte what SOURCES.md pins.
  it.runIf(dataDirs.length > 0)("finds every data file, with the bytes SOURCES.md pins", () => {
    const wrong = corpus
      .map((e) => {
        if (!e.dataPath) return `${e.name}: no data file`;
        const sha = createHash("sha256").update(readFileSync(e.dataPath)).digest("hex");
        return sha.startsWith(rows.get(e.name) ?? "-") ? null : `${e.name}: sha256 ${sha}`;
      })
      .filter(Boolean);
    expect(wrong).toEqual([]);
  });

  it.runIf(dataDirs.length > 0)("has an expectation for every data file", () => {
    const names = new Set(corpus.map((e) => e.name));
    const orphans = dataDirs.flatMap((d) => listDataFiles(d).filter((f) => !names.has(f)));
    expect(orphans).toEqual([]);
  });
});

describe("corpus expectation checks", () => {
  const good = {
    expect: "import",
    kind: "bank",
    currency: "EUR",
    opening_balance: null,
    closing_balance: "-12.30",
    transactions: [{ date: "2024-02-29", amount: "-12.30", description: "Café" }],
  };

  it("accepts a well-formed expectation", () => {
    expect(checkExpected(good)).toEqual([]);
  });

  it.each([
    [{ ...good, expect: "maybe" }, "expect"],
    [{ ...good, kind: "savings" }, "kind"],
    [{ ...good, expect: "refuse", kind: "error" }, "reason"],
    [{ ...good, currency: "euro" }, "currency"],
    [{ ...good, closing_balance: "12.3" }, "closing_balance"],
    [{ ...good, transactions: [] }, "transactions"],
    [{ ...good, transactions: [{ date: "2024-02-30", amount: "1.00", description: "x" }] }, "date"],
    [
      { ...good, transactions: [{ date: "2024-02-01", amount: "1,00", description: "x" }] },
      "amount",
    ],
    [{ ...good, extra: 1 }, "extra"],
  ])("rejects %j (%s)", (value, field) => {
    expect(checkExpected(value).join("; ")).toContain(field);
  });

  it("reads amounts as cents", () => {
    expect([cents("-12.34"), cents("0.05"), cents("1000.00")]).toEqual([-1234, 5, 100000]);
  });

  it("names data files by repository folder and original name", () => {
    for (const e of corpus) expect(e.name).toMatch(/^[A-Za-z0-9-]+__[A-Za-z0-9._-]+\/./);
  });
});
