import type { ActorHost, PublishInput, PublishOutcome } from "../actors/types.js";
import { AppError } from "../errors/index.js";
import type { StoredEvent } from "../log/event-log.js";
import { isValidId, newId, type ResourceKind, type ResourceRef } from "../registry/ids.js";
import type { Page, Registry, ResourceRecord } from "../registry/registry.js";

export interface Thread {
  readonly id: string;
  readonly tenantId: string;
  readonly title: string | null;
  readonly metadata: Record<string, unknown> | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly lastSeq: number;
}

const toThread = (r: ResourceRecord, lastSeq: number): Thread => ({
  id: r.id,
  tenantId: r.tenant,
  title: r.title,
  metadata: r.metadata,
  createdBy: r.createdBy,
  createdAt: r.createdAt,
  lastSeq,
});

/**
 * Threads and canvases over the registry and the actors. Every access is
 * checked against the acting tenant's namespace: an id of another tenant and
 * an id that does not exist are the same 404, decided by one keyed look-up.
 */
export class Resources {
  constructor(
    private readonly registry: Registry,
    private readonly actors: ActorHost,
    private readonly onAppended: (ref: ResourceRef) => void = () => {},
  ) {}

  async createThread(tenant: string, createdBy: string, body: { title?: string | undefined; metadata?: Record<string, unknown> | undefined }): Promise<Thread> {
    // Registered before we answer: WS/SSE access checks pass from the first moment (L1-T1).
    const { record } = await this.registry.register({ tenant, kind: "thread", id: newId("th_") }, { createdBy, title: body.title ?? null, metadata: body.metadata ?? null });
    return toThread(record, 0);
  }

  async getThread(tenant: string, id: string): Promise<Thread> {
    const record = await this.require({ tenant, kind: "thread", id });
    return toThread(record, (await this.actors.head(record)).lastSeq);
  }

  async listThreads(tenant: string, opts: { limit: number; cursor?: string | undefined }): Promise<Page<Thread>> {
    const page = await this.registry.list(tenant, "thread", opts);
    const items = await Promise.all(page.items.map(async (r) => toThread(r, (await this.actors.head(r)).lastSeq)));
    return { items, nextCursor: page.nextCursor };
  }

  /** Resolves a resource in the acting tenant's namespace or throws 404. */
  async require(ref: ResourceRef): Promise<ResourceRecord> {
    const record = isValidId(ref.id) ? await this.registry.get(ref) : undefined;
    if (!record) throw new AppError("ERR_NOT_FOUND");
    return record;
  }

  /** Canvases register on first publish or subscribe (L1-T3), atomically under races. */
  async ensureCanvas(tenant: string, id: string, by: string): Promise<ResourceRecord> {
    if (!isValidId(id)) throw new AppError("ERR_NOT_FOUND");
    return (await this.registry.register({ tenant, kind: "canvas", id }, { createdBy: by })).record;
  }

  /**
   * The access check's synchronous fast path: the resource when the registry
   * already holds it in memory (a front's cache), else undefined — then call
   * authorize. Spares the hot publish path three promises.
   */
  authorizeCached(tenant: string, kind: ResourceKind, id: string): ResourceRef | undefined {
    return this.registry.peek?.({ tenant, kind, id });
  }

  /** Access check used by publish and subscribe on any channel. */
  async authorize(tenant: string, kind: ResourceKind, id: string, by: string): Promise<ResourceRef> {
    return kind === "canvas" ? this.ensureCanvas(tenant, id, by) : this.require({ tenant, kind, id });
  }

  /** The event's seq and its data as JSON (see PublishOutcome); `created` is false for an idempotent repeat. */
  async publish(ref: ResourceRef, input: PublishInput): Promise<{ seq: number; json: string; created: boolean }> {
    const outcome: PublishOutcome = await this.actors.publish(ref, input);
    if (outcome.status === "conflict") {
      throw new AppError("ERR_CONFLICT", { details: { seq: outcome.seq } });
    }
    if (outcome.status === "created") this.onAppended(ref);
    return { seq: outcome.seq, json: outcome.json, created: outcome.status === "created" };
  }

  async history(ref: ResourceRef, after: number, limit: number): Promise<{ items: Record<string, unknown>[]; lastSeq: number }> {
    const page = await this.actors.history(ref, after, limit);
    return { items: page.events.map((e) => e.payload), lastSeq: page.head.lastSeq };
  }
}
