import type { StoredEvent, StreamHead } from "../log/event-log.js";
import type { ResourceRef } from "../registry/ids.js";
import type { PublishInput } from "./types.js";

// Messages between a front and an actor worker, over a dedicated MessagePort
// per (front, worker) pair. All plain data: they are structured-cloned.

export type ActorRequest =
  | { readonly t: "publish"; readonly id: number; readonly ref: ResourceRef; readonly input: PublishInput }
  | { readonly t: "history"; readonly id: number; readonly ref: ResourceRef; readonly after: number; readonly limit: number }
  | { readonly t: "head"; readonly id: number; readonly ref: ResourceRef }
  /** Start forwarding this resource's events to the sender; replies with the head at that point. */
  | { readonly t: "watch"; readonly id: number; readonly ref: ResourceRef }
  | { readonly t: "unwatch"; readonly ref: ResourceRef };

import type { WireError } from "../errors/wire.js";

export type ActorReply =
  | { readonly t: "reply"; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: "reply"; readonly id: number; readonly ok: false; readonly error: WireError }
  /** Durable events of one resource, in seq order; one message per flush per resource. */
  | { readonly t: "events"; readonly rkey: string; readonly epoch: string; readonly events: readonly StoredEvent[] };

/** Control messages from the supervisor to a worker (its parentPort). */
export type WorkerControl =
  | { readonly t: "attach"; readonly port: MessagePort | import("node:worker_threads").MessagePort }
  | { readonly t: "drain" }
  | { readonly t: "metrics"; readonly id: number }
  | { readonly t: "crash"; readonly how: "throw" | "exit" | "oom" };

export type WorkerStatus =
  /** `tid`: the worker thread's kernel id, so the supervisor can leave it at full priority (thread-priority.ts). */
  | { readonly t: "ready"; readonly tid?: number }
  | { readonly t: "drained" }
  | { readonly t: "metrics"; readonly id: number; readonly json: unknown };

export type WatchReply = StreamHead;

/**
 * What actually crosses a port: one message, or every message of one turn of
 * the sender's event loop in order. postMessage has a fixed cost per call
 * (clone, wake-up); under load this makes it one call per turn, not per request.
 */
export type Batched<T> = T | { readonly t: "batch"; readonly msgs: readonly T[] };

/**
 * Collects messages for one port and posts them once per event-loop iteration,
 * in order. A microtask would flush after every callback (each WS frame, each
 * port message drains the microtask queue), which under load meant one
 * postMessage per request; setImmediate runs once after the whole poll phase.
 */
export class PortBatcher<T> {
  private queue: T[] = [];
  constructor(private readonly post: (msg: Batched<T>) => void) {}

  push(msg: T): void {
    if (this.queue.push(msg) === 1) setImmediate(() => this.flush());
  }

  flush(): void {
    const msgs = this.queue;
    if (msgs.length === 0) return;
    this.queue = [];
    this.post(msgs.length === 1 ? (msgs[0] as T) : { t: "batch", msgs });
  }
}

export function unbatch<T extends { readonly t: string }>(msg: Batched<T>, each: (m: T) => void): void {
  if (msg.t === "batch") for (const m of (msg as { msgs: readonly T[] }).msgs) each(m);
  else each(msg as T);
}
