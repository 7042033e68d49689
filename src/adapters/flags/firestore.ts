import type { CollectionReference, DocumentData, Firestore } from "@google-cloud/firestore";
import type { AdapterHealth, FlagRecord } from "./flags.js";
import { RecordFlagStore, type FlagStoreOptions } from "./base.js";
import { unavailable, withTimeout } from "./errors.js";

export interface FirestoreFlagStoreOptions extends FlagStoreOptions {
  /** Namespaces the collections, so tests (and deployments) sharing a project stay apart. */
  readonly prefix?: string;
  readonly opTimeoutMs?: number;
  /** Health answers fast: /readyz must not wait out the SDK's retries. */
  readonly healthTimeoutMs?: number;
}

// Layout: <prefix>flags_global/k_<key> and <prefix>flags_tenants/t_<tenant>/flags/k_<key>.
// The k_/t_ prefixes matter: "." and ".." are valid flag keys and "__x__" a valid tenant id,
// all three forbidden as Firestore document ids.
export class FirestoreFlagStore extends RecordFlagStore {
  readonly backend = "firestore" as const;
  private readonly prefix: string;
  private readonly opTimeoutMs: number;
  private readonly healthTimeoutMs: number;

  constructor(private readonly db: Firestore, opts: FirestoreFlagStoreOptions = {}) {
    super(opts);
    this.prefix = opts.prefix ?? "";
    if (!/^[A-Za-z0-9_-]*$/.test(this.prefix)) throw new Error(`FirestoreFlagStore: bad prefix ${this.prefix}`);
    this.opTimeoutMs = opts.opTimeoutMs ?? 5000;
    this.healthTimeoutMs = opts.healthTimeoutMs ?? 2000;
  }

  private coll(owner: string | null): CollectionReference<DocumentData> {
    return owner === null
      ? this.db.collection(`${this.prefix}flags_global`)
      : this.db.collection(`${this.prefix}flags_tenants`).doc(`t_${owner}`).collection("flags");
  }

  /** SDK calls still running (a caller may have given up on them at its timeout; the SDK retries on). */
  private readonly inflight = new Set<Promise<unknown>>();

  private run<T>(what: string, op: () => Promise<T>, ms = this.opTimeoutMs): Promise<T> {
    const call = op();
    const tracked = call.then(() => undefined, () => undefined);
    this.inflight.add(tracked);
    void tracked.then(() => this.inflight.delete(tracked));
    return withTimeout(call, ms, `firestore ${what}`).catch((e: unknown) => {
      throw unavailable("firestore", e);
    });
  }

  protected readAll(owner: string | null): Promise<Map<string, FlagRecord>> {
    return this.run("list", async () => {
      const snap = await this.coll(owner).get();
      const out = new Map<string, FlagRecord>();
      for (const d of snap.docs) {
        const { key, rec } = fromDoc(d.data());
        if (key) out.set(key, rec);
      }
      return out;
    });
  }

  protected readOne(owner: string | null, key: string): Promise<FlagRecord | undefined> {
    return this.run("get", async () => {
      const snap = await this.coll(owner).doc(`k_${key}`).get();
      const data = snap.data();
      return data ? fromDoc(data).rec : undefined;
    });
  }

  protected upsert(owner: string | null, key: string, rec: FlagRecord): Promise<boolean> {
    const ref = this.coll(owner).doc(`k_${key}`);
    // A transaction, so "created" is exact when two admins PUT the same key at once.
    return this.run("put", () =>
      this.db.runTransaction(async (tx) => {
        const before = await tx.get(ref);
        tx.set(ref, { key, ...rec, description: rec.description ?? null });
        return !before.exists;
      }),
    );
  }

  protected remove(owner: string | null, key: string): Promise<boolean> {
    const ref = this.coll(owner).doc(`k_${key}`);
    return this.run("delete", () =>
      this.db.runTransaction(async (tx) => {
        const before = await tx.get(ref);
        if (before.exists) tx.delete(ref);
        return before.exists;
      }),
    );
  }

  async health(): Promise<AdapterHealth> {
    try {
      await this.run("health", () => this.coll(null).limit(1).get(), this.healthTimeoutMs);
      return { ok: true, backend: "firestore" };
    } catch (e) {
      return { ok: false, backend: "firestore", detail: e instanceof Error ? e.message : String(e) };
    }
  }

  /**
   * The Firestore client is injected and its owner terminates it; close waits (bounded) for
   * SDK calls this store started and abandoned at their timeout, since terminating a client
   * under a retrying call makes the SDK reject an internal promise nobody handles.
   */
  async close(waitMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }
}

function fromDoc(d: DocumentData): { key: string | undefined; rec: FlagRecord } {
  const rec: FlagRecord = {
    enabled: d.enabled === true,
    rollout: typeof d.rollout === "number" ? d.rollout : 100,
    updatedAt: typeof d.updatedAt === "string" ? d.updatedAt : new Date(0).toISOString(),
  };
  return {
    key: typeof d.key === "string" ? d.key : undefined,
    rec: typeof d.description === "string" ? { ...rec, description: d.description } : rec,
  };
}
