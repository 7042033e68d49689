import type { Config } from "../config/index.js";
import { NatsBus, subjects, type Bus } from "../bus/index.js";
import { openDb } from "../embedded/db.js";
import type { EventLog, StoredEvent } from "../log/event-log.js";
import { JetStreamEventLog } from "../log/jetstream.js";
import { SqliteEventLog } from "../log/sqlite.js";
import type { ResourceRef } from "../registry/ids.js";
import { connectBus, sharedDir } from "./connect.js";
import { chunkEvents, encodeEvents } from "./wire.js";

/**
 * What an actor worker stores to and publishes on, by CHAT_BUS_BACKEND:
 * - memory: the node's own SQLite file (unchanged single-node behaviour);
 * - nats:   JetStream (the owner's CAS-guarded appends) + committed events published on NATS;
 * - redis:  a SQLite file shared by the nodes of one host + events published on Redis.
 * `reader` serves head/history with fresh reads: in a cluster another node may
 * have appended since this worker's actors cached a head. For JetStream it is a
 * second instance because the log keeps per-resource CAS tips, which a read
 * racing an append must not overwrite.
 */
export interface WorkerBackend {
  readonly mode: Config["CHAT_BUS_BACKEND"];
  readonly log: EventLog;
  readonly reader: EventLog;
  /** Publishes committed events for other nodes (no-op in memory mode). Never throws. */
  publish(ref: ResourceRef, epoch: string, events: readonly StoredEvent[]): void;
  close(): Promise<void>;
}

export async function openWorkerBackend(config: Config, stopped: () => boolean, warn: (msg: string, e: unknown) => void): Promise<WorkerBackend | undefined> {
  if (config.CHAT_BUS_BACKEND === "memory") {
    const db = openDb(config.DATA_DIR);
    const log = new SqliteEventLog(db);
    return { mode: "memory", log, reader: log, publish: () => {}, close: async () => void (db.open && db.close()) };
  }
  const bus = await connectBus(config, stopped, (e, n) => n % 10 === 1 && warn("actor worker cannot reach the bus; retrying", e));
  if (!bus) return undefined;
  const s = subjects(config.NATS_PREFIX);
  const publish = (ref: ResourceRef, epoch: string, events: readonly StoredEvent[]): void => {
    for (const part of chunkEvents(events)) {
      try {
        bus.publish(s.event(ref), encodeEvents(config.NODE_ID, epoch, part));
      } catch (e) {
        // At-most-once fan-out: remote subscribers see a gap and backfill from the log.
        warn("event fan-out publish failed", e);
      }
    }
  };
  if (config.CHAT_BUS_BACKEND === "redis") {
    const db = openDb(sharedDir(config));
    const log = new SqliteEventLog(db);
    return {
      mode: "redis", log, reader: log, publish,
      close: async () => {
        await bus.close();
        if (db.open) db.close();
      },
    };
  }
  const nc = (bus as NatsBus).connection;
  const opts = { prefix: config.NATS_PREFIX, replicas: config.NATS_REPLICAS, isConnected: () => bus.status() === "connected" };
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      const [log, reader] = [await JetStreamEventLog.open(nc, opts), await JetStreamEventLog.open(nc, opts)];
      return { mode: "nats", log, reader, publish, close: () => bus.close() };
    } catch (e) {
      if (attempt % 10 === 1) warn("actor worker cannot open the JetStream log; retrying", e);
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)));
    }
  }
  await bus.close();
  return undefined;
}
