// Subscriber connections of every protocol, with per-subscription delivery
// accounting and one latency histogram per group (a histogram per socket
// would cost 13 KB × 20,000 connections).
import WebSocket from "ws";
import type { Socket } from "socket.io-client";
import { Histogram } from "../lib/histogram.js";
import { SeqTracker } from "../lib/tracker.js";
import { extractPayload, fillTemplate, nowMs, scanEvent, type Payload, type SubSpec, type SubStats } from "../lib/protocol.js";
import { connectIo } from "./sio.js";
import { openSse } from "./sse-client.js";

export class Group {
  readonly hist = new Histogram();
  readonly trackers: Array<{ channel: string; t: SeqTracker }> = [];
  malformed = 0;
  dropped = 0;

  deliver(trackers: Map<string, SeqTracker>, channel: string, data: unknown, now: number): void {
    this.deliverPayload(trackers, channel, extractPayload(data), now);
  }

  deliverPayload(trackers: Map<string, SeqTracker>, channel: string, p: Payload | undefined, now: number): void {
    const t = trackers.get(channel);
    if (!t || !p) {
      this.malformed++;
      return;
    }
    t.see(p.seq);
    this.hist.record((now - p.ts) * 1000);
  }

  stats(expected: Record<string, number>, reset: boolean, rebase = false): SubStats {
    let deliveries = 0, lost = 0, duplicated = 0, reordered = 0, complete = 0;
    for (const { channel, t } of this.trackers) {
      const exp = expected[channel] ?? 0;
      lost += t.lost(exp);
      if (t.last >= exp && t.lost(exp) === 0) complete++;
      if (reset) {
        const c = t.resetCounters();
        deliveries += c.unique + c.duplicated;
        duplicated += c.duplicated;
        reordered += c.reordered;
      } else {
        deliveries += t.unique + t.duplicated;
        duplicated += t.duplicated;
        reordered += t.reordered;
      }
    }
    const s: SubStats = {
      subscriptions: this.trackers.length, complete, deliveries, lost, duplicated, reordered,
      malformed: this.malformed, dropped: this.dropped, hist: this.hist.toJSON(),
    };
    if (reset) {
      this.hist.reset();
      this.malformed = 0;
    }
    if (rebase) for (const { channel, t } of this.trackers) t.rebase(expected[channel] ?? 0);
    return s;
  }
}

export interface Conn {
  close(): void;
}

/** Opens one subscriber connection and subscribes it to `channels` (none: an idle connection). */
export function openSubscriber(spec: SubSpec, channels: string[], g: Group, timeoutMs: number): Promise<Conn> {
  const trackers = new Map<string, SeqTracker>();
  for (const ch of channels) {
    const t = new SeqTracker();
    trackers.set(ch, t);
    g.trackers.push({ channel: ch, t });
  }
  switch (spec.proto) {
    case "json-ws":
      return openJsonWs(spec.url, channels, trackers, g, timeoutMs);
    case "socketio":
      return openSocketIo(spec.url, channels, trackers, g, timeoutMs);
    case "sse": {
      const ch = channels[0];
      if (ch === undefined || channels.length !== 1) return Promise.reject(new Error("an SSE subscriber takes exactly one channel"));
      return openSse(fillTemplate(spec.url, ch), {
        onEvent: (data) => {
          const now = nowMs();
          let parsed: unknown;
          try {
            parsed = JSON.parse(data);
          } catch {
            g.malformed++;
            return;
          }
          g.deliver(trackers, ch, parsed, now);
        },
        onClose: () => g.dropped++,
      }, timeoutMs);
    }
  }
}

function openJsonWs(url: string, channels: string[], trackers: Map<string, SeqTracker>, g: Group, timeoutMs: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    // Frames come from servers we start on loopback; UTF-8 validation per frame was measurable client CPU.
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs, skipUTF8Validation: true });
    const pending = new Set(channels);
    let open = false;
    let closing = false;
    const timer = setTimeout(() => fail(new Error(`subscribe timed out (${pending.size} pending)`)), timeoutMs);
    const conn: Conn = { close: () => { closing = true; ws.terminate(); } };
    function fail(err: Error): void {
      clearTimeout(timer);
      closing = true;
      ws.terminate();
      if (!open) reject(err);
    }
    function ready(): void {
      if (open || pending.size > 0) return;
      open = true;
      clearTimeout(timer);
      resolve(conn);
    }
    ws.on("open", () => {
      for (const ch of channels) ws.send(JSON.stringify({ op: "subscribe", channel: ch, ref: ch }));
      ready();
    });
    ws.on("message", (buf: Buffer) => {
      const now = nowMs();
      const text = buf.toString("utf8");
      const ev = scanEvent(text);
      if (ev) return g.deliverPayload(trackers, ev.channel, ev.payload, now);
      let m: { op?: string; channel?: string; data?: unknown; code?: string; message?: string };
      try {
        m = JSON.parse(text) as typeof m;
      } catch {
        g.malformed++;
        return;
      }
      if (m.op === "event") g.deliver(trackers, String(m.channel), m.data, now);
      else if (m.op === "subscribed") {
        pending.delete(String(m.channel));
        ready();
      } else if (m.op === "error" && !open) fail(new Error(`subscribe refused: ${m.code} ${m.message}`));
    });
    ws.on("unexpected-response", (_req, res) => fail(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.on("error", (err) => (open ? undefined : fail(err)));
    ws.on("close", (code) => {
      if (!open) fail(new Error(`closed before subscribed: ${code}`));
      else if (!closing) g.dropped++;
    });
  });
}

async function openSocketIo(url: string, channels: string[], trackers: Map<string, SeqTracker>, g: Group, timeoutMs: number): Promise<Conn> {
  const s: Socket = await connectIo(url, { transports: ["websocket"], reconnection: false, forceNew: true, timeout: timeoutMs });
  return new Promise((resolve, reject) => {
    let open = false;
    let closing = false;
    const timer = setTimeout(() => fail(new Error("socket.io subscribe timed out")), timeoutMs);
    const conn: Conn = { close: () => { closing = true; s.disconnect(); } };
    function fail(err: Error): void {
      clearTimeout(timer);
      closing = true;
      s.disconnect();
      if (!open) reject(err);
    }
    s.on("event", (m: { channel: string; data: unknown }) => g.deliver(trackers, m.channel, m.data, nowMs()));
    s.on("connect_error", (err) => fail(err));
    s.on("disconnect", () => {
      if (open && !closing) g.dropped++;
    });
    s.on("connect", () => {
      let left = channels.length;
      const done = (): void => {
        open = true;
        clearTimeout(timer);
        resolve(conn);
      };
      if (left === 0) return done();
      for (const ch of channels) s.emit("subscribe", ch, () => --left === 0 && done());
    });
  });
}
