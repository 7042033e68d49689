import { resourceKey, type ResourceKind, type ResourceRef } from "./ids.js";
import type { Page, RegisterInput, Registry, ResourceRecord } from "./registry.js";

/**
 * A front's registry: positive look-ups are cached forever (an entry never
 * changes once written), bounded by dropping the oldest entries. Misses always
 * ask the backing registry, so an id created a moment ago is found at once.
 */
export class CachedRegistry implements Registry {
  private readonly cache = new Map<string, ResourceRecord>();

  constructor(private readonly backing: Registry, private readonly max = 200_000) {}

  private remember(r: ResourceRecord): ResourceRecord {
    if (this.cache.size >= this.max) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(resourceKey(r), r);
    return r;
  }

  async register(ref: ResourceRef, input: RegisterInput): Promise<{ record: ResourceRecord; created: boolean }> {
    const hit = this.cache.get(resourceKey(ref));
    if (hit) return { record: hit, created: false };
    const r = await this.backing.register(ref, input);
    this.remember(r.record);
    return r;
  }

  /** The record if it is cached, without a promise (the hot path's common case); undefined otherwise. */
  peek(ref: ResourceRef): ResourceRecord | undefined {
    return this.cache.get(resourceKey(ref));
  }

  async get(ref: ResourceRef): Promise<ResourceRecord | undefined> {
    const hit = this.cache.get(resourceKey(ref));
    if (hit) return hit;
    const r = await this.backing.get(ref);
    return r ? this.remember(r) : undefined;
  }

  list(tenant: string, kind: ResourceKind, opts: { limit: number; cursor?: string | undefined }): Promise<Page<ResourceRecord>> {
    return this.backing.list(tenant, kind, opts);
  }

  async close(): Promise<void> {}
}
