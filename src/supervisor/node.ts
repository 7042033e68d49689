import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { Logger } from "pino";
import { AggregatorRegistry } from "prom-client";
import { ActorWorkerPool } from "../actors/worker-pool.js";
import type { Config } from "../config/index.js";
import { openDb, DB_FILE, type Db } from "../embedded/db.js";
import { openLogLayout } from "../log/layout.js";
import { createGateConfigStore, GateChainService } from "../gatechain/index.js";
import { createSupervisorMetrics } from "../observability/metrics.js";
import { SqliteRegistry } from "../registry/sqlite.js";
import type { ResourceKind, ResourceRef } from "../registry/ids.js";
import type { RegisterInput, Registry } from "../registry/registry.js";
import type { ServiceTable } from "../rpc/rpc.js";
import { startCluster } from "../cluster/node-cluster.js";
import { FrontPool } from "./front-pool.js";
import { startAdapters } from "./adapters.js";
import { currentTid, lowerHelperThreads, type PoolThreads } from "./thread-priority.js";

export interface RunningNode {
  readonly port: number;
  /** Test hook (SWITCHYARD_TEST_HOOKS): make an actor worker die. */
  crashActorWorker(i: number, how: "throw" | "exit" | "oom"): void;
  /** SPEC §4 drain: not ready, stop listening, close clients, finish in-flight appends, stop. */
  drain(reason: string): Promise<void>;
}

/**
 * Boots one node: the supervisor (this thread: registry, GateChain,
 * adapters, health, metrics, restarts, drain order), ACTOR_WORKERS actor
 * workers and FRONT_WORKERS uWS fronts. The supervisor never imports uWS.
 */
