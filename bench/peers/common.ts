// Shared by the peer servers: announce the port to the bench (one stdout
// line), stop on SIGTERM, a frame parser that never throws, and the event
// every system delivers. Peers are deliberately minimal reference servers: a
// structural check per frame and nothing else, so they mark the ceiling a Node
// server can reach. What they deliver is not minimal: the same event objects
// as switchyard (SPEC §5 and §7), so every system's load client reads and
// every kernel copies the same bytes per delivery.
import { randomBytes } from "node:crypto";

export interface InFrame {
  op: string;
  channel: string;
  ref?: unknown;
  data?: unknown;
}

export function parseFrame(text: string): InFrame | undefined {
  const m = parseBody(text);
  if (typeof m !== "object" || m === null) return undefined;
  const f = m as Record<string, unknown>;
  if (typeof f.op !== "string" || typeof f.channel !== "string" || f.channel.length > 256) return undefined;
  return { op: f.op, channel: f.channel, ref: f.ref, data: f.data };
}

// The bench's token subject on switchyard, so sender ids are the same length.
const SENDER_ID = "bench";
// Ids as switchyard makes them: a per-process random prefix and a counter.
const ID_PREFIX = `m_${randomBytes(9).toString("base64url")}`;
let idCounter = 0;

/** Per-channel sequence numbers, as a server assigns them on append. */
export class Sequencer {
  private readonly seqs = new Map<string, number>();
  next(channel: string): number {
    const seq = (this.seqs.get(channel) ?? 0) + 1;
    this.seqs.set(channel, seq);
    return seq;
  }
}

const field = (body: Record<string, unknown>, key: string): unknown => body[key] ?? null;

/**
 * The event's `data` for a publish body, shaped as SPEC §7 says: a thread's
 * Message or a canvas event. The channel's kind prefix picks which.
 */
export function eventData(channel: string, seq: number, body: unknown): Record<string, unknown> {
  const b = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const createdAt = new Date().toISOString();
  if (channel.startsWith("canvas:")) {
    return { seq, type: field(b, "type"), data: field(b, "data"), clientEventId: field(b, "clientEventId"), senderId: SENDER_ID, createdAt };
  }
  return {
    id: `${ID_PREFIX}${(idCounter++).toString(36)}`, threadId: channel.slice(channel.indexOf(":") + 1), seq,
    text: field(b, "text"), metadata: field(b, "metadata"), senderId: SENDER_ID, createdAt, clientMsgId: field(b, "clientMsgId"),
  };
}

/** The SPEC §5 WS event frame, encoded once per event. */
export function wsEventFrame(channel: string, body: unknown, seq: number): string {
  return JSON.stringify({ op: "event", channel, seq, data: eventData(channel, seq, body), ts: Date.now() });
}

/** One SSE event (SPEC §5), encoded once and written to every stream of the channel. */
export function sseEventFrame(channel: string, body: unknown, seq: number): string {
  const event = channel.startsWith("canvas:") ? "canvas" : "message";
  return `id: ${seq}\nevent: ${event}\ndata: ${JSON.stringify(eventData(channel, seq, body))}\n\n`;
}

/** A JSON body, or undefined when it is not JSON. */
export function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function announce(port: number): void {
  process.stdout.write(`LISTENING ${port}\n`);
}

export function onStop(stop: () => void): void {
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.once(sig, () => {
      stop();
      // Open sockets must not keep a stopped peer alive.
      setTimeout(() => process.exit(0), 200).unref();
    });
  }
}
