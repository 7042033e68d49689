import { z } from "zod";
import type { PublishInput, PublishOutcome } from "../actors/types.js";
import type { WireError } from "../errors/wire.js";
import type { StoredEvent } from "../log/event-log.js";
import { isValidId, type ResourceRef } from "../registry/ids.js";

// What nodes say to each other over the bus. Everything that arrives from the
// network is parsed with zod: another node is a peer, not a trusted caller.

const enc = new TextEncoder();
const dec = new TextDecoder();

const idSchema = z.string().refine(isValidId, "invalid id");
const refSchema = z.object({ tenant: idSchema, kind: z.enum(["thread", "canvas"]), id: idSchema });

const eventSchema = z.object({
  seq: z.number().int().positive(),
  dedupeKey: z.string().nullable(),
  bodyHash: z.string(),
  payload: z.record(z.string(), z.unknown()),
  ts: z.number(),
});

/** Fan-out of one resource's committed events, from the node that appended them. */
const eventsSchema = z.object({ n: z.string(), e: z.string(), v: z.array(eventSchema).min(1) });

const inputSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("thread"),
    senderId: z.string(),
    text: z.string(),
    clientMsgId: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
  z.object({
    kind: z.literal("canvas"),
    senderId: z.string(),
    type: z.string(),
    data: z.unknown(),
    clientEventId: z.string().optional(),
  }),
]);

const forwardSchema = z.object({ ref: refSchema, input: inputSchema });

const wireErrorSchema = z.object({ key: z.string(), message: z.string(), details: z.unknown().optional(), retryAfterS: z.number().optional() });
const outcomeSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("created"), seq: z.number().int().min(1), json: z.string() }),
  z.object({ status: z.literal("duplicate"), seq: z.number().int().min(1), json: z.string() }),
  z.object({ status: z.literal("conflict"), seq: z.number() }),
]);
const replySchema = z.discriminatedUnion("t", [
  z.object({ t: z.literal("ok"), outcome: outcomeSchema }),
  z.object({ t: z.literal("err"), error: wireErrorSchema }),
  /** The receiver does not own the resource in its view (or is draining): re-resolve and retry. */
  z.object({ t: z.literal("moved"), reason: z.string() }),
]);

export type ForwardReply = z.infer<typeof replySchema>;

const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));
const parse = <T>(schema: z.ZodType<T>, data: Uint8Array): T | undefined => {
  try {
    const r = schema.safeParse(JSON.parse(dec.decode(data)));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
};

export function encodeEvents(nodeId: string, epoch: string, events: readonly StoredEvent[]): Uint8Array {
  return json({ n: nodeId, e: epoch, v: events });
}

export function decodeEvents(data: Uint8Array): { nodeId: string; epoch: string; events: StoredEvent[] } | undefined {
  const m = parse(eventsSchema, data);
  return m && { nodeId: m.n, epoch: m.e, events: m.v };
}

export const encodeForward = (ref: ResourceRef, input: PublishInput): Uint8Array => json({ ref, input });

export function decodeForward(data: Uint8Array): { ref: ResourceRef; input: PublishInput } | undefined {
  const m = parse(forwardSchema, data);
  // zod's optional fields come back as `T | undefined`; PublishInput allows exactly that.
  return m && { ref: m.ref, input: m.input as PublishInput };
}

export const encodeReply = (r: { t: "ok"; outcome: PublishOutcome } | { t: "err"; error: WireError } | { t: "moved"; reason: string }): Uint8Array => json(r);

export const decodeReply = (data: Uint8Array): ForwardReply | undefined => parse(replySchema, data);

/** Splits a batch so each bus message stays well under NATS's default 1 MiB max payload. */
export function chunkEvents(events: readonly StoredEvent[], maxBytes = 256 * 1024): StoredEvent[][] {
  const out: StoredEvent[][] = [];
  let cur: StoredEvent[] = [];
  let size = 0;
  for (const e of events) {
    const n = JSON.stringify(e.payload).length + 200;
    if (cur.length > 0 && size + n > maxBytes) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
