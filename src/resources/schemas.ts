import { z } from "zod";
import { jsonBytes } from "../front/http/body.js";

// Request schemas shared by HTTP and WebSocket publishes, so both refuse the same things.

const METADATA_MAX = 4096;
export const metadataSchema = z
  .record(z.string().max(128), z.unknown())
  .refine((m) => jsonBytes(m) <= METADATA_MAX, `must be at most ${METADATA_MAX} bytes as JSON`);

export const clientKeySchema = z.string().min(1).max(64);

export const createThreadSchema = z.strictObject({
  title: z.string().max(200).optional(),
  metadata: metadataSchema.optional(),
});

// Building a zod schema compiles it (zod 4 JITs a fast path): do it once per limit, not per message.
function memo<S>(build: (max: number) => S): (max: number) => S {
  const cache = new Map<number, S>();
  return (max) => {
    let s = cache.get(max);
    if (s === undefined) cache.set(max, (s = build(max)));
    return s;
  };
}

export const messageSchema = memo((maxBytes: number) =>
  z.strictObject({
    text: z.string().min(1).refine((t) => Buffer.byteLength(t) <= maxBytes, `must be at most ${maxBytes} bytes`),
    clientMsgId: clientKeySchema.optional(),
    metadata: metadataSchema.optional(),
  }),
);

export const canvasEventSchema = memo((maxBytes: number) =>
  z.strictObject({
    type: z.string().min(1).max(64),
    data: z.unknown().refine((d) => d !== undefined, "required").refine((d) => jsonBytes(d) <= maxBytes, `must be at most ${maxBytes} bytes as JSON`),
    clientEventId: clientKeySchema.optional(),
  }),
);

export const historyQuerySchema = z.object({
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/).optional(),
});
