import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { Bus, BusStatus, MessageHandler, RequestHandler, Subscription } from "./bus.js";
import { BusClosedError, BusNoRespondersError, BusRemoteError, BusTimeoutError, BusUnavailableError } from "./errors.js";
import { decodeFrame, encodeFrame } from "./redis-frame.js";
import { StatusListeners, assertSubject, subjectMatches } from "./shared.js";

// Bus over Redis pub/sub (CHAT_BUS_BACKEND=redis). Guarantees, compared with NATS:
// - at-most-once fan-out, like core NATS; nothing is replayed after a Redis
//   restart or a dropped subscriber connection (Redis keeps no backlog);
// - publishes made while the link is down are dropped at once (no offline
//   queue), where the NATS client buffers up to 8 MiB and sends them on reconnect;
// - request-reply is emulated: the request carries a correlation id and this
//   connection's inbox channel; PUBLISH's receiver count gives "no responders".
// There is no durable log on Redis: a redis-backed cluster keeps its event log
// elsewhere (the lead decides); this module only moves messages.

interface Entry {
  readonly pattern: string;
  readonly onMessage?: MessageHandler;
  readonly onRequest?: RequestHandler;
}

interface Pending {
  resolve(data: Uint8Array): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
}

export interface RedisBusOptions {
  /** This connection's reply channel, from subjects(prefix).inbox(id). */
  readonly inboxSubject: string;
}

export class RedisBus implements Bus {
  readonly kind = "redis" as const;
  private readonly entries = new Map<string, Set<Entry>>();
  private readonly pending = new Map<string, Pending>();
  private readonly subscribing = new Set<Promise<unknown>>();
  private readonly statusListeners = new StatusListeners();
  private current: BusStatus;
  private closed = false;
  private nextId = 0;
  private readonly idPrefix = randomBytes(6).toString("base64url");

  /** Takes two clients (injectable): commands on `pub`, subscriber mode on `sub`. Both must be connected. */
  constructor(private readonly pub: Redis, private readonly sub: Redis, private readonly opts: RedisBusOptions) {
    sub.on("messageBuffer", (channel: Buffer, message: Buffer) => this.dispatch(channel.toString(), null, message));
    sub.on("pmessageBuffer", (pattern: Buffer, channel: Buffer, message: Buffer) => this.dispatch(channel.toString(), pattern.toString(), message));
    for (const c of [pub, sub]) for (const ev of ["ready", "close", "reconnecting", "end"]) c.on(ev, () => this.refreshStatus());
    this.current = this.computeStatus();
    this.track(sub.subscribe(opts.inboxSubject));
  }

