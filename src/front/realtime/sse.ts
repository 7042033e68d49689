import type { Logger } from "pino";
import type { TokenVerifier } from "../../auth/verifier.js";
import type { Config } from "../../config/index.js";
import { AppError, errorBody, toAppError } from "../../errors/index.js";
import type { ResourceKind } from "../../registry/ids.js";
import type { Metrics } from "../../observability/metrics.js";
import type { Resources } from "../../resources/resources.js";
import { redactUrl } from "../../observability/logger.js";
import type { TemplatedApp, UwsResponse } from "../uws.js";
import type { Hub } from "./hub.js";
import { authenticateStream, refusedStreamAudit } from "./stream-auth.js";
import type { AuditEntry } from "../http/pipeline.js";
import { FlushQueue } from "./flush-queue.js";
import { SseStream } from "./sse-stream.js";

/** Streams flushed per event-loop turn: about a millisecond of sends, so publishes and replies get the loop in between. */
const FLUSH_SLICE = 128;

export interface SseServer {
  closeAll(): void;
  readonly streams: number;
}

export function mountSse(
  app: TemplatedApp,
  deps: { config: Config; verify: TokenVerifier; resources: Resources; hub: Hub; metrics: Metrics; isDraining(): boolean; audit?: (e: AuditEntry) => void },
  log: Logger,
): SseServer {
  const streams = new Set<SseStream>();
  const flushes = new FlushQueue(FLUSH_SLICE, (err) => log.warn({ err }, "sse flush failed"));
  const heartbeat = setInterval(() => {
    for (const s of streams) s.write(": hb\n\n");
  }, deps.config.SSE_HEARTBEAT_S * 1000);
  heartbeat.unref();

  const handler = (kind: ResourceKind) => (res: UwsResponse, req: import("../uws.js").UwsRequest) => {
    let aborted = false;
    let stream: SseStream | undefined;
    res.onAborted(() => {
      aborted = true;
      stream?.aborted();
    });
    const headers: Record<string, string> = {};
    req.forEach((k, v) => {
      headers[k] = v;
    });
    const query = new URLSearchParams(req.getQuery() ?? "");
    const id = req.getParameter(0) ?? "";
    const url = redactUrl(`${req.getUrl()}?${req.getQuery() ?? ""}`);
    const requestId = headers["x-request-id"] ?? "sse";
    const lastEventId = headers["last-event-id"] ?? query.get("lastEventId") ?? undefined;

    void (async () => {
      if (deps.isDraining()) throw new AppError("ERR_DRAINING", { retryAfterS: 1 });
      const { principal, tenantId } = await authenticateStream(deps.verify, headers, query);
      let since: number | undefined;
      if (lastEventId !== undefined && lastEventId !== "") {
        if (!/^\d{1,15}$/.test(lastEventId)) throw new AppError("ERR_INVALID_REQUEST", { message: "Last-Event-ID must be a seq" });
        since = Number(lastEventId);
      }
      const epoch = query.get("epoch") ?? undefined;
      // A first subscribe registers a canvas; a thread must exist in this tenant.
      const ref = await deps.resources.authorize(tenantId, kind, id, principal.sub);
      if (aborted) return;
      const s = new SseStream(res, ref, deps.config.WS_MAX_BACKPRESSURE_BYTES, flushes, () => {
        streams.delete(s);
        deps.metrics.openConnections.dec({ kind: "sse" });
        deps.hub.unsubscribe(ref, s);
      });
      stream = s;
      res.cork(() => {
        res.writeStatus("200 OK");
        res.writeHeader("content-type", "text/event-stream");
        res.writeHeader("cache-control", "no-cache, no-transform");
        res.writeHeader("x-accel-buffering", "no");
        res.writeHeader("x-request-id", requestId);
        res.write("retry: 2000\n\n");
      });
      streams.add(s);
      deps.metrics.openConnections.inc({ kind: "sse" });
      const expiry = setTimeout(() => s.end(), Math.max(0, Math.min(principal.exp * 1000 - Date.now(), 2 ** 31 - 1)));
      expiry.unref();
      await deps.hub.subscribe(ref, s, since, epoch, (r) => s.write(`: subscribed seq=${r.seq} epoch=${r.epoch} recovered=${r.recovered}\n\n`));
    })().catch((e: unknown) => {
      const err = toAppError(e);
      if (err.status >= 500) log.error({ err: e, url }, "sse subscribe failed");
      const refused = refusedStreamAudit(`/sse/${kind === "thread" ? "threads" : "canvas"}/:id`, err.status, err.code, headers, query);
      if (refused) deps.audit?.(refused);
      if (aborted) return;
      if (stream) return stream.end();
      res.cork(() => {
        res.writeStatus(`${err.status} ${err.code}`);
        res.writeHeader("content-type", "application/json");
        if (err.status === 401) res.writeHeader("www-authenticate", 'Bearer realm="switchyard"');
        if (err.retryAfterS !== undefined) res.writeHeader("retry-after", String(Math.ceil(err.retryAfterS)));
        res.end(errorBody(err, requestId));
      });
    });
  };

  app.get("/sse/threads/:id", handler("thread"));
  app.get("/sse/canvas/:id", handler("canvas"));

  return {
    get streams() {
      return streams.size;
    },
    closeAll() {
      clearInterval(heartbeat);
      for (const s of [...streams]) s.end();
    },
  };
}