export async function startNode(config: Config, log: Logger, opts: { jwtSecret?: string } = {}): Promise<RunningNode> {
  const metrics = createSupervisorMetrics();
  const dataDir = resolve(config.DATA_DIR);
  // Cluster modes keep the registry on the shared store; the node's own file still holds its GateChain and media.
  const cluster = config.CHAT_BUS_BACKEND === "memory" ? undefined : await startCluster(config, log.child({ room: "cluster" }), metrics.registry);
  let db: Db | undefined;
  let registry: Registry;
  if (cluster) registry = cluster.registry;
  else registry = new SqliteRegistry((db = openDb(dataDir, DB_FILE, "registry")));
  const gates = await GateChainService.open({
    config,
    store: createGateConfigStore({ kind: "sqlite", dir: dataDir }),
    registry: metrics.registry,
    logger: log.child({ room: "gatechain" }),
  });
  const adapters = await startAdapters(config, log, metrics.registry);
  // Memory mode: the data dir's event log shards, fixed at its first start; a cluster routes by worker only.
  const shards = cluster ? config.ACTOR_WORKERS : openLogLayout(dataDir, config.LOG_SHARDS ?? config.ACTOR_WORKERS).shards.length;
  if (!cluster && shards < config.ACTOR_WORKERS) {
    log.warn({ shards, actorWorkers: config.ACTOR_WORKERS }, "this data dir's event log has fewer shards than ACTOR_WORKERS: the extra workers stay idle");
  }
  const workerConfig = Object.freeze({ ...config, DATA_DIR: dataDir, LOG_SHARDS: shards });
  const pool = new ActorWorkerPool(workerConfig, log, metrics.registry, {
    testHooks: config.SWITCHYARD_TEST_HOOKS,
    maxOldGenerationSizeMb: config.ACTOR_MAX_OLD_GEN_MB,
  });
  let draining = false;

  const services: ServiceTable = {
    ...adapters.services,
    registry: {
      register: (ref: ResourceRef, input: RegisterInput) => registry.register(ref, input),
      get: (ref: ResourceRef) => registry.get(ref),
      list: (tenant: string, kind: ResourceKind, o: { limit: number; cursor?: string }) => registry.list(tenant, kind, o),
    },
    gates: {
      lease: (msg: unknown) => gates.granter.handle(msg),
      release: (msg: unknown) => gates.granter.handle(msg),
      putBudget: (t: string, b: unknown) => gates.putBudget(t, b),
      putKpis: (t: string, b: unknown) => gates.putKpis(t, b),
      observe: (t: string, b: unknown) => gates.observe(t, b),
      setKillswitch: (t: string, a: string, on: boolean) => gates.setKillswitch(t, a, on),
      status: (t: string) => gates.status(t),
    },
    ...(cluster ? { cluster: cluster.service } : {}),
    ops: {
      readiness: async () => ({
        ready: !draining && pool.liveWorkers() === pool.size && fronts.live() === fronts.size && (cluster?.ready() ?? true),
        checks: {
          node: draining ? "draining" : "serving",
          store: `sqlite (${resolve(dataDir, DB_FILE)})`,
          registry: "sqlite",
          bus: config.CHAT_BUS_BACKEND,
          actors: `${pool.liveWorkers()}/${pool.size} workers live`,
          fronts: `${fronts.live()}/${fronts.size} live`,
          gatechain: "sqlite",
          ...adapters.checks(),
          ...(cluster ? await cluster.checks() : {}),
        },
      }),
      metrics: async () => {
        const [own, ofFronts, ofActors] = await Promise.all([metrics.registry.getMetricsAsJSON(), fronts.collectMetrics(), pool.collectMetrics()]);
        const all = [own, ...ofFronts, ...ofActors];
        const merged = AggregatorRegistry.aggregate(all as Parameters<typeof AggregatorRegistry.aggregate>[0]);
        return { contentType: merged.contentType, text: await merged.metrics() };
      },
    },
  } as unknown as ServiceTable; // each entry's argument types are checked by its callee; the table itself is untyped transport

  const fronts = new FrontPool(workerConfig, log, services, config.AUTH_JWT_SECRET ?? opts.jwtSecret, (client, replaces) => {
    if (replaces) pool.removeClient(replaces);
    pool.addClient(client);
  });
  gates.granter.onRevoke((msg) => fronts.broadcast({ t: "lease.revoke", msg }));
  fronts.spawnAll();
  await pool.start();
  const port = await fronts.listen(config.PORT);
  if (!fronts.native) log.warn({ uws: fronts.uws }, "uWebSockets.js native binary did not load; serving with the slow JS fallback");
  if (config.HELPER_THREAD_NICE > 0) {
    // libuv starts its pool on first use: start it now, so its threads are lowered with V8's.
    await stat(dataDir);
    lowerHelpers(config.HELPER_THREAD_NICE, [fronts.tids, pool.tids], log);
  }
  log.info({ host: config.HOST, port, env: config.APP_ENV, dataDir, uws: fronts.uws, actorWorkers: pool.size, frontWorkers: fronts.size }, "switchyard listening");

  return {
    port,
    crashActorWorker: (i, how) => pool.crash(i, how),
    async drain(reason) {
      if (draining) return;
      draining = true;
      log.info({ reason }, "draining");
      // Leave the cluster first: the others take this node's resources over at once, and the
      // clients we close next reconnect to nodes that already own them (a late append of ours
      // races the new owner harmlessly: the log's CAS refuses one of the two).
      await cluster?.leave();
      await fronts.drain();
      await pool.drain();
      await fronts.exit();
      await gates.close();
      await adapters.close();
      await registry.close();
      await cluster?.close();
      db?.close();
      log.info("drained");
    },
  };
}

/** The serving threads of every node started in this process (tests run several in one), so none lowers another's. */
const servingThreads = new Set<number>();

/**
 * Lowers every thread but the supervisor's, the fronts' and the actor workers' to `nice`
 * (thread-priority.ts). Only when every worker has reported its thread: one still
 * starting would be lowered with the helpers.
 */
function lowerHelpers(nice: number, workers: PoolThreads[], log: Logger): void {
  const self = currentTid();
  if (self === undefined || workers.some((w) => !w.all)) {
    log.warn({ nice }, "helper threads left at their priority: no /proc/thread-self, or a worker is not up yet");
    return;
  }
  for (const tid of [self, ...workers.flatMap((w) => w.tids)]) servingThreads.add(tid);
  const r = lowerHelperThreads(servingThreads, nice);
  log.info({ nice, ...r }, "helper threads (V8 GC, libuv pool) lowered so they run in the gaps of the serving threads");
}