  static async connect(url: string, opts: RedisBusOptions): Promise<RedisBus> {
    // Retry forever once up; but a first connect that fails must fail start-up, not retry in the background.
    let up = false;
    const common = { lazyConnect: true, retryStrategy: () => (up ? 250 : null), connectTimeout: 5_000, disconnectTimeout: 200 };
    // No offline queue for commands: a publish while Redis is down fails now instead of arriving late.
    const pub = new Redis(url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    const sub = new Redis(url, { ...common, autoResubscribe: true });
    let lastError: unknown;
    const onError = (e: unknown): void => {
      lastError = e; // reconnects report through status(); this keeps ioredis from logging "unhandled error"
    };
    pub.on("error", onError);
    sub.on("error", onError);
    try {
      await Promise.all([pub.connect(), sub.connect()]);
    } catch (e) {
      pub.disconnect();
      sub.disconnect();
      throw new BusUnavailableError(`cannot connect to Redis at ${url.replace(/\/\/[^@]*@/, "//***@")}`, lastError ?? e);
    }
    up = true;
    const bus = new RedisBus(pub, sub, opts);
    await bus.flush();
    return bus;
  }

  publish(subject: string, data: Uint8Array): void {
    this.assertOpen();
    assertSubject(subject, false);
    // At-most-once: a refused publish (link down) is dropped, as documented above.
    this.pub.publish(subject, Buffer.from(data.buffer, data.byteOffset, data.byteLength)).catch(() => undefined);
  }

  subscribe(subject: string, handler: MessageHandler): Subscription {
    return this.add({ pattern: subject, onMessage: handler });
  }

  respond(subject: string, handler: RequestHandler): Subscription {
    return this.add({ pattern: subject, onRequest: handler });
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    this.assertOpen();
    assertSubject(subject, false);
    const id = `${this.idPrefix}${(this.nextId++).toString(36)}`;
    const reply = new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new BusTimeoutError(subject, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    let receivers: number;
    try {
      receivers = await this.pub.publish(subject, encodeFrame({ t: "req", id, reply: this.opts.inboxSubject }, data));
    } catch (e) {
      this.settle(id, (p) => p.reject(new BusUnavailableError(`Redis publish on ${subject} failed`, e)));
      return reply;
    }
    if (receivers === 0) this.settle(id, (p) => p.reject(new BusNoRespondersError(subject)));
    return reply;
  }

  status(): BusStatus {
    return this.current;
  }

  onStatus(listener: (status: BusStatus) => void): () => void {
    return this.statusListeners.add(listener);
  }

  async flush(): Promise<void> {
    this.assertOpen();
    try {
      await Promise.all([...this.subscribing]);
      await Promise.all([this.pub.ping(), this.sub.ping()]);
    } catch (e) {
      throw new BusUnavailableError("Redis flush failed", e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.settle(id, (p) => p.reject(new BusClosedError()));
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
    this.pub.disconnect();
    this.sub.disconnect();
    this.refreshStatus();
  }

  private add(entry: Entry): Subscription {
    this.assertOpen();
    assertSubject(entry.pattern, true);
    const wild = entry.pattern.includes("*") || entry.pattern.includes(">");
    // Redis globs: `*` crosses dots, so a NATS `*`/`>` maps to `*` and dispatch re-checks the exact match.
    const channel = wild ? entry.pattern.replace(/[*>]/g, "*") : entry.pattern;
    const key = `${wild ? "p" : "c"}:${channel}`;
    let set = this.entries.get(key);
    if (!set) {
      set = new Set();
      this.entries.set(key, set);
      this.track(wild ? this.sub.psubscribe(channel) : this.sub.subscribe(channel));
    }
    set.add(entry);
    const owned = set;
    return {
      unsubscribe: () => {
        if (!owned.delete(entry) || owned.size > 0 || this.entries.get(key) !== owned) return;
        this.entries.delete(key);
        if (!this.closed) this.track(wild ? this.sub.punsubscribe(channel) : this.sub.unsubscribe(channel));
      },
    };
  }

  private dispatch(channel: string, pattern: string | null, message: Buffer): void {
    if (pattern === null && channel === this.opts.inboxSubject) return this.onReply(message);
    const set = this.entries.get(pattern === null ? `c:${channel}` : `p:${pattern}`);
    if (!set) return;
    const data = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    for (const e of [...set]) {
      if (!set.has(e) || !subjectMatches(e.pattern, channel)) continue;
      if (e.onMessage) e.onMessage(data, channel);
      else if (e.onRequest) void this.answer(e.onRequest, channel, data);
    }
  }

  private async answer(handler: RequestHandler, subject: string, frame: Uint8Array): Promise<void> {
    const req = decodeFrame(frame);
    // A plain publish on a respond subject has no reply address: nothing to answer.
    if (!req || req.head.t !== "req") return;
    const { id, reply } = req.head;
    let out: Buffer;
    try {
      out = encodeFrame({ t: "res", id }, await handler(req.body, subject));
    } catch (e) {
      out = encodeFrame({ t: "err", id, message: (e instanceof Error ? e.message : String(e)).slice(0, 512) }, new Uint8Array());
    }
    // A lost reply (link down, requester gone) becomes the requester's timeout.
    if (!this.closed) await this.pub.publish(reply, out).catch(() => undefined);
  }

  private onReply(message: Buffer): void {
    const res = decodeFrame(message);
    if (!res || res.head.t === "req") return;
    const head = res.head;
    this.settle(head.id, (p) => (head.t === "err" ? p.reject(new BusRemoteError("reply", head.message)) : p.resolve(res.body)));
  }

  private settle(id: string, f: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    f(p);
  }

  private track(op: Promise<unknown>): void {
    const tracked = op.catch(() => undefined).finally(() => this.subscribing.delete(tracked));
    this.subscribing.add(tracked);
  }

  private computeStatus(): BusStatus {
    if (this.closed) return "closed";
    return this.pub.status === "ready" && this.sub.status === "ready" ? "connected" : "reconnecting";
  }

  private refreshStatus(): void {
    const next = this.computeStatus();
    if (next === this.current || this.current === "closed") return;
    this.current = next;
    this.statusListeners.emit(next);
  }

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }
}
