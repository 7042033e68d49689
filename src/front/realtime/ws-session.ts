import type { Principal } from "../../auth/principal.js";
import type { Config } from "../../config/index.js";
import { AppError, CLOSE, toAppError } from "../../errors/index.js";
import type { StoredEvent } from "../../log/event-log.js";
import { parseChannel, type ResourceRef } from "../../registry/ids.js";
import type { Resources } from "../../resources/resources.js";
import { canvasEventSchema, messageSchema } from "../../resources/schemas.js";
import { validate } from "../http/body.js";
import type { Admit } from "../http/routes/admit.js";
import type { UwsWebSocket } from "../uws.js";
import type { Channel, Sink } from "./channel.js";
import { clientFrameSchema, errorFrame, frame, type ClientFrame } from "./frames.js";
import type { Hub } from "./hub.js";

export interface WsUserData {
  readonly principal: Principal;
  readonly tenantId: string;
  session?: WsSession;
}

export interface SessionDeps {
  readonly config: Config;
  readonly resources: Resources;
  readonly hub: Hub;
  readonly admit: Admit;
  /** Seconds from a publish frame to its ack (acks only: refusals are counted by the GateChain). */
  readonly observePublish: (seconds: number) => void;
}

/** The largest client frame: the largest payload a publish may carry plus room for the envelope. */
export const maxFrameBytes = (config: Config): number => Math.max(config.MAX_EVENT_BYTES, config.MAX_MESSAGE_BYTES) + 16 * 1024;

/** One subscription of one socket: the hub's Sink for it. */
class WsSubscription implements Sink {
  live = false;
  constructor(private readonly session: WsSession, readonly ref: ResourceRef) {}
  get closed(): boolean {
    return this.session.closed;
  }
  deliver(ch: Channel, e: StoredEvent): void {
    this.session.send(ch.wsFrame(e));
  }
  goLive(ch: Channel): void {
    if (this.closed) return;
    // Frames queued for this socket (subscribed, catch-up) must leave before the topic's live ones.
    this.session.flush();
    this.live = true;
    ch.wsLive.add(this.session);
    this.session.ws.subscribe(ch.topic);
  }
  leave(ch: Channel): void {
    if (!this.live) return;
    this.live = false;
    ch.wsLive.delete(this.session);
    if (!this.closed) this.session.ws.unsubscribe(ch.topic);
  }
  abort(ch: Channel, code: "not_ready"): void {
    this.session.dropSubscription(ch.name, code);
  }
}

/**
 * Sessions with frames queued during this event-loop iteration. Frames sent
 * from promise continuations (acks after an actor reply, catch-up pages) are
 * outside any uWS callback, so uWS would write each with its own syscall;
 * queued and sent corked once per iteration, a socket's acks of one actor
 * reply batch leave in one write.
 */
const queuedSessions = new Set<WsSession>();
const flushQueued = (): void => {
  for (const s of queuedSessions) s.flush();
  queuedSessions.clear();
};

/**
 * The protocol state of one WebSocket: its subscriptions, its rate window and
 * its token expiry. Frames are handled one at a time in arrival order per
 * connection for subscribe/unsubscribe; publishes run concurrently and each
 * gets its ack (or error) with its own `ref`.
 */
export class WsSession {
  closed = false;
  private readonly subs = new Map<string, WsSubscription>();
  private windowStart = Date.now();
  private windowCount = 0;
  /** Subscribes of new channels still being authorised (see subscribe). */
  private reserved = 0;
  private queued: string[] | undefined;
  private readonly expiryTimer: NodeJS.Timeout;

