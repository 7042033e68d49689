// Publishers: open-loop at a fixed rate (fan-out scenarios) or closed-loop
// with a bounded in-flight window (durable-ack throughput). Both stop by
// themselves at the duration or the message cap, whichever comes first, and
// then wait a bounded time for outstanding acks.
import http from "node:http";
import WebSocket from "ws";
import type { Socket } from "socket.io-client";
import { connectIo } from "./sio.js";
import { Histogram } from "../lib/histogram.js";
import { fillTemplate, nowMs, publishData, type PubSpec, type PubStats } from "../lib/protocol.js";

export interface PublishPlan {
  pub: PubSpec;
  channels: string[];
  mode: "rate" | "closed";
  /** total messages per second over all channels (rate mode) */
  rate: number;
  conns: number;
  /** in-flight window per connection (closed mode), or cap on unacked HTTP requests (rate mode) */
  inflight: number;
  durationMs: number;
  maxMessages: number;
}

/** Seqs persist across publish calls so a step search continues each topic's sequence. */
const seqs = new Map<string, number>();
const agentId = process.env.BENCH_AGENT_ID ?? "a";
let refCounter = 0;
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });

interface Sender {
  /** sends one publish; `done` runs on its ack, error or (when acks are off) at once */
  send(channel: string, done: (err?: string) => void): void;
  /** graceful: publishes still buffered client-side leave before the close */
  close(): Promise<void>;
  alive(): boolean;
  /** refusals that named no ref (so no publish could be matched to them) */
  orphanErrors: number;
  lastOrphan: string;
}

/** Polls `cond` every 5 ms for at most `ms`. */
async function until(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

async function closeWs(ws: WebSocket): Promise<void> {
  await until(() => ws.bufferedAmount === 0 || ws.readyState !== WebSocket.OPEN, 5_000);
  const closed = new Promise<void>((r) => ws.once("close", () => r()));
  ws.close(1000);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000))]);
  ws.terminate();
}

/**
 * Publisher connections outlive one publish call: a step search reuses them,
 * and Socket.IO ignores events still being dispatched when their socket
 * disconnects, so closing right after the last emit would lose it.
 */
const senderCache = new Map<string, Sender[]>();

async function sendersFor(pub: PubSpec, n: number): Promise<Sender[]> {
  const key = JSON.stringify(pub);
  let list = senderCache.get(key);
  if (!list) senderCache.set(key, (list = []));
  for (let i = list.length - 1; i >= 0; i--) if (!list[i]!.alive()) list.splice(i, 1);
  while (list.length < n) list.push(await openSender(pub));
  return list.slice(0, n);
}

export async function closeSenders(): Promise<void> {
  const all = [...senderCache.values()].flat();
  senderCache.clear();
  seqs.clear(); // a new target: its channels start from seq 1
  await Promise.all(all.map((s) => s.close()));
}

export async function runPublish(plan: PublishPlan): Promise<PubStats> {
  const stats: PubStats = { sent: 0, acked: 0, errors: 0, errorSamples: [], lastSeq: {}, ackHist: { count: 0, sum: 0, min: 0, max: 0, buckets: [] }, elapsedMs: 0 };
  const ackHist = new Histogram();
  if (plan.mode === "closed" && !plan.pub.acks) throw new Error("closed-loop publishing needs a system that acknowledges publishes");
  const senders = await sendersFor(plan.pub, Math.max(1, plan.conns));
  let outstanding = 0;
  let rr = 0;
  const t0 = nowMs();
  // In rate mode a channel always goes through the same connection, so its
  // seqs leave in order and any reordering seen is the server's.
  const sendOne = (fixed: Sender | undefined, onDone?: (failed: boolean) => void): void => {
    const ci = rr++ % plan.channels.length;
    const ch = plan.channels[ci]!;
    const sender = fixed ?? senders[ci % senders.length]!;
    const seq = (seqs.get(ch) ?? 0) + 1;
    seqs.set(ch, seq);
    stats.lastSeq[ch] = seq;
    stats.sent++;
    outstanding++;
    const sentAt = nowMs();
    sender.send(ch, (err) => {
      outstanding--;
      if (err === undefined) {
        stats.acked++;
        if (plan.pub.acks) ackHist.record((nowMs() - sentAt) * 1000);
      }
      else {
        stats.errors++;
        if (stats.errorSamples.length < 5) stats.errorSamples.push(err);
      }
      onDone?.(err !== undefined);
    });
  };
  const deadline = t0 + plan.durationMs;
  if (plan.mode === "rate") {
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = nowMs();
        const due = Math.min(plan.maxMessages, Math.floor((plan.rate * (now - t0)) / 1000));
        // Open loop: a system that cannot keep up shows it as latency, not as a slower sender.
        while (stats.sent < due && (!plan.pub.acks || plan.pub.via !== "http" || outstanding < plan.inflight)) {
          sendOne(undefined);
        }
        if (now >= deadline || stats.sent >= plan.maxMessages) resolve();
        else setTimeout(tick, 2);
      };
      tick();
    });
  } else {
    await new Promise<void>((resolve) => {
      let live = 0;
      // The window ends at the deadline even if some publish is never answered;
      // the bounded ack wait below then counts those as errors.
      const timer = setTimeout(resolve, plan.durationMs + 50);
      const loop = (s: Sender): void => {
        if (nowMs() >= deadline || stats.sent >= plan.maxMessages) {
          if (--live === 0) {
            clearTimeout(timer);
            resolve();
          }
          return;
        }
        // A refused publish answers at once; pause so a dead sender cannot spin the loop.
        sendOne(s, (failed) => (failed ? setTimeout(() => loop(s), 10) : loop(s)));
      };
      for (const s of senders) for (let k = 0; k < plan.inflight; k++) {
        live++;
        loop(s);
      }
    });
  }
  stats.elapsedMs = nowMs() - t0;
  // Bounded wait for the tail of acks (rate mode, or senders without acks resolve at once).
  // Refusals without a ref cannot be matched, so stop waiting once they account for the rest.
  const orphans0 = senders.reduce((n, s) => n + s.orphanErrors, 0);
  const orphans = (): number => senders.reduce((n, s) => n + s.orphanErrors, 0) - orphans0;
  const ackDeadline = nowMs() + 10_000;
  while (outstanding > orphans() && nowMs() < ackDeadline) await new Promise((r) => setTimeout(r, 10));
  if (outstanding > 0) {
    stats.errors += outstanding;
    const o = orphans();
    const last = senders.find((s) => s.lastOrphan)?.lastOrphan ?? "";
    stats.errorSamples.push(o > 0 ? `${outstanding} publishes unanswered; ${o} error frames without a ref (${last})` : `${outstanding} publishes never acknowledged within 10 s`);
  }
  stats.ackHist = ackHist.toJSON();
  return stats;
}

