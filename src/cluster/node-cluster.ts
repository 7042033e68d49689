import { jetstreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry as PromRegistry } from "prom-client";
import type { Config } from "../config/index.js";
import { createBus, subjects, type Bus, type NatsBus } from "../bus/index.js";
import { openDb, DB_FILE, type Db } from "../embedded/db.js";
import { JetStreamEventLog } from "../log/jetstream.js";
import { KvRegistry } from "../registry/nats-kv.js";
import { SqliteRegistry } from "../registry/sqlite.js";
import type { Registry } from "../registry/registry.js";
import { sharedDir } from "./connect.js";
import { MembersBoard, type MembersView } from "./members-feed.js";
import { Membership } from "./membership.js";

/**
 * The supervisor's part of a cluster node: the bus connection, the registry
 * (JetStream KV in nats mode, the shared SQLite file in redis mode), and in
 * nats mode membership, published to the fronts through a MembersBoard.
 * NATS/Redis unreachable at start is a start-up error: a node that silently
 * ran alone would split the cluster.
 */
export interface NodeCluster {
  readonly registry: Registry;
  readonly bus: Bus;
  /** The fronts' long poll for the member list (RPC service `cluster`). */
  readonly service: { members(known: number): Promise<MembersView> };
  ready(): boolean;
  checks(): Promise<Record<string, unknown>>;
  /** Graceful leave: the others take this node's resources over at once instead of after the TTL. */
  leave(): Promise<void>;
  close(): Promise<void>;
}

const STARTUP_WINDOW_MS = 30_000;

export async function startCluster(config: Config, log: Logger, metrics: PromRegistry): Promise<NodeCluster> {
  const bus = await createBus(config, { nodeId: config.NODE_ID });
  const board = new MembersBoard();
  const holdMs = Math.max(50, Math.min(5000, Math.floor(config.REQUEST_TIMEOUT_MS / 2)));
  const service = { members: (known: number) => board.wait(known, holdMs) };
  const connected = () => bus.status() === "connected";
  bus.onStatus((s) => log[s === "connected" ? "info" : "warn"]({ bus: config.CHAT_BUS_BACKEND, status: s }, "bus status changed"));

  if (config.CHAT_BUS_BACKEND === "redis") {
    let db: Db;
    try {
      db = openDb(sharedDir(config), DB_FILE, "all");
    } catch (e) {
      await bus.close();
      throw e;
    }
    return {
      registry: new SqliteRegistry(db),
      bus,
      service,
      // Writes need only the shared file; a Redis outage pauses cross-node fan-out (reported below).
      ready: () => bus.status() !== "closed",
      checks: async () => ({
        bus: `redis ${bus.status()}`,
        store: `shared sqlite (${sharedDir(config)}/${DB_FILE})`,
        registry: "shared sqlite",
        nodeId: config.NODE_ID,
      }),
      leave: async () => board.close(),
      close: async () => {
        await bus.close();
        db.close();
      },
    };
  }

  const nc = (bus as NatsBus).connection;
  const s = subjects(config.NATS_PREFIX);
  let membership: Membership;
  let registry: KvRegistry;
  // A JetStream cluster that is itself starting (no meta leader yet) refuses API calls for a few
  // seconds: retry within a bounded start-up window instead of failing the node at once.
  const startDeadline = Date.now() + STARTUP_WINDOW_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      // The stream is created here first, with the configured replicas; workers then only open it.
      await JetStreamEventLog.open(nc, { prefix: config.NATS_PREFIX, replicas: config.NATS_REPLICAS, isConnected: connected });
      registry = await KvRegistry.open(nc, { prefix: config.NATS_PREFIX, replicas: config.NATS_REPLICAS, isConnected: connected });
      membership = await Membership.start(nc, {
        prefix: config.NATS_PREFIX,
        nodeId: config.NODE_ID,
        heartbeatMs: config.CLUSTER_HEARTBEAT_MS,
        ttlMs: config.CLUSTER_TTL_MS,
        replicas: config.NATS_REPLICAS,
      });
      break;
    } catch (e) {
      if (Date.now() > startDeadline) {
        await bus.close();
        throw new Error(`JetStream not usable at ${config.NATS_URL} within ${STARTUP_WINDOW_MS / 1000} s: ${(e as Error).message}`, { cause: e });
      }
      log.warn({ err: e, attempt }, "JetStream not ready yet; retrying");
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const changes = new Counter({ name: "switchyard_cluster_membership_changes_total", help: "Changes of the live member list seen by this node", registers: [metrics] });
  const size = new Gauge({ name: "switchyard_cluster_members", help: "Live members in this node's view", registers: [metrics] });
  const publish = (members: readonly string[]) => {
    board.set(members);
    size.set(members.length);
  };
  membership.onChange((members) => {
    changes.inc();
    log.info({ members }, "cluster members changed");
    publish(members);
  });
  publish(membership.members());
  const jsm = await jetstreamManager(nc, { timeout: 1000 });

  return {
    registry,
    bus,
    service,
    ready: () => connected() && membership.members().includes(config.NODE_ID),
    async checks() {
      const m = membership.state();
      let stream: string;
      try {
        if (!connected()) throw new Error("NATS link down");
        const info = await jsm.streams.info(s.logStream);
        stream = `${s.logStream} R${info.config.num_replicas} ${info.state.messages} msgs${info.cluster?.leader ? ` leader ${info.cluster.leader}` : ""}`;
      } catch (e) {
        stream = `unavailable: ${(e as Error).message}`;
      }
      return {
        bus: `nats ${bus.status()}`,
        store: `jetstream ${stream}`,
        registry: `nats kv ${s.registryBucket}`,
        nodeId: config.NODE_ID,
        members: m.members,
        heartbeatAgeMs: m.heartbeatAgeMs,
        ...(m.lastError ? { membershipError: m.lastError } : {}),
      };
    },
    async leave() {
      await membership.stop();
      board.close();
    },
    async close() {
      await membership.stop();
      await bus.close();
    },
  };
}