  constructor(readonly ws: UwsWebSocket<WsUserData>, private readonly deps: SessionDeps, private readonly user: WsUserData) {
    const ms = user.principal.exp * 1000 - Date.now();
    // A token that expires while connected closes the socket with 4401 (reconnect with a fresh token).
    this.expiryTimer = setTimeout(() => this.close(CLOSE.TOKEN_EXPIRED), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
  }

  get subscriptionCount(): number {
    return this.subs.size;
  }

  /** Queues a frame; it is written, in order, at the end of this loop iteration (see queuedSessions). */
  send(data: string): void {
    if (this.closed) return;
    if (this.queued === undefined) {
      this.queued = [];
      if (queuedSessions.size === 0) setImmediate(flushQueued);
      queuedSessions.add(this);
    }
    this.queued.push(data);
  }

  /** Writes the queued frames now, in one corked write. */
  flush(): void {
    const frames = this.queued;
    if (frames === undefined) return;
    this.queued = undefined;
    queuedSessions.delete(this);
    if (this.closed) return;
    this.ws.cork(() => {
      for (const f of frames) this.ws.send(f);
    });
    this.checkBackpressure();
  }

  /** Over the send-buffer limit: close with 4408 instead of ever dropping a frame silently. Returns the bytes buffered. */
  checkBackpressure(): number {
    if (this.closed) return 0;
    const buffered = this.ws.getBufferedAmount();
    if (buffered <= this.deps.config.WS_MAX_BACKPRESSURE_BYTES) return buffered;
    this.close(CLOSE.SLOW_CONSUMER);
    return 0;
  }

  close(c: { code: number; reason: string }): void {
    if (this.closed) return;
    this.flush();
    if (this.closed) return;
    this.ws.end(c.code, c.reason);
  }

  /** Called from uWS `close`: the socket is gone; release every subscription. */
  onClosed(): void {
    this.closed = true;
    clearTimeout(this.expiryTimer);
    for (const sub of this.subs.values()) this.deps.hub.unsubscribe(sub.ref, sub);
    this.subs.clear();
  }

  dropSubscription(channel: string, code: "not_ready"): void {
    const sub = this.subs.get(channel);
    if (!sub) return;
    this.subs.delete(channel);
    this.deps.hub.unsubscribe(sub.ref, sub);
    this.send(errorFrame(code, "Subscription ended; resubscribe with since", undefined, channel));
  }

  onMessage(message: ArrayBuffer, isBinary: boolean): void {
    if (message.byteLength > maxFrameBytes(this.deps.config)) return this.close(CLOSE.TOO_LARGE);
    if (!this.admitFrame(message)) return;
    if (isBinary) return this.send(errorFrame("invalid_request", "Binary frames are not supported; send JSON text"));
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(message).toString("utf8"));
    } catch {
      return this.send(errorFrame("invalid_json", "The frame is not valid JSON"));
    }
    if (this.refusedPublish(parsed)) return;
    const r = clientFrameSchema.safeParse(parsed);
    if (!r.success) {
      const ref = typeof (parsed as { ref?: unknown })?.ref === "string" ? ((parsed as { ref: string }).ref) : undefined;
      return this.send(errorFrame("invalid_request", r.error.issues.map((i) => `${i.path.join(".") || "frame"}: ${i.message}`).join("; "), ref));
    }
    void this.dispatch(r.data).catch((e: unknown) => {
      const err = toAppError(e);
      this.send(errorFrame(err.code, err.message, r.data.ref, "channel" in r.data ? r.data.channel : undefined));
    });
  }

  /**
   * A publish of a tenant the GateChain is already refusing (e.g. a flood past
   * its rate) is answered before validation, authorisation or any await: a
   * flood must cost the node as little as possible, for its neighbours' sake.
   */
  private refusedPublish(parsed: unknown): boolean {
    const f = parsed as { op?: unknown; ref?: unknown; channel?: unknown } | null;
    if (f?.op !== "publish" || !this.deps.admit.precheck) return false;
    const err = this.deps.admit.precheck(this.user.tenantId, "ws.publish");
    if (!err) return false;
    const ref = typeof f.ref === "string" && f.ref.length <= 128 ? f.ref : undefined;
    const channel = typeof f.channel === "string" && f.channel.length <= 140 ? f.channel : undefined;
    this.send(errorFrame(err.code, err.message, ref, channel));
    return true;
  }

  /** Per-connection rate: over the limit a frame is refused; far over it, the socket closes with 4429. */
  private admitFrame(message: ArrayBuffer): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    this.windowCount++;
    const limit = this.deps.config.WS_MAX_MESSAGES_PER_S;
    if (this.windowCount <= limit) return true;
    if (this.windowCount > limit * 3) this.close(CLOSE.RATE_LIMITED);
    else this.send(errorFrame("rate_limited", `More than ${limit} frames per second`, refOf(message)));
    return false;
  }

  private async dispatch(f: ClientFrame): Promise<void> {
    switch (f.op) {
      case "ping":
        return this.send(frame({ op: "pong", ref: f.ref ?? null }));
      case "subscribe":
        return this.subscribe(f);
      case "unsubscribe": {
        const sub = this.subs.get(f.channel);
        if (sub) {
          this.subs.delete(f.channel);
          this.deps.hub.unsubscribe(sub.ref, sub);
        }
        return this.send(frame({ op: "unsubscribed", channel: f.channel, ref: f.ref ?? null }));
      }
      case "publish":
        return this.publish(f);
    }
  }

  private resolveChannel(channel: string): { kind: "thread" | "canvas"; id: string } {
    const c = parseChannel(channel);
    if (!c) throw new AppError("ERR_INVALID_REQUEST", { message: "channel must be thread:<id> or canvas:<id> with id [A-Za-z0-9_-]{1,128}" });
    return c;
  }

  private async subscribe(f: Extract<ClientFrame, { op: "subscribe" }>): Promise<void> {
    const c = this.resolveChannel(f.channel);
    const max = this.deps.config.MAX_SUBSCRIPTIONS_PER_CONNECTION;
    const isNew = !this.subs.has(f.channel);
    // Subscribes still being authorised hold a slot, so a burst past the limit is refused before it
    // registers canvases it will never hold.
    if (isNew && this.subs.size + this.reserved >= max) {
      throw new AppError("ERR_LIMIT_EXCEEDED", { message: `At most ${max} subscriptions per connection` });
    }
    if (isNew) this.reserved++;
    let ref: ResourceRef;
    try {
      // A resume is authorised exactly like a first subscribe.
      ref = await this.deps.resources.authorize(this.user.tenantId, c.kind, c.id, this.user.principal.sub);
    } finally {
      if (isNew) this.reserved--;
    }
    if (this.closed) return;
    // Read again after the await: a concurrent subscribe to the same channel may have landed meanwhile.
    const existing = this.subs.get(f.channel);
    if (existing) {
      // Subscribing again to a held channel is not a new subscription: drop the old one and resume from `since`.
      this.subs.delete(f.channel);
      this.deps.hub.unsubscribe(existing.ref, existing);
    }
    if (this.subs.size >= max) throw new AppError("ERR_LIMIT_EXCEEDED", { message: `At most ${max} subscriptions per connection` });
    const sub = new WsSubscription(this, ref);
    this.subs.set(f.channel, sub);
    try {
      await this.deps.hub.subscribe(ref, sub, f.since, f.epoch, (r) =>
        this.send(frame({ op: "subscribed", channel: f.channel, ref: f.ref ?? null, seq: r.seq, epoch: r.epoch, recovered: r.recovered })),
      );
    } catch (e) {
      if (this.subs.get(f.channel) === sub) this.subs.delete(f.channel);
      throw e;
    }
  }

  private async publish(f: Extract<ClientFrame, { op: "publish" }>): Promise<void> {
    const started = performance.now();
    const c = this.resolveChannel(f.channel);
    const { config, resources, admit } = this.deps;
    const sender = this.user.principal.sub;
    const input =
      c.kind === "thread"
        ? { kind: "thread" as const, senderId: sender, ...validate(messageSchema(config.MAX_MESSAGE_BYTES), f.data) }
        : { kind: "canvas" as const, senderId: sender, ...validate(canvasEventSchema(config.MAX_EVENT_BYTES), f.data) };
    const ref = resources.authorizeCached(this.user.tenantId, c.kind, c.id) ?? (await resources.authorize(this.user.tenantId, c.kind, c.id, sender));
    const admitting = admit(this.user.tenantId, "ws.publish");
    if (admitting) await admitting;
    const { seq } = await resources.publish(ref, input);
    this.send(frame({ op: "ack", ref: f.ref ?? null, channel: f.channel, seq }));
    this.deps.observePublish((performance.now() - started) / 1000);
  }
}

/** The `ref` of a refused frame, if it has one, so the client can tell which request was refused. */
function refOf(message: ArrayBuffer): string | undefined {
  try {
    const ref = (JSON.parse(Buffer.from(message).toString("utf8")) as { ref?: unknown })?.ref;
    return typeof ref === "string" && ref.length <= 128 ? ref : undefined;
  } catch {
    return undefined;
  }
}
