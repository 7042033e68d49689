import type { Logger } from "pino";
import type { TokenVerifier } from "../../auth/verifier.js";
import { AppError, CLOSE, errorBody, toAppError } from "../../errors/index.js";
import type { Metrics } from "../../observability/metrics.js";
import { uWS, type TemplatedApp, type UwsWebSocket } from "../uws.js";
import { authenticateStream, originAllowed } from "./stream-auth.js";
import { maxFrameBytes, WsSession, type SessionDeps, type WsUserData } from "./ws-session.js";

export interface WsServer {
  /** SPEC §5 drain: every client is closed with 1001. */
  closeAll(): void;
  readonly connections: number;
}

/** Mounts `/ws`: authentication at the upgrade, then one WsSession per socket. */
export function mountWs(app: TemplatedApp, deps: SessionDeps & { verify: TokenVerifier; metrics: Metrics; isDraining(): boolean }, log: Logger): WsServer {
  const { config } = deps;
  const sockets = new Set<UwsWebSocket<WsUserData>>();
  const limit = config.WS_MAX_BACKPRESSURE_BYTES;

  app.ws<WsUserData>("/ws", {
    compression: uWS.DISABLED,
    // uWS drops a frame over its own limit without a close frame (the client sees 1006), so its
    // cut-off sits well above ours and the session closes anything over ours with 1009 (SPEC §5).
    maxPayloadLength: maxFrameBytes(config) * 4,
    idleTimeout: config.WS_IDLE_TIMEOUT_S,
    sendPingsAutomatically: true,
    // Sessions close a socket over `limit` with 4408 themselves; uWS's own cut-off sits above
    // it as a last resort, and closes rather than skipping frames, so nothing is dropped silently.
    maxBackpressure: limit * 2,
    closeOnBackpressureLimit: 1,
    upgrade(res, req, context) {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const headers: Record<string, string> = {};
      req.forEach((k, v) => {
        headers[k] = v;
      });
      const query = new URLSearchParams(req.getQuery() ?? "");
      const key = headers["sec-websocket-key"] ?? "";
      const protocol = headers["sec-websocket-protocol"] ?? "";
      const extensions = headers["sec-websocket-extensions"] ?? "";
      void (async () => {
        if (deps.isDraining()) throw new AppError("ERR_DRAINING", { retryAfterS: 1 });
        if (!originAllowed(headers.origin, config.WS_ALLOWED_ORIGINS, config.APP_ENV)) throw new AppError("ERR_FORBIDDEN_ORIGIN");
        return authenticateStream(deps.verify, headers, query);
      })().then(
        ({ principal, tenantId }) => {
          if (aborted) return;
          res.cork(() => res.upgrade<WsUserData>({ principal, tenantId }, key, protocol, extensions, context));
        },
        (e: unknown) => {
          if (aborted) return;
          const err = toAppError(e);
          res.cork(() => {
            res.writeStatus(`${err.status} ${err.code}`);
            res.writeHeader("content-type", "application/json");
            if (err.status === 401) res.writeHeader("www-authenticate", 'Bearer realm="switchyard"');
            res.end(errorBody(err, headers["x-request-id"] ?? "ws-upgrade"));
          });
        },
      );
    },
    open(ws) {
      const user = ws.getUserData();
      user.session = new WsSession(ws, deps, user);
      sockets.add(ws);
      deps.metrics.openConnections.inc({ kind: "ws" });
    },
    message(ws, message, isBinary) {
      ws.getUserData().session?.onMessage(message, isBinary);
    },
    close(ws) {
      sockets.delete(ws);
      deps.metrics.openConnections.dec({ kind: "ws" });
      ws.getUserData().session?.onClosed();
    },
  });

  // Live fan-out goes through uWS publish, which never returns per-socket
  // results; a periodic sweep closes sockets whose buffer passed the limit.
  const sweep = setInterval(() => {
    for (const ws of sockets) ws.getUserData().session?.checkBackpressure();
  }, 100);
  sweep.unref();

  log.debug({ maxBackpressure: limit }, "websocket front mounted");
  return {
    get connections() {
      return sockets.size;
    },
    closeAll() {
      clearInterval(sweep);
      for (const ws of [...sockets]) ws.getUserData().session?.close(CLOSE.DRAINING);
    },
  };
}
