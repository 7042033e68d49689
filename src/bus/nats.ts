import {
  connect,
  headers,
  ClosedConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
  type Msg,
  type NatsConnection,
  type Subscription as NatsSubscription,
} from "@nats-io/transport-node";
import { AppError } from "../errors/index.js";
import type { Bus, BusStatus, MessageHandler, RequestHandler, Subscription } from "./bus.js";
import { BusClosedError, BusNoRespondersError, BusRemoteError, BusTimeoutError, BusUnavailableError } from "./errors.js";
import { StatusListeners, assertSubject } from "./shared.js";

// The ONLY module that imports the NATS transport. The JetStream log, the KV
// registry and membership receive the connection through `NatsBus.connection`
// so there is one socket, one reconnect policy and one status per node.
export type { NatsConnection };

/** Header a responder sets when its handler threw; the requester turns it into BusRemoteError. */
const ERROR_HEADER = "Sy-Bus-Error";

export interface NatsBusOptions {
  /** Comma-separated list allowed, as in NATS_URL. */
  readonly servers: string;
  readonly name?: string;
  /** Wait between reconnect attempts; nodes retry forever (a bus that gives up never recovers). */
  readonly reconnectTimeWaitMs?: number;
  readonly pingIntervalMs?: number;
}

export class NatsBus implements Bus {
  readonly kind = "nats" as const;
  private current: BusStatus = "connected";
  private readonly statusListeners = new StatusListeners();

  /** Takes a live connection (injectable); `NatsBus.connect` makes one with the node's policy. */
  constructor(private readonly nc: NatsConnection) {
    void this.watchStatus();
    void nc.closed().then(() => this.setStatus("closed"));
  }

  static async connect(opts: NatsBusOptions): Promise<NatsBus> {
    try {
      const nc = await connect({
        servers: opts.servers.split(",").map((s) => s.trim()).filter(Boolean),
        name: opts.name ?? "switchyard",
        maxReconnectAttempts: -1,
        reconnectTimeWait: opts.reconnectTimeWaitMs ?? 250,
        reconnectJitter: 100,
        pingInterval: opts.pingIntervalMs ?? 10_000,
        maxPingOut: 2,
      });
      return new NatsBus(nc);
    } catch (e) {
      throw new BusUnavailableError(`cannot connect to NATS at ${opts.servers}`, e);
    }
  }

  /** Narrow accessor for the JetStream and KV adapters; nothing else should hold the connection. */
  get connection(): NatsConnection {
    return this.nc;
  }

  /** The server's max payload (default 1 MiB): larger publishes are refused before they leave. */
  get maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  publish(subject: string, data: Uint8Array): void {
    assertSubject(subject, false);
    this.assertSize(data);
    this.guard(() => this.nc.publish(subject, data));
  }

  subscribe(subject: string, handler: MessageHandler): Subscription {
    assertSubject(subject, true);
    const sub = this.guard(() =>
      this.nc.subscribe(subject, {
        callback: (err, msg) => {
          // err is a permission violation for this subscription; there is no message to deliver.
          if (!err) handler(msg.data, msg.subject);
        },
      }),
    );
    return wrap(sub);
  }

  respond(subject: string, handler: RequestHandler): Subscription {
    assertSubject(subject, true);
    const sub = this.guard(() =>
      this.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (!err && msg.reply) void this.answer(msg, handler);
        },
      }),
    );
    return wrap(sub);
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    assertSubject(subject, false);
    this.assertSize(data);
    let reply: Msg;
    try {
      reply = await this.guard(() => this.nc.request(subject, data, { timeout: timeoutMs }));
    } catch (e) {
      throw translateRequestError(e, subject, timeoutMs);
    }
    const remote = reply.headers?.get(ERROR_HEADER);
    if (remote) throw new BusRemoteError(subject, remote);
    return reply.data;
  }

  status(): BusStatus {
    return this.current;
  }

  onStatus(listener: (status: BusStatus) => void): () => void {
    return this.statusListeners.add(listener);
  }

  async flush(): Promise<void> {
    try {
      await this.nc.flush();
    } catch (e) {
      throw new BusUnavailableError("NATS flush failed", e);
    }
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    // drain: deliver what is already received, send what is buffered, then close.
    await this.nc.drain().catch(() => this.nc.close());
    this.setStatus("closed");
  }

  private async answer(msg: Msg, handler: RequestHandler): Promise<void> {
    try {
      msg.respond(await handler(msg.data, msg.subject));
    } catch (e) {
      const h = headers();
      h.set(ERROR_HEADER, (e instanceof Error ? e.message : String(e)).replace(/[\r\n]+/g, " ").slice(0, 512));
      // The requester may be gone or the link down; a lost error reply becomes its timeout.
      try {
        msg.respond(new Uint8Array(), { headers: h });
      } catch {
        /* see above */
      }
    }
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnecting" || s.type === "staleConnection") this.setStatus("reconnecting");
      else if (s.type === "reconnect") this.setStatus("connected");
      else if (s.type === "close") this.setStatus("closed");
    }
  }

  private setStatus(next: BusStatus): void {
    if (this.current === next || this.current === "closed") return;
    this.current = next;
    this.statusListeners.emit(next);
  }

  private assertSize(data: Uint8Array): void {
    // Checked here so publish and request fail alike (the client throws for one, rejects for the other).
    if (data.byteLength > this.maxPayload) {
      throw new AppError("ERR_PAYLOAD_TOO_LARGE", { message: `bus message of ${data.byteLength} bytes is over the server's max payload (${this.maxPayload})` });
    }
  }

  private guard<T>(f: () => T): T {
    if (this.nc.isClosed()) throw new BusClosedError();
    try {
      return f();
    } catch (e) {
      if (e instanceof ClosedConnectionError) throw new BusClosedError();
      throw e;
    }
  }
}

function wrap(sub: NatsSubscription): Subscription {
  return { unsubscribe: () => sub.unsubscribe() };
}

function translateRequestError(e: unknown, subject: string, timeoutMs: number): unknown {
  if (e instanceof AppError) return e;
  const cause = e instanceof Error ? e.cause : undefined;
  if (e instanceof NoRespondersError || cause instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders())) {
    return new BusNoRespondersError(subject, e);
  }
  if (e instanceof TimeoutError || cause instanceof TimeoutError) return new BusTimeoutError(subject, timeoutMs, e);
  if (e instanceof ClosedConnectionError) return new BusClosedError();
  return new BusUnavailableError(`NATS request on ${subject} failed`, e);
}
