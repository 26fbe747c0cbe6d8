import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in OTLP/HTTP collector: a plain node:http server that keeps each export request and
 * decodes it, from protobuf (with the independent wire decoder below, per the OTLP .proto field
 * numbers) or from JSON, into one shape, so a test checks what a real collector would read.
 */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP's enum: 1 internal, 2 server, 3 client. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  status: { code: number; message: string };
}

export interface ReceivedExport {
  contentType: string;
  resource: Record<string, unknown>;
  scope: string;
  spans: ReceivedSpan[];
}

export async function startOtlpReceiver(): Promise<{
  url: string;
  received: ReceivedExport[];
  close(): Promise<void>;
}> {
  const received: ReceivedExport[] = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(parts);
      const contentType = String(req.headers["content-type"] ?? "");
      const decoded = contentType.includes("protobuf") ? fromProtobuf(body) : fromJson(body);
      received.push(...decoded.map((d) => ({ ...d, contentType })));
      res
        .writeHead(200, { "content-type": contentType })
        .end(contentType.includes("json") ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// ── JSON (OTLP/JSON: ids in hex, enums as numbers) ──

// biome-ignore lint/suspicious/noExplicitAny: OTLP/JSON as a collector reads it, field by field.
type Json = Record<string, any>;

function fromJson(body: Buffer): Omit<ReceivedExport, "contentType">[] {
  const request = JSON.parse(body.toString("utf8")) as Json;
  return (request.resourceSpans as Json[]).flatMap((rs) =>
    (rs.scopeSpans as Json[]).map((ss) => ({
      resource: jsonAttributes(rs.resource?.attributes ?? []),
      scope: ss.scope?.name ?? "",
      spans: (ss.spans as Json[]).map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId ?? "",
        name: s.name,
        kind: s.kind,
        startTimeUnixNano: String(s.startTimeUnixNano),
        endTimeUnixNano: String(s.endTimeUnixNano),
        attributes: jsonAttributes(s.attributes ?? []),
        status: { code: s.status?.code ?? 0, message: s.status?.message ?? "" },
      })),
    })),
  );
}

function jsonAttributes(list: Json[]): Record<string, unknown> {
  return Object.fromEntries(list.map((kv) => [kv.key, jsonValue(kv.value)]));
}

function jsonValue(v: Json): unknown {
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("arrayValue" in v) return (v.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}

// ── Protobuf wire format ──

type Field = { wire: number; value: bigint | Buffer };

function fields(buf: Buffer): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const tag = Number(varint());
    const wire = tag & 7;
    const take = (length: number): Buffer => {
      const part = buf.subarray(at, at + length);
      at += length;
      return part;
    };
    let value: bigint | Buffer;
    if (wire === 0) value = varint();
    else if (wire === 1) value = take(8);
    else if (wire === 5) value = take(4);
    else if (wire === 2) value = take(Number(varint()));
    else throw new Error(`unsupported protobuf wire type ${wire}`);
    out.set(tag >> 3, [...(out.get(tag >> 3) ?? []), { wire, value }]);
  }
  return out;
}

const bytes = (m: Map<number, Field[]>, n: number) =>
  (m.get(n)?.[0]?.value as Buffer | undefined) ?? Buffer.alloc(0);
const all = (m: Map<number, Field[]>, n: number) => (m.get(n) ?? []).map((f) => f.value as Buffer);
const text = (m: Map<number, Field[]>, n: number) => bytes(m, n).toString("utf8");
const num = (m: Map<number, Field[]>, n: number) =>
  Number((m.get(n)?.[0]?.value as bigint | undefined) ?? 0n);
const fixed64 = (m: Map<number, Field[]>, n: number) => {
  const b = bytes(m, n);
  return b.length === 8 ? b.readBigUInt64LE(0).toString() : "0";
};

function fromProtobuf(body: Buffer): Omit<ReceivedExport, "contentType">[] {
  // ExportTraceServiceRequest.resource_spans = 1; ResourceSpans.resource = 1, scope_spans = 2.
  return all(fields(body), 1).flatMap((rsBuf) => {
    const rs = fields(rsBuf);
    const resource = protoAttributes(all(fields(bytes(rs, 1)), 1));
    return all(rs, 2).map((ssBuf) => {
      const ss = fields(ssBuf);
      return { resource, scope: text(fields(bytes(ss, 1)), 1), spans: all(ss, 2).map(protoSpan) };
    });
  });
}

function protoSpan(buf: Buffer): ReceivedSpan {
  const s = fields(buf);
  const status = fields(bytes(s, 15));
  return {
    traceId: bytes(s, 1).toString("hex"),
    spanId: bytes(s, 2).toString("hex"),
    parentSpanId: bytes(s, 4).toString("hex"),
    name: text(s, 5),
    kind: num(s, 6),
    startTimeUnixNano: fixed64(s, 7),
    endTimeUnixNano: fixed64(s, 8),
    attributes: protoAttributes(all(s, 9)),
    status: { code: num(status, 3), message: text(status, 2) },
  };
}

function protoAttributes(list: Buffer[]): Record<string, unknown> {
  return Object.fromEntries(
    list.map((kvBuf) => {
      const kv = fields(kvBuf);
      return [text(kv, 1), protoValue(fields(bytes(kv, 2)))];
    }),
  );
}

function protoValue(v: Map<number, Field[]>): unknown {
  if (v.has(1)) return text(v, 1);
  if (v.has(2)) return num(v, 2) === 1;
  if (v.has(3)) return Number(BigInt.asIntN(64, v.get(3)![0]!.value as bigint));
  if (v.has(4)) return bytes(v, 4).readDoubleLE(0);
  if (v.has(5)) return all(fields(bytes(v, 5)), 1).map((b) => protoValue(fields(b)));
  return undefined;
}
