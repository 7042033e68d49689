import type { NatsConnection } from "../../bus/index.js";
import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import type { AdapterHealth, FlagChange, FlagRecord } from "./flags.js";
import { RecordFlagStore, type FlagStoreOptions } from "./base.js";
import { unavailable, withTimeout } from "./errors.js";

export interface NatsKvFlagStoreOptions extends FlagStoreOptions {
  /** Bucket is `<prefix>_flags`; tests pass a random prefix and destroy the bucket after. */
  readonly prefix: string;
  readonly replicas?: number;
  readonly opTimeoutMs?: number;
}

type Cached = { rev: number; rec: FlagRecord | null };

// Flags in a JetStream KV bucket, shared by the cluster. Reads come from a local cache fed by a
// watch over the whole bucket, so every node sees a change as soon as the server delivers it and
// a read costs no round trip. Writes go to the server with compare-and-set on the key revision.
// KV keys: g.<b64url(key)> and t.<tenant>.<b64url(key)> — flag keys may contain "." and "..",
// which would split or empty KV key tokens; base64url never does.
const SYNC_KEY = "sync";
const enc = (key: string) => Buffer.from(key, "utf8").toString("base64url");
const dec = (token: string) => Buffer.from(token, "base64url").toString("utf8");
const kvKey = (owner: string | null, key: string) => (owner === null ? `g.${enc(key)}` : `t.${owner}.${enc(key)}`);

function parseKvKey(k: string): FlagChange | undefined {
  const parts = k.split(".");
  if (parts[0] === "g" && parts.length === 2) return { tenantId: null, key: dec(parts[1]!) };
  if (parts[0] === "t" && parts.length === 3) return { tenantId: parts[1]!, key: dec(parts[2]!) };
  return undefined;
}

export class NatsKvFlagStore extends RecordFlagStore {
  readonly backend = "nats" as const;
  private readonly cache = new Map<string, Cached>();
  private readonly listeners = new Set<(c: FlagChange) => void>();
  private watchAlive = false;
  private syncSeen = 0;
  private syncWaiter: (() => void) | undefined;
  private stopWatch: (() => void) | undefined;

  private constructor(private readonly nc: NatsConnection, private readonly kv: KV, private readonly opTimeoutMs: number, opts: FlagStoreOptions) {
    super(opts);
  }

  static bucketName(prefix: string): string {
    return `${prefix}_flags`;
  }

  /** Opens (or creates) the bucket and returns once the cache holds everything stored so far. */
  static async open(nc: NatsConnection, opts: NatsKvFlagStoreOptions): Promise<NatsKvFlagStore> {
    const opTimeoutMs = opts.opTimeoutMs ?? 5000;
    try {
      const kv = await withTimeout(
        new Kvm(nc).create(NatsKvFlagStore.bucketName(opts.prefix), { history: 1, replicas: opts.replicas ?? 1 }),
        opTimeoutMs, "nats kv create");
      const store = new NatsKvFlagStore(nc, kv, opTimeoutMs, opts);
      await store.startWatch();
      return store;
    } catch (e) {
      throw unavailable("nats", e);
    }
  }

  private async startWatch(): Promise<void> {
    const iter = await this.kv.watch();
    this.watchAlive = true;
    this.stopWatch = () => iter.stop();
    void (async () => {
      try {
        for await (const e of iter) this.apply(e);
      } finally {
        this.watchAlive = false;
      }
    })();
    // Barrier: a put after the watch started is delivered after every earlier entry (stream
    // order), so once the watch shows a sync revision ≥ ours, the cache is complete.
    const rev = await this.kv.put(SYNC_KEY, String(Date.now()));
    if (this.syncSeen < rev) {
      await withTimeout(new Promise<void>((resolve) => (this.syncWaiter = resolve)), this.opTimeoutMs, "nats kv watch sync");
    }
  }

  private apply(e: KvEntry): void {
    if (e.key === SYNC_KEY) {
      this.syncSeen = Math.max(this.syncSeen, e.revision);
      this.syncWaiter?.();
      return;
    }
    const change = parseKvKey(e.key);
    if (!change) return;
    const rec = e.operation === "PUT" ? parseRecord(e) : null;
    if (this.setCached(e.key, { rev: e.revision, rec })) for (const l of this.listeners) l(change);
  }

