import type { MessagePort } from "node:worker_threads";
import type { Logger } from "pino";
import { WorkerActorHost } from "../actors/worker-host.js";
import type { ActorHost } from "../actors/types.js";
import { createVerifier, keyFromConfig } from "../auth/verifier.js";
import { isClusterMode } from "../cluster/connect.js";
import { FrontCluster } from "../cluster/front-cluster.js";
import type { Config } from "../config/index.js";
import type { AppError } from "../errors/index.js";
import { gateError, LeaseHolder, type GateAction, type GateDeny, type LeaseRequest, type LeaseResponse } from "../gatechain/index.js";
import { createFrontMetrics } from "../observability/metrics.js";
import { CachedRegistry } from "../registry/cached.js";
import type { Registry } from "../registry/registry.js";
import { Resources } from "../resources/resources.js";
import { rpcClient, type Remote } from "../rpc/rpc.js";
import type { DatasetsApi, FlagsApi, MediaApi, RawApi } from "./http/routes/adapters.js";
import { ANONYMOUS_TENANT, type AuditEntry } from "./http/pipeline.js";
import type { AuditEntry as DatasetAuditEntry } from "../adapters/datasets/service.js";
import type { FromFront, ToFront } from "./control.js";
import { mountHttp } from "./http/uws-http.js";
import type { Admit, GatedAction } from "./http/routes/admit.js";
import { buildRouter, type GateAdmin } from "./http/routes/index.js";
import type { Ops } from "./http/routes/ops.js";
import { Hub, type HubActors } from "./realtime/hub.js";
import { mountSse } from "./realtime/sse.js";
import { mountWs } from "./realtime/ws-server.js";
import { uWS, uwsDescription, uwsNative, type us_listen_socket } from "./uws.js";
import { currentTid } from "../supervisor/thread-priority.js";

/**
 * One front: a uWS app serving HTTP, WebSocket and SSE on the shared port.
 * It authenticates and authorises locally (registry look-ups cached, GateChain
 * admissions from leases), talks to actor workers directly over its own
 * MessagePorts, and asks the supervisor only for what is off the hot path.
 */
