import { resolve } from "node:path";
import type { Logger } from "pino";
import { ActorWorkerPool } from "../actors/worker-pool.js";
import { WorkerActorHost } from "../actors/worker-host.js";
import { keyFromConfig, createVerifier } from "../auth/verifier.js";
import type { Config } from "../config/index.js";
import { openDb, DB_FILE } from "../embedded/db.js";
import { mountHttp } from "../front/http/uws-http.js";
import { Router } from "../front/http/router.js";
import { chatRoutes } from "../front/http/routes/chat.js";
import { canvasRoutes } from "../front/http/routes/canvas.js";
import { opsRoutes } from "../front/http/routes/ops.js";
import type { Admit } from "../front/http/routes/admit.js";
import { Hub } from "../front/realtime/hub.js";
import { mountSse } from "../front/realtime/sse.js";
import { mountWs } from "../front/realtime/ws-server.js";
import { uWS, uwsDescription, uwsNative, type us_listen_socket } from "../front/uws.js";
import { createMetrics } from "../observability/metrics.js";
import { createGateConfigStore, GateChainService } from "../gatechain/index.js";
import { gatechainRoutes } from "../front/http/routes/gatechain.js";
import { SqliteRegistry } from "../registry/sqlite.js";
import { Resources } from "../resources/resources.js";

export interface RunningNode {
  readonly port: number;
  /** Test hook (SWITCHYARD_TEST_HOOKS): make an actor worker die. */
  crashActorWorker(i: number, how: "throw" | "exit" | "oom"): void;
  /** SPEC §4 drain: not ready, stop listening, close clients, finish in-flight appends, exit. */
  drain(reason: string): Promise<void>;
}

/** Boots one node: store, registry, actor workers, and the HTTP/WS/SSE front. */
export async function startNode(config: Config, log: Logger, opts: { jwtSecret?: string } = {}): Promise<RunningNode> {
  const metrics = createMetrics();
  const dataDir = resolve(config.DATA_DIR);
  const db = openDb(dataDir);
  const registry = new SqliteRegistry(db);
  const workerConfig = Object.freeze({ ...config, DATA_DIR: dataDir });
  const pool = new ActorWorkerPool(workerConfig, log, metrics.registry, {
    testHooks: config.SWITCHYARD_TEST_HOOKS,
    maxOldGenerationSizeMb: config.ACTOR_MAX_OLD_GEN_MB,
  });
  const app = uWS.App();
  // eslint-style note: `hub` is assigned right below; events cannot arrive before workers start.
  let hub: Hub | undefined;
  const actors = new WorkerActorHost(pool.size, (rkey, epoch, events) => hub?.onEvents(rkey, epoch, events), config.REQUEST_TIMEOUT_MS);
  hub = new Hub(actors, (topic, frame) => app.publish(topic, frame), log);
  const liveHub = hub;
  actors.onWorkerUp((i) => liveHub.onWorkerUp(i));
  pool.addClient(actors);
  await pool.start();

  const resources = new Resources(registry, actors, (ref) => metrics.eventsAppended.inc({ kind: ref.kind }));
  const verify = createVerifier(keyFromConfig({ ...config, AUTH_JWT_SECRET: config.AUTH_JWT_SECRET ?? opts.jwtSecret }), {
    issuer: config.AUTH_JWT_ISSUER,
    audience: config.AUTH_JWT_AUDIENCE,
  });
  let draining = false;
  const isDraining = () => draining;
  const gates = await GateChainService.open({
    config,
    store: createGateConfigStore({ kind: "sqlite", dir: dataDir }),
    registry: metrics.registry,
    logger: log.child({ room: "gatechain" }),
  });
  // The front runs in this thread, so admission is a direct, synchronous call;
  // fronts in other threads would hold leases (src/gatechain/lease-holder.ts).
  const admit: Admit = (tenantId, action) => gates.admit({ tenantId, action });

  const router = new Router();
  router.addAll(opsRoutes(metrics.registry, {
    async readiness() {
      const live = pool.liveWorkers();
      return {
        ready: !draining && live === pool.size,
        checks: {
          node: draining ? "draining" : "serving",
          uws: uwsDescription,
          store: `sqlite (${resolve(dataDir, DB_FILE)})`,
          registry: "sqlite",
          bus: config.CHAT_BUS_BACKEND,
          actors: `${live}/${pool.size} workers live`,
          connections: { ws: ws.connections, sse: sse.streams },
        },
      };
    },
  }));
  router.addAll(chatRoutes(resources, config, admit));
  router.addAll(canvasRoutes(resources, config, admit));
  router.addAll(gatechainRoutes(gates));

  const ws = mountWs(app, { config, resources, hub, admit, verify, metrics, isDraining }, log);
  const sse = mountSse(app, { config, verify, resources, hub, metrics, isDraining }, log);
  const http = mountHttp(app, {
    router, verify, log, metrics,
    timeoutMs: config.REQUEST_TIMEOUT_MS,
    maxBodyBytes: config.MAX_BODY_BYTES,
    corsOrigins: config.CORS_ORIGINS,
    isDraining,
  }, log);

  const { socket, port } = await listen(app, config.HOST, config.PORT);
  if (!uwsNative) log.warn({ uws: uwsDescription }, "uWebSockets.js native binary did not load; serving with the slow JS fallback");
  log.info({ host: config.HOST, port, env: config.APP_ENV, dataDir, uws: uwsDescription, actorWorkers: pool.size }, "switchyard listening");

  return {
    port,
    crashActorWorker: (i, how) => pool.crash(i, how),
    async drain(reason) {
      if (draining) return;
      draining = true;
      log.info({ reason }, "draining");
      uWS.us_listen_socket_close(socket);
      ws.closeAll();
      sse.closeAll();
      // In-flight requests finish (their appends included) before the workers stop.
      const deadline = Date.now() + config.SHUTDOWN_GRACE_MS;
      while (http.inflight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await pool.drain();
      await gates.close();
      await actors.close();
      await registry.close();
      db.close();
      log.info("drained");
    },
  };
}

function listen(app: ReturnType<typeof uWS.App>, host: string, port: number): Promise<{ socket: us_listen_socket; port: number }> {
  return new Promise((resolvePromise, reject) => {
    app.listen(host, port, (socket) => {
      if (!socket) reject(new Error(`cannot listen on ${host}:${port} (in use or not permitted)`));
      else resolvePromise({ socket, port: uWS.us_socket_local_port(socket) });
    });
  });
}
