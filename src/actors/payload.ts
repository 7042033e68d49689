import { createHash, randomBytes } from "node:crypto";
import type { StoredEvent } from "../log/event-log.js";
import type { ResourceRef } from "../registry/ids.js";
import type { PublishInput } from "./types.js";

// What clients receive as an event's `data` (SPEC §7), built once by the actor
// and stored verbatim, so history, live delivery and retries all agree.

export function dedupeKeyOf(input: PublishInput): string | null {
  const key = input.kind === "thread" ? input.clientMsgId : input.clientEventId;
  return key === undefined || key === "" ? null : key;
}

/** The part of a body that must match for a retry to count as the same request. */
export function bodyHashOf(input: PublishInput): string {
  const material = input.kind === "thread" ? JSON.stringify([input.text]) : JSON.stringify([input.type, input.data ?? null]);
  return createHash("sha256").update(material).digest("base64url").slice(0, 22);
}

export function buildEvent(ref: ResourceRef, input: PublishInput, seq: number, now: number): StoredEvent {
  const createdAt = new Date(now).toISOString();
  const dedupeKey = dedupeKeyOf(input);
  const payload: Record<string, unknown> =
    input.kind === "thread"
      ? {
          id: `m_${randomBytes(12).toString("base64url")}`,
          threadId: ref.id,
          seq,
          text: input.text,
          metadata: input.metadata ?? null,
          senderId: input.senderId,
          createdAt,
          clientMsgId: input.clientMsgId ?? null,
        }
      : {
          seq,
          type: input.type,
          data: input.data ?? null,
          clientEventId: input.clientEventId ?? null,
          senderId: input.senderId,
          createdAt,
        };
  return { seq, dedupeKey, bodyHash: bodyHashOf(input), payload, ts: now };
}
