/**
 * A line diff (longest common subsequence): [{kind: "same" | "add" | "del", line}]. Entries are
 * a few dozen lines; beyond 2,000 lines on a side it falls back to "all removed, all added".
 */
export function diffLines(before, after) {
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.length > 2000 || b.length > 2000) {
    return [
      ...a.map((line) => ({ kind: "del", line })),
      ...b.map((line) => ({ kind: "add", line })),
    ];
  }
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ kind: "same", line: a[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({ kind: "del", line: a[i++] });
    else out.push({ kind: "add", line: b[j++] });
  }
  while (i < a.length) out.push({ kind: "del", line: a[i++] });
  while (j < b.length) out.push({ kind: "add", line: b[j++] });
  return out;
}
