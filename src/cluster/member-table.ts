// Liveness from heartbeats, as a pure table with an injected clock (so tests
// need no timers). Server 2.9 has no per-key TTL in KV, so a member is live
// while its last heartbeat is at most `ttlMs` old.
//
// Whose clock: a heartbeat seen live (a watch update) counts at the local
// receive time; one found in the initial snapshot counts at the entry's server
// timestamp, capped at now. So only the snapshot depends on the server's and
// this node's clocks agreeing, and only to the extent of their skew.

export class MemberTable {
  private readonly seen = new Map<string, number>();
  private last = "";

  constructor(private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  /** A heartbeat of `nodeId` observed at `at` (ms). Older observations never win over newer ones. */
  observe(nodeId: string, at: number = this.now()): void {
    const t = Math.min(at, this.now());
    if (t > (this.seen.get(nodeId) ?? -Infinity)) this.seen.set(nodeId, t);
  }

  /** A graceful leave (the member deleted its key): gone at once, not after the TTL. */
  remove(nodeId: string): void {
    this.seen.delete(nodeId);
  }

  live(): string[] {
    const now = this.now();
    const out: string[] = [];
    for (const [id, at] of this.seen) {
      if (now - at <= this.ttlMs) out.push(id);
      // Long-dead entries are dropped so the table stays bounded by the cluster's recent size.
      else if (now - at > 10 * this.ttlMs) this.seen.delete(id);
    }
    return out.sort();
  }

  /** Milliseconds since each known member's last heartbeat (for /readyz). */
  ages(): Record<string, number> {
    const now = this.now();
    return Object.fromEntries([...this.seen].map(([id, at]) => [id, now - at]));
  }

  /** The live list if it differs from the one returned by the previous call, else undefined. */
  changed(): string[] | undefined {
    const live = this.live();
    const sig = live.join(",");
    if (sig === this.last) return undefined;
    this.last = sig;
    return live;
  }
}
