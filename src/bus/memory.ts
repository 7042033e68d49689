import type { Bus, BusStatus, MessageHandler, RequestHandler, Subscription } from "./bus.js";
import { BusClosedError, BusNoRespondersError, BusRemoteError, BusTimeoutError } from "./errors.js";
import { StatusListeners, assertSubject, subjectMatches } from "./shared.js";

interface Sub {
  readonly pattern: string;
  readonly owner: MemoryBus;
  active: boolean;
  readonly onMessage?: MessageHandler;
  readonly onRequest?: RequestHandler;
}

/** The shared "server": MemoryBus instances on one hub see each other, like nodes on one NATS. */
export class MemoryBusHub {
  readonly subs = new Set<Sub>();
  matching(subject: string, kind: "message" | "request"): Sub[] {
    return [...this.subs].filter((s) => s.active && subjectMatches(s.pattern, subject) && (kind === "message" ? s.onMessage : s.onRequest));
  }
}

/**
 * In-process Bus. Delivery is asynchronous (a microtask), in publish order, to the
 * subscriptions that existed at publish time — the same shape as a network bus,
 * so code tested on it does not come to rely on re-entrant delivery.
 */
export class MemoryBus implements Bus {
  readonly kind = "memory" as const;
  private closed = false;
  private readonly statusListeners = new StatusListeners();

  constructor(private readonly hub: MemoryBusHub = new MemoryBusHub()) {}

  publish(subject: string, data: Uint8Array): void {
    this.assertOpen();
    assertSubject(subject, false);
    const targets = this.hub.matching(subject, "message");
    // Copy once: a publisher reusing its buffer must not change what subscribers see.
    const copy = Uint8Array.from(data);
    queueMicrotask(() => {
      for (const s of targets) if (s.active) s.onMessage?.(copy, subject);
    });
  }

  subscribe(subject: string, handler: MessageHandler): Subscription {
    return this.add({ pattern: subject, owner: this, active: true, onMessage: handler });
  }

  respond(subject: string, handler: RequestHandler): Subscription {
    return this.add({ pattern: subject, owner: this, active: true, onRequest: handler });
  }

  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    this.assertOpen();
    assertSubject(subject, false);
    const targets = this.hub.matching(subject, "request");
    if (targets.length === 0) return Promise.reject(new BusNoRespondersError(subject));
    const copy = Uint8Array.from(data);
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => finish(() => reject(new BusTimeoutError(subject, timeoutMs))), timeoutMs);
      const finish = (f: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        f();
      };
      // Like NATS, every matching responder gets the request; the first answer wins.
      for (const s of targets) {
        queueMicrotask(() => {
          if (!s.active || done) return;
          Promise.resolve()
            .then(() => s.onRequest?.(copy, subject) ?? new Uint8Array())
            .then(
              (reply) => finish(() => resolve(Uint8Array.from(reply))),
              (e: unknown) => finish(() => reject(new BusRemoteError(subject, e instanceof Error ? e.message : String(e)))),
            );
        });
      }
    });
  }

  status(): BusStatus {
    return this.closed ? "closed" : "connected";
  }

  onStatus(listener: (status: BusStatus) => void): () => void {
    return this.statusListeners.add(listener);
  }

  async flush(): Promise<void> {
    this.assertOpen();
    // Let queued deliveries run first, as a server round trip would.
    await new Promise<void>((r) => setImmediate(r));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.hub.subs) if (s.owner === this) s.active = false;
    for (const s of [...this.hub.subs]) if (s.owner === this) this.hub.subs.delete(s);
    this.statusListeners.emit("closed");
  }

  private add(sub: Sub): Subscription {
    this.assertOpen();
    assertSubject(sub.pattern, true);
    this.hub.subs.add(sub);
    return {
      unsubscribe: () => {
        sub.active = false;
        this.hub.subs.delete(sub);
      },
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }
}
