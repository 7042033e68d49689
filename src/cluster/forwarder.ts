import type { Logger } from "pino";
import type { PublishInput, PublishOutcome } from "../actors/types.js";
import type { WorkerActorHost } from "../actors/worker-host.js";
import { BusNoRespondersError, BusTimeoutError, type Bus, type Subjects, type Subscription } from "../bus/index.js";
import { AppError } from "../errors/index.js";
import { fromWire, toWire } from "../errors/wire.js";
import type { ResourceRef } from "../registry/ids.js";
import type { ClusterMetrics } from "./cluster-metrics.js";
import { decodeForward, decodeReply, encodeForward, encodeReply } from "./wire.js";

export interface ForwarderOptions {
  readonly nodeId: string;
  readonly bus: Bus;
  readonly subjects: Subjects;
  readonly local: WorkerActorHost;
  readonly forwardTimeoutMs: number;
  readonly metrics: ClusterMetrics;
  readonly log: Logger;
  /** undefined: nobody owns it now (no live members in this node's view). */
  owner(ref: ResourceRef): string | undefined;
  isOwner(ref: ResourceRef): boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Publish routing. The caller's deadline covers every attempt. A request that
 * finds no responder (the owner just died or restarts its front) or a "moved"
 * answer (the receiver's view differs) is retried after re-resolving the owner:
 * neither ran the publish, so a retry cannot duplicate. A timeout is not
 * retried — the owner may have appended — and surfaces as a retryable 504
 * (a client retry with the same clientMsgId is deduplicated by the owner).
 */
export class Forwarder {
  constructor(private readonly o: ForwarderOptions) {}

  async publish(ref: ResourceRef, input: PublishInput): Promise<PublishOutcome> {
    const deadline = Date.now() + this.o.forwardTimeoutMs;
    let lastReason = "no live cluster member owns it";
    for (let attempt = 0; ; attempt++) {
      const owner = this.o.owner(ref);
      if (owner === this.o.nodeId) return this.local(ref, input);
      const left = deadline - Date.now();
      if (owner !== undefined && left > 0) {
        const started = process.hrtime.bigint();
        try {
          const reply = decodeReply(await this.o.bus.request(this.o.subjects.owner(owner, ref), encodeForward(ref, input), left));
          this.o.metrics.forwardSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
          if (!reply) throw new AppError("ERR_INTERNAL", { message: `undecodable reply from node ${owner}` });
          if (reply.t === "ok") {
            this.o.metrics.forwards.inc({ result: "ok" });
            return reply.outcome as PublishOutcome;
          }
          if (reply.t === "err") {
            this.o.metrics.forwards.inc({ result: "error" });
            throw fromWire(reply.error);
          }
          lastReason = `node ${owner}: ${reply.reason}`;
          this.o.metrics.forwards.inc({ result: "moved" });
        } catch (e) {
          if (e instanceof BusTimeoutError) {
            this.o.metrics.forwards.inc({ result: "timeout" });
            throw new AppError("ERR_TIMEOUT", { message: `the owning node ${owner} did not answer in time; retry (with the same client id)`, retryAfterS: 1 });
          }
          if (!(e instanceof BusNoRespondersError)) throw e;
          lastReason = `node ${owner} has no responder`;
          this.o.metrics.forwards.inc({ result: "no_responders" });
        }
      }
      // The owner is leaving or views differ: wait for membership to settle, within the deadline.
      const wait = Math.min(500, 25 * 2 ** Math.min(attempt, 5));
      if (Date.now() + wait >= deadline) {
        throw new AppError("ERR_NOT_READY", { message: `resource owner unavailable (${lastReason}); retry`, retryAfterS: 1 });
      }
      await sleep(wait);
    }
  }

  private async local(ref: ResourceRef, input: PublishInput): Promise<PublishOutcome> {
    const out = await this.o.local.publish(ref, input);
    if (out.status === "created") this.o.metrics.busPublished.inc();
    return out;
  }

  /** Answers forwards addressed to this node; refuses (moved) what it does not own now. */
  serve(isDraining: () => boolean): Subscription {
    return this.o.bus.respond(this.o.subjects.ownerAll(this.o.nodeId), async (data) => {
      const req = decodeForward(data);
      if (!req) return encodeReply({ t: "err", error: toWire(new AppError("ERR_INVALID_REQUEST", { message: "bad forwarded publish" })) });
      if (isDraining()) return encodeReply({ t: "moved", reason: "draining" });
      if (!this.o.isOwner(req.ref)) return encodeReply({ t: "moved", reason: "not the owner in its view" });
      try {
        return encodeReply({ t: "ok", outcome: await this.local(req.ref, req.input) });
      } catch (e) {
        return encodeReply({ t: "err", error: toWire(e) });
      }
    });
  }
}
