import type { Config } from "../config/index.js";
import { NatsBus, subjects, type Bus } from "../bus/index.js";
import { DB_FILE, openDb } from "../embedded/db.js";
import type { EventLog, StoredEvent } from "../log/event-log.js";
import { LayoutError, ownedShards, readLogLayout } from "../log/layout.js";
import { JetStreamEventLog } from "../log/jetstream.js";
import { SqliteEventLog } from "../log/sqlite.js";
import { resourceKey, type ResourceRef } from "../registry/ids.js";
import { shardFor } from "../actors/route.js";
import { singleShard, type LogShards } from "../actors/in-process-host.js";
import { connectBus, sharedDir } from "./connect.js";
import { chunkEvents, encodeEvents } from "./wire.js";

/**
 * What an actor worker stores to and publishes on, by CHAT_BUS_BACKEND:
 * - memory: the node's own SQLite files, the event log shards this worker owns (src/log/layout.ts);
 * - nats:   JetStream (the owner's CAS-guarded appends) + committed events published on NATS;
 * - redis:  a SQLite file shared by the nodes of one host + events published on Redis.
 * `reader` serves head/history with fresh reads: in a cluster another node may
 * have appended since this worker's actors cached a head. For JetStream it is a
 * second instance because the log keeps per-resource CAS tips, which a read
 * racing an append must not overwrite.
 */
export interface WorkerBackend {
  readonly mode: Config["CHAT_BUS_BACKEND"];
  /** Where this worker's actors append: one log, or in memory mode the shards it owns. */
  readonly shards: LogShards;
  /** Cluster modes only: fresh reads (another node may have appended since an actor cached its head). */
  readonly reader?: EventLog;
  /** Publishes committed events for other nodes (no-op in memory mode). Never throws. */
  publish(ref: ResourceRef, epoch: string, events: readonly StoredEvent[]): void;
  close(): Promise<void>;
}

export async function openWorkerBackend(config: Config, worker: number, stopped: () => boolean, warn: (msg: string, e: unknown) => void): Promise<WorkerBackend | undefined> {
  if (config.CHAT_BUS_BACKEND === "memory") return openShards(config, worker);
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
    const db = openDb(sharedDir(config), DB_FILE, "all");
    const log = new SqliteEventLog(db);
    return {
      mode: "redis", shards: singleShard(log), reader: log, publish,
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
      return { mode: "nats", shards: singleShard(log), reader, publish, close: () => bus.close() };
    } catch (e) {
      if (attempt % 10 === 1) warn("actor worker cannot open the JetStream log; retrying", e);
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)));
    }
  }
  await bus.close();
  return undefined;
}

/** Memory mode: the shards of the data dir's layout (written by the supervisor) that this worker owns. */
function openShards(config: Config, worker: number): WorkerBackend {
  const layout = readLogLayout(config.DATA_DIR);
  if (!layout) throw new LayoutError(`no event log layout in ${config.DATA_DIR}; the supervisor writes it before starting workers`);
  const count = layout.shards.length;
  const logs = new Map<number, SqliteEventLog>();
  for (const s of ownedShards(count, worker, config.ACTOR_WORKERS)) logs.set(s, new SqliteEventLog(openDb(config.DATA_DIR, layout.shards[s] as string, "log"), true));
  const shards: LogShards = {
    logs: [...logs.values()],
    of: (ref) => {
      const log = logs.get(shardFor(resourceKey(ref), count));
      // Fronts route by the same function: a miss means a front and this worker disagree on the layout.
      if (!log) throw new LayoutError(`resource ${resourceKey(ref)} is not in a shard of actor worker ${worker}`);
      return log;
    },
  };
  return {
    mode: "memory", shards, publish: () => {},
    close: async () => {
      for (const log of logs.values()) await log.close();
    },
  };
}