export class FrontRuntime {
  private readonly app = uWS.App();
  private readonly metrics;
  private readonly actors: WorkerActorHost;
  /** Set when CHAT_BUS_BACKEND is nats or redis: placement, forwarding and cross-node fan-out. */
  private readonly cluster: FrontCluster | undefined;
  private readonly hub: Hub;
  private readonly rpc;
  private readonly leases: LeaseHolder;
  private readonly ws;
  private readonly sse;
  private readonly http;
  private socket: us_listen_socket | undefined;
  private draining = false;
  /** Audit entries of this loop turn (see flushAudits). */
  private audits: DatasetAuditEntry[] = [];
  private auditsSent: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: Config, private readonly index: number, rpcPort: MessagePort, jwtSecret: string | undefined, private readonly log: Logger) {
    this.metrics = createFrontMetrics(index);
    this.rpc = rpcClient(rpcPort, config.REQUEST_TIMEOUT_MS);
    this.actors = new WorkerActorHost(config.ACTOR_WORKERS, (rkey, epoch, events) => this.hub.onEvents(rkey, epoch, events), config.REQUEST_TIMEOUT_MS, config.LOG_SHARDS);
    // Late-bound: the WS server is mounted below; its publish also checks backpressure after a burst.
    this.cluster = isClusterMode(config)
      ? new FrontCluster({
          config, index, local: this.actors, rpc: this.rpc, log,
          metrics: this.metrics.registry,
          onEvents: (rkey, epoch, events) => this.hub.onEvents(rkey, epoch, events),
          resyncAll: () => {
            for (let i = 0; i < this.actors.workers; i++) this.hub.onWorkerUp(i);
          },
        })
      : undefined;
    const actors: ActorHost & HubActors = this.cluster ?? this.actors;
    this.hub = new Hub(actors, (topic, frame, live) => this.ws.publish(topic, frame, live), log);
    this.actors.onWorkerUp((i) => this.hub.onWorkerUp(i));
    const registry = new CachedRegistry(this.rpc.service<Registry>("registry"));
    // Label children bound once: inc({ kind }) would hash the labels on every publish.
    const appended = { thread: this.metrics.eventsAppended.labels({ kind: "thread" }), canvas: this.metrics.eventsAppended.labels({ kind: "canvas" }) };
    const resources = new Resources(registry, actors, (ref) => appended[ref.kind].inc());
    this.leases = new LeaseHolder({ request: (msg: LeaseRequest) => this.rpc.call<LeaseResponse>("gates", "lease", [msg]) });
    const admitNow = (tenantId: string, action: GatedAction): Promise<void> | void => {
      const d = this.leases.tryAdmit(tenantId, action as GateAction);
      if (d === undefined) {
        return this.leases.admit(tenantId, action as GateAction).then((asked) => {
          if (!asked.allow) throw gateError(asked);
        });
      }
      if (!d.allow) throw gateError(d);
    };
    // A cached deny is one object until it expires: build its error once.
    const refusals = new WeakMap<GateDeny, AppError>();
    const admit: Admit = Object.assign(admitNow, {
      precheck: (tenantId: string, action: GatedAction): AppError | undefined => {
        const d = this.leases.knownRefusal(tenantId, action as GateAction);
        if (!d) return undefined;
        let err = refusals.get(d);
        if (!err) refusals.set(d, (err = gateError(d)));
        return err;
      },
    });
    const verify = createVerifier(keyFromConfig({ ...config, AUTH_JWT_SECRET: config.AUTH_JWT_SECRET ?? jwtSecret }), {
      issuer: config.AUTH_JWT_ISSUER,
      audience: config.AUTH_JWT_AUDIENCE,
    });
    const supervisorOps = this.rpc.service<Ops>("ops");
    const ops: Ops = {
      readiness: async () => {
        const r = await supervisorOps.readiness();
        // Connection counts are the answering front's own (one front per node by default).
        const connections = { front: this.index, ws: this.ws.connections, sse: this.sse.streams };
        const c = this.cluster?.checks() ?? { ready: true, checks: {} };
        return { ready: r.ready && c.ready && !this.draining, checks: { ...r.checks, ...c.checks, uws: uwsDescription, connections } };
      },
      metrics: () => supervisorOps.metrics(),
    };
    const isDraining = () => this.draining;
    const router = buildRouter({
      config, resources, admit, ops,
      gates: this.rpc.service<GateAdmin>("gates"),
      media: this.rpc.service<Remote<MediaApi>>("media"),
      raw: this.rpc.service<Remote<RawApi>>("raw"),
      flags: this.rpc.service<Remote<FlagsApi>>("flags"),
      datasets: this.rpc.service<Remote<DatasetsApi>>("datasets"),
    });
    // The audit trail: every mutating request and every 401/403, sent off the request path,
    // one message per event-loop turn (at 6,000 HTTP publishes/s a message each cost the
    // supervisor 14 % of a core).
    const audit = (e: AuditEntry) => {
      const entry = {
        tenantId: e.tenantId ?? ANONYMOUS_TENANT,
        type: e.status === 401 || e.status === 403 ? "auth.denied" : "http.mutation",
        ...(e.sub ? { actor: e.sub } : {}),
        payload: { requestId: e.requestId, method: e.method, route: e.route, status: e.status, code: e.code, claimedTenant: e.claimedTenant },
      };
      if (this.audits.push(entry) === 1) setImmediate(() => this.flushAudits());
    };
    const publishDuration = this.metrics.wsPublishDuration;
    const observePublish = (seconds: number): void => publishDuration.observe(seconds);
    this.ws = mountWs(this.app, { config, resources, hub: this.hub, admit, verify, audit, metrics: this.metrics, isDraining, observePublish }, log);
    this.sse = mountSse(this.app, { config, verify, resources, hub: this.hub, audit, metrics: this.metrics, isDraining }, log);
    this.http = mountHttp(this.app, {
      router, verify, log, audit, metrics: this.metrics,
      timeoutMs: config.REQUEST_TIMEOUT_MS,
      maxBodyBytes: config.MAX_BODY_BYTES,
      corsOrigins: config.CORS_ORIGINS,
      isDraining,
    }, log);
  }

  private listen(port: number): Promise<FromFront> {
    return new Promise((resolve) => {
      this.app.listen(this.config.HOST, port, (socket) => {
        if (!socket) return resolve({ t: "listen-failed", error: `cannot listen on ${this.config.HOST}:${port} (in use or not permitted)` });
        this.socket = socket;
        resolve({ t: "listening", port: uWS.us_socket_local_port(socket), uws: uwsDescription, native: uwsNative, tid: currentTid() });
      });
    });
  }

  /** Handles a control message; returns the reply to post, if any. */
  async control(msg: ToFront): Promise<FromFront | undefined> {
    switch (msg.t) {
      case "listen":
        // A cluster front takes clients only once it has its bus link and the member list.
        await this.cluster?.ready;
        return this.listen(msg.port);
      case "actor-port":
        this.actors.setPort(msg.worker, msg.port);
        return undefined;
      case "actor-down":
        this.actors.workerDown(msg.worker);
        return undefined;
      case "lease.revoke":
        this.leases.revoke(msg.msg);
        return undefined;
      case "metrics":
        return { t: "metrics", id: msg.id, json: await this.metrics.registry.getMetricsAsJSON() };
      case "drain":
        await this.drain();
        return { t: "drained" };
      case "exit":
        // Force-close what is left (idle keep-alive sockets): a worker thread that ends
        // with uWS sockets still open aborts the whole process.
        (this.app as unknown as { close(): void }).close(); // present at run time, missing from this version's typings
        await (this.cluster ?? this.actors).close();
        this.rpc.close();
        this.metrics.stop();
        return undefined;
    }
  }

  private flushAudits(): void {
    const batch = this.audits;
    if (batch.length === 0) return;
    this.audits = [];
    this.auditsSent = this.rpc.call("datasets", "auditMany", [batch]).catch((err: unknown) =>
      this.log.warn({ err, entries: batch.length }, "audit events not delivered to the supervisor"),
    );
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.cluster?.startDrain();
    if (this.socket) uWS.us_listen_socket_close(this.socket);
    this.socket = undefined;
    this.ws.closeAll();
    this.sse.closeAll();
    const deadline = Date.now() + this.config.SHUTDOWN_GRACE_MS;
    while (this.http.inflight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // The last requests' audit entries reach the supervisor before this front stops.
    this.flushAudits();
    await this.auditsSent;
    // Unused GateChain units go back to the supervisor before this front stops.
    await this.leases.settled();
    await this.rpc.call("gates", "release", [this.leases.drain()]).catch((e: unknown) => this.log.warn({ err: e }, "returning lease units failed"));
    this.log.info("front drained");
  }
}
