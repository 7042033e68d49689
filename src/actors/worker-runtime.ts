import type { MessagePort } from "node:worker_threads";
import type { Config } from "../config/index.js";
import { toWire as appToWire, type WireError } from "../errors/wire.js";
import { openDb } from "../embedded/db.js";
import { LogConflictError, LogUnavailableError, type StoredEvent } from "../log/event-log.js";
import { SqliteEventLog } from "../log/sqlite.js";
import { resourceKey, type ResourceRef } from "../registry/ids.js";
import { InProcessActorHost } from "./in-process-host.js";
import type { ActorReply, ActorRequest } from "./protocol.js";

/**
 * The inside of one actor worker: its own connection to the store, the actors
 * of the resources hashed to it, and one MessagePort per front. Events are
 * forwarded only to fronts that watch the resource, batched per flush.
 */
export class ActorWorkerRuntime {
  private readonly db;
  private readonly host: InProcessActorHost;
  private readonly watchers = new Map<string, Set<MessagePort>>();
  private readonly outbox = new Map<MessagePort, Map<string, { epoch: string; events: StoredEvent[] }>>();
  private flushScheduled = false;
  private inflight = 0;

  constructor(config: Config) {
    this.db = openDb(config.DATA_DIR);
    this.host = new InProcessActorHost(new SqliteEventLog(this.db), (ref, event, epoch) => this.forward(ref, event, epoch));
  }

  attach(port: MessagePort): void {
    port.on("message", (msg: ActorRequest) => this.handle(port, msg));
    port.on("close", () => this.detach(port));
  }

  /** Finishes every request in flight (appends included), then closes the store. */
  async drain(): Promise<void> {
    while (this.inflight > 0) await new Promise((r) => setTimeout(r, 5));
    this.flush();
    await this.host.close();
    if (this.db.open) this.db.close();
  }

  private detach(port: MessagePort): void {
    for (const set of this.watchers.values()) set.delete(port);
    this.outbox.delete(port);
  }

  private handle(port: MessagePort, msg: ActorRequest): void {
    if (msg.t === "unwatch") {
      const set = this.watchers.get(resourceKey(msg.ref));
      set?.delete(port);
      if (set?.size === 0) this.watchers.delete(resourceKey(msg.ref));
      return;
    }
    this.inflight++;
    this.run(port, msg).then(
      (value) => this.reply(port, { t: "reply", id: msg.id, ok: true, value }),
      (e: unknown) => this.reply(port, { t: "reply", id: msg.id, ok: false, error: toWire(e) }),
    ).finally(() => this.inflight--);
  }

  private async run(port: MessagePort, msg: Exclude<ActorRequest, { t: "unwatch" }>): Promise<unknown> {
    switch (msg.t) {
      case "publish":
        return this.host.publish(msg.ref, msg.input);
      case "history":
        return this.host.history(msg.ref, msg.after, msg.limit);
      case "head":
        return this.host.head(msg.ref);
      case "watch": {
        // Register before reading the head: every event after the head we
        // report is then guaranteed to be forwarded (some before it may be too;
        // the front drops seqs it already covers).
        const rkey = resourceKey(msg.ref);
        let set = this.watchers.get(rkey);
        if (!set) this.watchers.set(rkey, (set = new Set()));
        set.add(port);
        return this.host.head(msg.ref);
      }
    }
  }

  private reply(port: MessagePort, reply: ActorReply): void {
    // Events that became durable before this reply go out first.
    this.flush();
    port.postMessage(reply);
  }

  private forward(ref: ResourceRef, event: StoredEvent, epoch: string): void {
    const rkey = resourceKey(ref);
    const ports = this.watchers.get(rkey);
    if (!ports) return;
    for (const port of ports) {
      let byKey = this.outbox.get(port);
      if (!byKey) this.outbox.set(port, (byKey = new Map()));
      let entry = byKey.get(rkey);
      if (!entry) byKey.set(rkey, (entry = { epoch, events: [] }));
      entry.events.push(event);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const [port, byKey] of this.outbox) {
      for (const [rkey, { epoch, events }] of byKey) port.postMessage({ t: "events", rkey, epoch, events } satisfies ActorReply);
    }
    this.outbox.clear();
  }
}

function toWire(e: unknown): WireError {
  if (e instanceof LogUnavailableError || e instanceof LogConflictError) {
    return { key: "ERR_NOT_READY", message: "The event store refused the write; retry", retryAfterS: 1 };
  }
  return appToWire(e);
}
