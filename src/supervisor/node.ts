import { resolve } from "node:path";
import type { Logger } from "pino";
import { InProcessActorHost } from "../actors/in-process-host.js";
import type { ActorHost } from "../actors/types.js";
import { keyFromConfig, createVerifier } from "../auth/verifier.js";
import type { Config } from "../config/index.js";
import { openDb, DB_FILE } from "../embedded/db.js";
import { mountHttp } from "../front/http/uws-http.js";
import { Router } from "../front/http/router.js";
import { chatRoutes } from "../front/http/routes/chat.js";
import { canvasRoutes } from "../front/http/routes/canvas.js";
import { opsRoutes } from "../front/http/routes/ops.js";
import type { Admit } from "../front/http/routes/admit.js";
import { uWS, uwsDescription, uwsNative, type us_listen_socket } from "../front/uws.js";
import { SqliteEventLog } from "../log/sqlite.js";
import { createMetrics } from "../observability/metrics.js";
import { SqliteRegistry } from "../registry/sqlite.js";
import { Resources } from "../resources/resources.js";

export interface RunningNode {
  readonly port: number;
  /** SPEC §4 drain: not ready, stop listening, finish in-flight work, close everything. */
  drain(reason: string): Promise<void>;
}

/** Boots one node on embedded defaults: store, registry, actors, HTTP front. */
export async function startNode(config: Config, log: Logger, opts: { jwtSecret?: string } = {}): Promise<RunningNode> {
  const metrics = createMetrics();
  const dataDir = resolve(config.DATA_DIR);
  const db = openDb(dataDir);
  const registry = new SqliteRegistry(db);
  const eventLog = new SqliteEventLog(db);
  const actors: ActorHost = new InProcessActorHost(eventLog, (ref) => metrics.eventsAppended.inc({ kind: ref.kind }));
  const resources = new Resources(registry, actors);
  const verify = createVerifier(keyFromConfig({ ...config, AUTH_JWT_SECRET: config.AUTH_JWT_SECRET ?? opts.jwtSecret }), {
    issuer: config.AUTH_JWT_ISSUER,
    audience: config.AUTH_JWT_AUDIENCE,
  });
  let draining = false;
  const admit: Admit = () => {};

  const router = new Router();
  router.addAll(opsRoutes(metrics.registry, {
    async readiness() {
      return {
        ready: !draining,
        checks: {
          node: draining ? "draining" : "serving",
          uws: uwsDescription,
          store: `sqlite (${resolve(dataDir, DB_FILE)})`,
          registry: "sqlite",
          bus: config.CHAT_BUS_BACKEND,
          actors: "in-process",
        },
      };
    },
  }));
  router.addAll(chatRoutes(resources, config, admit));
  router.addAll(canvasRoutes(resources, config, admit));

  const app = uWS.App();
  const http = mountHttp(app, {
    router, verify, log, metrics,
    timeoutMs: config.REQUEST_TIMEOUT_MS,
    maxBodyBytes: config.MAX_BODY_BYTES,
    corsOrigins: config.CORS_ORIGINS,
    isDraining: () => draining,
  }, log);

  const { socket, port } = await listen(app, config.HOST, config.PORT);
  if (!uwsNative) log.warn({ uws: uwsDescription }, "uWebSockets.js native binary did not load; serving with the slow JS fallback");
  log.info({ host: config.HOST, port, env: config.APP_ENV, dataDir, uws: uwsDescription }, "switchyard listening");

  return {
    port,
    async drain(reason) {
      if (draining) return;
      draining = true;
      log.info({ reason }, "draining");
      uWS.us_listen_socket_close(socket);
      // In-flight requests finish (their appends included) before the store closes.
      const deadline = Date.now() + config.SHUTDOWN_GRACE_MS;
      while (http.inflight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
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