  /** Only newer revisions win: a local write may be cached before its watch echo arrives. */
  private setCached(k: string, v: Cached): boolean {
    const cur = this.cache.get(k);
    if (cur && cur.rev >= v.rev) return false;
    this.cache.set(k, v);
    return true;
  }

  private live(): void {
    if (this.nc.isClosed()) throw unavailable("nats", new Error("connection closed"));
  }

  protected async readAll(owner: string | null): Promise<Map<string, FlagRecord>> {
    this.live();
    const start = owner === null ? "g." : `t.${owner}.`;
    const out = new Map<string, FlagRecord>();
    for (const [k, v] of this.cache) {
      if (!k.startsWith(start) || !v.rec) continue;
      const c = parseKvKey(k);
      if (c) out.set(c.key, v.rec);
    }
    return out;
  }

  protected async readOne(owner: string | null, key: string): Promise<FlagRecord | undefined> {
    this.live();
    return this.cache.get(kvKey(owner, key))?.rec ?? undefined;
  }

  protected async upsert(owner: string | null, key: string, rec: FlagRecord): Promise<boolean> {
    const k = kvKey(owner, key);
    const data = JSON.stringify(rec);
    return this.op("put", async () => {
      // CAS loop: "created" must be exact even when two nodes write the same key at once.
      for (let attempt = 0; ; attempt++) {
        const cur = await this.kv.get(k);
        const exists = cur !== null && cur.operation === "PUT";
        try {
          const rev = exists ? await this.kv.update(k, data, cur.revision) : await this.createOrReplaceMarker(k, data, cur);
          this.setCached(k, { rev, rec });
          return !exists;
        } catch (e) {
          if (attempt < 5 && isWrongLastSequence(e)) continue;
          throw e;
        }
      }
    });
  }

  // A deleted key keeps a DEL marker; create() accepts that, update() on the marker would too.
  private createOrReplaceMarker(k: string, data: string, cur: KvEntry | null): Promise<number> {
    return cur === null ? this.kv.create(k, data) : this.kv.update(k, data, cur.revision);
  }

  protected async remove(owner: string | null, key: string): Promise<boolean> {
    const k = kvKey(owner, key);
    return this.op("delete", async () => {
      for (let attempt = 0; ; attempt++) {
        const cur = await this.kv.get(k);
        if (cur === null || cur.operation !== "PUT") return false;
        try {
          await this.kv.delete(k, { previousSeq: cur.revision });
          this.setCached(k, { rev: cur.revision + 0.5, rec: null }); // the DEL's revision is higher still
          return true;
        } catch (e) {
          if (attempt < 5 && isWrongLastSequence(e)) continue;
          throw e;
        }
      }
    });
  }

  private async op<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.live();
    try {
      return await withTimeout(fn(), this.opTimeoutMs, `nats kv ${what}`);
    } catch (e) {
      throw unavailable("nats", e);
    }
  }

  watch(listener: (c: FlagChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async health(): Promise<AdapterHealth> {
    if (this.nc.isClosed()) return { ok: false, backend: "nats", detail: "connection closed" };
    if (!this.watchAlive) return { ok: false, backend: "nats", detail: "watch stopped" };
    return { ok: true, backend: "nats" };
  }

  async close(): Promise<void> {
    this.stopWatch?.();
    this.listeners.clear();
  }
}

function parseRecord(e: KvEntry): FlagRecord | null {
  try {
    const r = e.json<Partial<FlagRecord>>();
    if (typeof r.enabled !== "boolean" || typeof r.rollout !== "number" || typeof r.updatedAt !== "string") return null;
    const rec: FlagRecord = { enabled: r.enabled, rollout: r.rollout, updatedAt: r.updatedAt };
    return typeof r.description === "string" ? { ...rec, description: r.description } : rec;
  } catch {
    return null; // a foreign or corrupt value reads as absent rather than breaking the cache
  }
}

function isWrongLastSequence(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 10071 || (e instanceof Error && /wrong last sequence/i.test(e.message));
}
