import type { Logger } from "pino";
import type { TokenVerifier } from "../../auth/verifier.js";
import { AppError, CLOSE, errorBody, toAppError } from "../../errors/index.js";
import type { Metrics } from "../../observability/metrics.js";
import { uWS, type TemplatedApp, type UwsWebSocket } from "../uws.js";
import type { LiveSocket } from "./channel.js";
import { authenticateStream, originAllowed, refusedStreamAudit } from "./stream-auth.js";
import type { AuditEntry } from "../http/pipeline.js";
import { maxFrameBytes, WsSession, type SessionDeps, type WsUserData } from "./ws-session.js";

export interface WsServer {
  /** SPEC §5 drain: every client is closed with 1001. */
  closeAll(): void;
  readonly connections: number;
  /** Live fan-out to a topic (uWS pub/sub) followed, once per event-loop turn, by a backpressure sweep. */
  publish(topic: string, frame: string, live: ReadonlySet<LiveSocket>): void;
}

/** Mounts `/ws`: authentication at the upgrade, then one WsSession per socket. */
export function mountWs(
  app: TemplatedApp,
  deps: SessionDeps & { verify: TokenVerifier; metrics: Metrics; isDraining(): boolean; audit?: (e: AuditEntry) => void },
  log: Logger,
): WsServer {
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
    // No uWS cut-off: past its maxBackpressure uWS skips frames (a silent gap) and drops the close
    // frame too, so the client saw 1006 instead of 4408. Sessions close a socket over `limit` with
    // 4408 themselves (on every direct send, and after each fan-out via `publish`); the close frame
    // then queues behind the buffered events, which the client still receives in full.
    maxBackpressure: 0,
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
          const err = toAppError(e);
          const refused = refusedStreamAudit("/ws", err.status, err.code, headers, query);
          if (refused) deps.audit?.(refused);
          if (aborted) return;
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

  // Live fan-out goes through uWS publish, which never returns per-socket results. A topic's
  // live sockets are checked once enough has been published to it that one of them could have
  // passed the limit: a check leaves every socket at or below `max` buffered, and each published
  // frame adds at most its size to each, so no socket passes the limit before the published
  // bytes reach the headroom (half of limit − max, the other half covering direct sends, which
  // are checked as they are written). With 5,000 subscribers a check per publish was ~0.15 µs
  // per delivery. A join re-checks (the set's size changed); a slow sweep of every socket is
  // the backstop, so a buffer is closed on by 1.5 × the limit at worst, normally at it.
  const checkAll = () => {
    for (const ws of sockets) ws.getUserData().session?.checkBackpressure();
  };
  const sweep = setInterval(checkAll, 1000);
  sweep.unref();
  const accounts = new WeakMap<ReadonlySet<LiveSocket>, { since: number; headroom: number; size: number }>();
  const dirty = new Set<ReadonlySet<LiveSocket>>();
  const checkDirty = () => {
    for (const live of dirty) {
      let max = 0;
      for (const s of live) max = Math.max(max, s.checkBackpressure());
      accounts.set(live, { since: 0, headroom: (limit - max) / 2, size: live.size });
    }
    dirty.clear();
  };

  log.debug({ maxBackpressure: limit }, "websocket front mounted");
  return {
    get connections() {
      return sockets.size;
    },
    publish(topic, frame, live) {
      app.publish(topic, frame);
      const a = accounts.get(live);
      if (a && a.size === live.size && (a.since += Buffer.byteLength(frame)) < a.headroom) return;
      if (dirty.size === 0) setImmediate(checkDirty);
      dirty.add(live);
    },
    closeAll() {
      clearInterval(sweep);
      for (const ws of [...sockets]) ws.getUserData().session?.close(CLOSE.DRAINING);
    },
  };
}
