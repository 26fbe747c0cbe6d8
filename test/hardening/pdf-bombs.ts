import { constants, deflateRawSync } from "node:zlib";

/** A one-page PDF around `contents` (the page's content stream, already encoded) and extra keys. */
export function pdfWith(contents: Buffer, streamKeys: string, pageExtra = ""): Buffer {
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let length = 0;
  const push = (chunk: string | Buffer) => {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk, "latin1") : chunk;
    parts.push(buffer);
    length += buffer.length;
  };
  const object = (n: number, body: string | Buffer[]) => {
    offsets[n] = length;
    push(`${n} 0 obj\n`);
    if (typeof body === "string") push(body);
    else for (const b of body) push(b);
    push("\nendobj\n");
  };
  push("%PDF-1.4\n");
  object(1, "<< /Type /Catalog /Pages 2 0 R >>");
  object(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
  object(3, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R ${pageExtra}>>`);
  object(4, [
    Buffer.from(`<< /Length ${contents.length} ${streamKeys} >>\nstream\n`, "latin1"),
    contents,
    Buffer.from("\nendstream", "latin1"),
  ]);
  const xref = length;
  push(`xref\n0 5\n0000000000 65535 f \n`);
  for (let n = 1; n <= 4; n++) push(`${String(offsets[n]).padStart(10, "0")} 00000 n \n`);
  push(`trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  return Buffer.concat(parts);
}

/**
 * A Flate stream that inflates to `mib` MiB of spaces, built without inflating anything here: one
 * MiB deflated as a non-final block, repeated (a zlib header in front; the checksum never comes).
 */
export function flateBomb(mib: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1024 * 1024, 0x20), {
    level: 9,
    finishFlush: constants.Z_SYNC_FLUSH,
  });
  return Buffer.concat([Buffer.from([0x78, 0x9c]), ...Array.from({ length: mib }, () => block)]);
}

/** A PDF with the content stream inflating to `mib` MiB. */
export function bombPdf(mib: number): Buffer {
  return pdfWith(flateBomb(mib), "/Filter /FlateDecode");
}

/** A PDF whose page holds an array nested `depth` levels: about 2 × depth bytes. */
export function deepPdf(depth: number): Buffer {
  const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;
  return pdfWith(Buffer.from("BT ET"), "", `/Deep ${nested} `);
}
