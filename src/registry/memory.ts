import { resourceKey, type ResourceKind, type ResourceRef } from "./ids.js";
import type { Page, RegisterInput, Registry, ResourceRecord } from "./registry.js";

export class MemoryRegistry implements Registry {
  private readonly records = new Map<string, ResourceRecord>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  async register(ref: ResourceRef, input: RegisterInput): Promise<{ record: ResourceRecord; created: boolean }> {
    const key = resourceKey(ref);
    const existing = this.records.get(key);
    if (existing) return { record: existing, created: false };
    const record: ResourceRecord = {
      ...ref,
      createdBy: input.createdBy,
      createdAt: this.now().toISOString(),
      title: input.title ?? null,
      metadata: input.metadata ?? null,
    };
    this.records.set(key, record);
    return { record, created: true };
  }

  async get(ref: ResourceRef): Promise<ResourceRecord | undefined> {
    return this.records.get(resourceKey(ref));
  }

  async list(tenant: string, kind: ResourceKind, opts: { limit: number; cursor?: string | undefined }): Promise<Page<ResourceRecord>> {
    const all = [...this.records.values()]
      .filter((r) => r.tenant === tenant && r.kind === kind && r.id > (opts.cursor ?? ""))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const items = all.slice(0, opts.limit);
    const last = items.at(-1);
    return { items, nextCursor: all.length > opts.limit && last ? last.id : null };
  }

  async close(): Promise<void> {}
}
