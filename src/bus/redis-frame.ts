import { z } from "zod";

// Wire frame for request-reply over Redis pub/sub: a 4-byte magic, a 2-byte
// header length, a small JSON header (correlation id, reply channel), then the
// caller's bytes untouched. Frames from the network are parsed with zod: a
// stray publish on a respond channel is ignored, never trusted.

const MAGIC = Buffer.from("SYB1");

const headSchema = z.discriminatedUnion("t", [
  z.object({ t: z.literal("req"), id: z.string().min(1).max(64), reply: z.string().min(1).max(300) }),
  z.object({ t: z.literal("res"), id: z.string().min(1).max(64) }),
  z.object({ t: z.literal("err"), id: z.string().min(1).max(64), message: z.string().max(600) }),
]);

export type FrameHead = z.infer<typeof headSchema>;

export function encodeFrame(head: FrameHead, body: Uint8Array): Buffer {
  const h = Buffer.from(JSON.stringify(head));
  const len = Buffer.alloc(2);
  len.writeUInt16BE(h.length);
  return Buffer.concat([MAGIC, len, h, body]);
}

export function decodeFrame(frame: Uint8Array): { head: FrameHead; body: Uint8Array } | undefined {
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (buf.length < 6 || !buf.subarray(0, 4).equals(MAGIC)) return undefined;
  const n = buf.readUInt16BE(4);
  if (buf.length < 6 + n) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(buf.subarray(6, 6 + n).toString("utf8"));
  } catch {
    return undefined;
  }
  const parsed = headSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  return { head: parsed.data, body: new Uint8Array(buf.buffer, buf.byteOffset + 6 + n, buf.length - 6 - n) };
}