function openSender(pub: PubSpec): Promise<Sender> {
  switch (pub.via) {
    case "json-ws":
      return openWsSender(pub);
    case "socketio":
      return openSocketIoSender(pub);
    case "http":
      return Promise.resolve(httpSender(pub));
  }
}

function openWsSender(pub: PubSpec): Promise<Sender> {
  return new Promise((resolve, reject) => {
    const orphan = { orphanErrors: 0, lastOrphan: "" };
    const ws = new WebSocket(pub.url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
    const waiting = new Map<string, (err?: string) => void>();
    ws.on("unexpected-response", (_q, res) => reject(new Error(`publisher upgrade refused: HTTP ${res.statusCode}`)));
    ws.on("error", reject);
    ws.on("close", (code) => {
      for (const done of waiting.values()) done(`connection closed (${code})`);
      waiting.clear();
    });
    ws.on("message", (buf: Buffer) => {
      let m: { op?: string; ref?: string | null; code?: string; message?: string };
      try {
        m = JSON.parse(buf.toString("utf8")) as typeof m;
      } catch {
        return;
      }
      const done = m.ref === undefined || m.ref === null ? undefined : waiting.get(m.ref);
      if (!done && m.op === "error") {
        orphan.orphanErrors++;
        orphan.lastOrphan = `${m.code}: ${m.message}`;
      }
      if (!done || (m.op !== "ack" && m.op !== "error")) return;
      waiting.delete(m.ref!);
      if (m.op === "ack") done();
      else done(`${m.code}: ${m.message}`);
    });
    ws.on("open", () =>
      resolve({
        send(channel, done) {
          if (ws.readyState !== WebSocket.OPEN) return done("publisher connection closed");
          const ref = `${agentId}-${++refCounter}`;
          const t = nowMs();
          const seq = seqs.get(channel)!;
          if (pub.acks) waiting.set(ref, done);
          ws.send(JSON.stringify({ op: "publish", channel, ref, data: publishData(pub.data, { ts: t, seq }, ref) }));
          if (!pub.acks) done();
        },
        close: () => closeWs(ws),
        alive: () => ws.readyState === WebSocket.OPEN,
        get orphanErrors() {
          return orphan.orphanErrors;
        },
        get lastOrphan() {
          return orphan.lastOrphan;
        },
      }),
    );
  });
}

async function openSocketIoSender(pub: PubSpec): Promise<Sender> {
  const s: Socket = await connectIo(pub.url, { transports: ["websocket"], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    s.on("connect_error", reject);
    s.on("connect", () =>
      resolve({
        send(channel, done) {
          if (!s.connected) return done("publisher connection closed");
          s.emit("publish", { channel, data: publishData(pub.data, { ts: nowMs(), seq: seqs.get(channel)! }, "") });
          done();
        },
        async close() {
          // Emits queue in engine.io's write buffer; disconnecting before it empties would drop them.
          const engine = s.io.engine;
          await until(() => engine.writeBuffer.length === 0 && engine.transport.writable, 5_000);
          s.disconnect();
        },
        alive: () => s.connected,
        orphanErrors: 0,
        lastOrphan: "",
      }),
    );
  });
}

function httpSender(pub: PubSpec): Sender {
  return {
    send(channel, done) {
      const ref = `${agentId}-${++refCounter}`;
      const t = nowMs();
      const body = JSON.stringify(publishData(pub.data, { ts: t, seq: seqs.get(channel)! }, ref));
      const req = http.request(fillTemplate(pub.url, channel), {
        method: "POST", agent: httpAgent,
        headers: { ...pub.headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      });
      req.setTimeout(15_000, () => req.destroy(new Error("publish timed out")));
      req.on("error", (err) => done(err.message));
      req.on("response", (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text = (text + c).slice(0, 300)));
        res.on("end", () => {
          if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) done();
          else done(`HTTP ${res.statusCode}: ${text}`);
        });
      });
      req.end(body);
    },
    close: () => Promise.resolve(),
    alive: () => true,
    orphanErrors: 0,
    lastOrphan: "",
  };
}
