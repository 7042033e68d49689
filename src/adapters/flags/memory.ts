import type { AdapterHealth, FlagChange, FlagRecord } from "./flags.js";
import { RecordFlagStore, type FlagStoreOptions } from "./base.js";

/** Complete, deterministic flag store for single-node dev and tests; clock injectable. */
export class MemoryFlagStore extends RecordFlagStore {
  readonly backend = "memory" as const;
  // "" is the global owner: tenant ids are never empty.
  private readonly owners = new Map<string, Map<string, FlagRecord>>();
  private readonly listeners = new Set<(c: FlagChange) => void>();

  constructor(opts: FlagStoreOptions = {}) {
    super(opts);
  }

  protected async readAll(owner: string | null): Promise<Map<string, FlagRecord>> {
    return new Map(this.owners.get(owner ?? ""));
  }

  protected async readOne(owner: string | null, key: string): Promise<FlagRecord | undefined> {
    return this.owners.get(owner ?? "")?.get(key);
  }

  protected async upsert(owner: string | null, key: string, rec: FlagRecord): Promise<boolean> {
    let m = this.owners.get(owner ?? "");
    if (!m) this.owners.set(owner ?? "", (m = new Map()));
    const created = !m.has(key);
    m.set(key, rec);
    this.emit({ tenantId: owner, key });
    return created;
  }

  protected async remove(owner: string | null, key: string): Promise<boolean> {
    const existed = this.owners.get(owner ?? "")?.delete(key) ?? false;
    if (existed) this.emit({ tenantId: owner, key });
    return existed;
  }

  watch(listener: (c: FlagChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(c: FlagChange): void {
    for (const l of this.listeners) l(c);
  }

  async health(): Promise<AdapterHealth> {
    return { ok: true, backend: "memory" };
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
