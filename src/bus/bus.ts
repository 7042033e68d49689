// The Bus port: cross-node message passing. Fan-out (publish/subscribe) is
// at-most-once on every backend — a message published while a link is down may
// be lost, so consumers that need completeness backfill from the event log.
// Request-reply carries owner forwarding and always ends: a reply, a typed
// timeout, or a typed "no responders".
//
// Subjects are NATS-style: dot-separated tokens; in subscribe/respond `*`
// matches one token and a trailing `>` one or more. Build them with
// subjects.ts, never by hand.

export { BusTimeoutError, BusNoRespondersError, BusRemoteError, BusUnavailableError, BusClosedError } from "./errors.js";

export type BusStatus = "connected" | "reconnecting" | "closed";

export type MessageHandler = (data: Uint8Array, subject: string) => void;
/** A responder's answer; throwing makes the requester reject with BusRemoteError. */
export type RequestHandler = (data: Uint8Array, subject: string) => Uint8Array | Promise<Uint8Array>;

export interface Subscription {
  unsubscribe(): void;
}

export interface Bus {
  readonly kind: "memory" | "nats" | "redis";
  /** Fire-and-forget, at-most-once. Throws BusClosedError after close(). */
  publish(subject: string, data: Uint8Array): void;
  subscribe(subject: string, handler: MessageHandler): Subscription;
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  respond(subject: string, handler: RequestHandler): Subscription;
  status(): BusStatus;
  /** Called on every status change (for /readyz and backfill after a reconnect). Returns an unsubscribe. */
  onStatus(listener: (status: BusStatus) => void): () => void;
  /** Resolves once everything published so far has reached the server (memory: immediately). */
  flush(): Promise<void>;
  close(): Promise<void>;
}
