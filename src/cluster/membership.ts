import { jetstream, StorageType } from "@nats-io/jetstream";
import { Kvm, KvWatchInclude, type KV, type KvEntry } from "@nats-io/kv";
import { z } from "zod";
import type { NatsConnection } from "../bus/nats.js";
import { subjects, type Subjects } from "../bus/subjects.js";
import { AppError } from "../errors/index.js";
import { MemberTable } from "./member-table.js";

// Cluster membership in a JetStream KV bucket (`<prefix>_members`): each node
// puts `<nodeId>` every `heartbeatMs`; every node watches the bucket and keeps a
// MemberTable. A node is live while its last heartbeat is ≤ `ttlMs` old; a
// graceful stop deletes the key so the others drop it at once.
//
// Failover bound: a node killed with -9 leaves the live list within
// ttlMs + sweepMs (defaults 3000 + 250 ms) on every other node. A node that
// cannot reach NATS stops heartbeating and, after ttlMs, also drops itself from
// its own list — so it stops claiming ownership instead of splitting the cluster.

const valueSchema = z.object({ nodeId: z.string(), startedAt: z.number(), at: z.number() });

export interface MembershipOptions {
  readonly prefix: string;
  readonly nodeId: string;
  readonly heartbeatMs?: number;
  /** Liveness window; keep ≥ 3 heartbeats so two lost beats do not evict a member. */
  readonly ttlMs?: number;
  readonly replicas?: number;
  readonly now?: () => number;
}

export type MembersListener = (members: readonly string[]) => void;

export class Membership {
  private readonly listeners = new Set<MembersListener>();
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private watcher: { stop(): void } | undefined;
  private beating = false;
  private stopped = false;
  private lastError: string | undefined;

  private constructor(
    private readonly kv: KV,
    private readonly s: Subjects,
    private readonly table: MemberTable,
    private readonly opts: Required<Pick<MembershipOptions, "nodeId" | "heartbeatMs" | "ttlMs" | "now">>,
  ) {
    this.startedAt = opts.now();
  }

  /** Joins: opens the bucket, starts watching, puts the first heartbeat. */
  static async start(nc: NatsConnection, options: MembershipOptions): Promise<Membership> {
    const s = subjects(options.prefix);
    s.memberKey(options.nodeId); // validates the id before anything is written
    const heartbeatMs = options.heartbeatMs ?? 1_000;
    const ttlMs = options.ttlMs ?? 3 * heartbeatMs;
    const now = options.now ?? Date.now;
    let kv: KV;
    try {
      kv = await new Kvm(jetstream(nc, { timeout: Math.max(heartbeatMs, 1_000) })).create(s.membersBucket, {
        history: 1,
        replicas: options.replicas ?? 1,
        storage: StorageType.File,
        // Bucket-wide max age (2.9 has no per-key TTL): keys of long-dead nodes disappear.
        ttl: Math.max(60_000, 10 * ttlMs),
      });
    } catch (e) {
      throw new AppError("ERR_NOT_READY", { message: "membership bucket unavailable", cause: e, retryAfterS: 1 });
    }
    const m = new Membership(kv, s, new MemberTable(ttlMs, now), { nodeId: options.nodeId, heartbeatMs, ttlMs, now });
    await m.watch();
    await m.loadSnapshot();
    await m.beat();
    m.timer = setInterval(() => void m.beat(), heartbeatMs);
    m.sweeper = setInterval(() => m.evaluate(), Math.max(50, Math.min(250, heartbeatMs / 4)));
    m.timer.unref();
    m.sweeper.unref();
    return m;
  }

  get nodeId(): string {
    return this.opts.nodeId;
  }

  /** Live members, sorted; the input of placement. */
  members(): string[] {
    return this.table.live();
  }

  /** Called with the new list whenever the live set changes (join, leave, expiry). */
  onChange(listener: MembersListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** For /readyz: this node, the live list, heartbeat ages, the last heartbeat error. */
  state(): { nodeId: string; members: string[]; heartbeatAgeMs: Record<string, number>; lastError: string | null } {
    return { nodeId: this.nodeId, members: this.members(), heartbeatAgeMs: this.table.ages(), lastError: this.lastError ?? null };
  }

  /** Graceful leave: stop beating and delete the key so the others react at once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.sweeper);
    this.watcher?.stop();
    await this.kv.delete(this.s.memberKey(this.nodeId)).catch(() => undefined);
    this.listeners.clear();
  }

  private async beat(): Promise<void> {
    // One heartbeat in flight at most: a slow server must not pile them up.
    if (this.beating || this.stopped) return;
    this.beating = true;
    try {
      const at = this.opts.now();
      await this.kv.put(this.s.memberKey(this.nodeId), JSON.stringify({ nodeId: this.nodeId, startedAt: this.startedAt, at }));
      // Our own put succeeded: we are live as of now (the watch will say so too, a moment later).
      this.table.observe(this.nodeId, at);
      this.lastError = undefined;
    } catch (e) {
      this.lastError = e instanceof Error ? e.message : String(e);
    } finally {
      this.beating = false;
      this.evaluate();
    }
  }

  private async watch(): Promise<void> {
    const it = await this.kv.watch({ include: KvWatchInclude.UpdatesOnly });
    this.watcher = it;
    void (async () => {
      for await (const e of it) this.apply(e, this.opts.now());
    })().catch((e: unknown) => (this.lastError = `watch ended: ${String(e)}`));
  }

  private async loadSnapshot(): Promise<void> {
    for await (const key of await this.kv.keys()) {
      const e = await this.kv.get(key);
      if (e) this.apply(e, e.created.getTime());
    }
  }

  private apply(e: KvEntry, at: number): void {
    if (e.operation !== "PUT") this.table.remove(e.key);
    else if (isHeartbeat(e.value)) this.table.observe(e.key, at);
    this.evaluate();
  }

  private evaluate(): void {
    const changed = this.table.changed();
    if (!changed || this.stopped) return;
    for (const l of this.listeners) {
      try {
        l(changed);
      } catch {
        // One listener's failure must not hide the change from the others.
      }
    }
  }
}

function isHeartbeat(value: Uint8Array): boolean {
  try {
    return valueSchema.safeParse(JSON.parse(new TextDecoder().decode(value))).success;
  } catch {
    return false; // not JSON: someone else's key in our bucket; ignore it
  }
}
