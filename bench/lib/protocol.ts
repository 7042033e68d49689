// What the orchestrator and its load agents say to each other, and the one
// message shape every system carries: a payload with the send time and a
// per-topic sequence. Specs are plain data because they cross the IPC channel.
import { z } from "zod";

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes on one host. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export interface Payload {
  readonly ts: number;
  readonly seq: number;
}

export const subSpecSchema = z.object({
  /** json-ws: SPEC §5 frames; socketio: emit subscribe/publish, on event; sse: text/event-stream */
  proto: z.enum(["json-ws", "socketio", "sse"]),
  /** ws(s) URL, Socket.IO base URL, or an SSE URL template with {channel} / {id} */
  url: z.string().url(),
});
export type SubSpec = z.infer<typeof subSpecSchema>;

export const pubSpecSchema = z.object({
  via: z.enum(["json-ws", "socketio", "http"]),
  /** ws URL, Socket.IO base URL, or an HTTP POST URL template with {channel} / {id} */
  url: z.string().url(),
  /** thread: {text: JSON(payload), clientMsgId}; canvas: {type, data: payload} — every system takes the same bodies */
  data: z.enum(["thread", "canvas"]),
  headers: z.record(z.string(), z.string()).default({}),
  /** the server answers each publish with an ack (SPEC §5 `ack`, or HTTP 2xx) */
  acks: z.boolean(),
});
export type PubSpec = z.infer<typeof pubSpecSchema>;

export const fillTemplate = (tpl: string, channel: string): string => {
  const id = channel.slice(channel.indexOf(":") + 1);
  return tpl.replaceAll("{channel}", encodeURIComponent(channel)).replaceAll("{id}", encodeURIComponent(id));
};

/** The publish body for a payload, in the target's own data shape. */
export function publishData(kind: PubSpec["data"], p: Payload, ref: string): unknown {
  switch (kind) {
    case "thread":
      return { text: JSON.stringify(p), clientMsgId: ref };
    case "canvas":
      return { type: "bench", data: p, clientEventId: ref };
  }
}

/**
 * Finds the payload inside an event's data whatever the system's shape:
 * a bare payload (peers), a Message with the payload in `text` (threads) or a
 * canvas event with it in `data` (SPEC §7).
 */
export function extractPayload(data: unknown): Payload | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (typeof d.ts === "number" && typeof d.seq === "number") return { ts: d.ts, seq: d.seq };
  if (typeof d.text === "string" && d.text.startsWith("{")) {
    try {
      return extractPayload(JSON.parse(d.text));
    } catch {
      return undefined;
    }
  }
  if (typeof d.data === "object" && d.data !== null) return extractPayload(d.data);
  return undefined;
}

const EVENT_PREFIX = '{"op":"event","channel":"';
// The payload's two keys, adjacent and in the order publishData writes them; the quotes are
// escaped when the payload travels as a string (a switchyard Message's `text`).
const PAYLOAD_RE = /\\?"ts\\?":(-?[0-9.eE+]+),\\?"seq\\?":(\d+)/;

/**
 * An event frame's channel and payload read straight from its text, without
 * parsing the frame (and, for a Message, its `text`) as JSON: at 100k+
 * deliveries/s on one client core the full parses made the load client the
 * bottleneck. Every system's frames (`{"op":"event","channel":…`) take this
 * path alike; anything else returns undefined and is parsed in full.
 */
export function scanEvent(frame: string): { channel: string; payload: Payload } | undefined {
  if (!frame.startsWith(EVENT_PREFIX)) return undefined;
  const end = frame.indexOf('"', EVENT_PREFIX.length);
  const m = end < 0 ? null : PAYLOAD_RE.exec(frame);
  if (!m) return undefined;
  const ts = Number(m[1]);
  const seq = Number(m[2]);
  if (!Number.isFinite(ts) || !Number.isSafeInteger(seq)) return undefined;
  return { channel: frame.slice(EVENT_PREFIX.length, end), payload: { ts, seq } };
}

/** Per-group subscriber figures an agent reports for one measurement window. */
export interface SubStats {
  subscriptions: number;
  /** subscriptions that reached the expected last seq of their channel */
  complete: number;
  deliveries: number;
  lost: number;
  duplicated: number;
  reordered: number;
  /** frames that carried no recognisable payload */
  malformed: number;
  /** connections that closed or errored after they were open */
  dropped: number;
  hist: import("./histogram.js").HistogramJSON;
}

export interface PubStats {
  sent: number;
  acked: number;
  errors: number;
  errorSamples: string[];
  /** last seq sent per channel: what every subscriber of it must reach */
  lastSeq: Record<string, number>;
  ackHist: import("./histogram.js").HistogramJSON;
  elapsedMs: number;
}

export interface OpenResult {
  opened: number;
  failed: number;
  /** connections never started because the open budget ran out */
  notAttempted: number;
  errorSamples: string[];
  elapsedMs: number;
}
