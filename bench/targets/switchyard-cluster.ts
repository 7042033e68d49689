// switchyard-cluster: three switchyard nodes (a, b, c) on one private
// nats-server (CHAT_BUS_BACKEND=nats, a random NATS_PREFIX, one shared HS256
// secret). Publishes go to node a; threads are created on node a and are
// handed out only once every node sees them (the registry is a NATS KV
// bucket, so another node may take a moment).
import { randomBytes } from "node:crypto";
import { natsUnavailable, startNats, type NatsServer } from "../lib/nats.js";
import { sleep, type CorePlan } from "../lib/system.js";
import { startSwitchyard, switchyardUnavailable, type SwitchyardNode } from "./switchyard.js";
import type { Capability, RunningTarget, ServerSetup, Target } from "./target.js";

export const CLUSTER_NODES = ["a", "b", "c"] as const;
/** How long a thread made on node a may take to become visible on the others. */
const VISIBLE_WITHIN_MS = 15_000;

async function waitVisible(nodes: readonly SwitchyardNode[], channels: string[], tenant: Parameters<SwitchyardNode["sees"]>[1]): Promise<void> {
  const deadline = Date.now() + VISIBLE_WITHIN_MS;
  let pending = nodes.flatMap((n) => channels.map((ch) => ({ n, ch })));
  for (let round = 0; pending.length > 0; round++) {
    const seen = await Promise.all(pending.map(({ n, ch }) => n.sees(ch, tenant)));
    pending = pending.filter((_, i) => !seen[i]);
    if (pending.length === 0) return;
    if (Date.now() >= deadline) throw new Error(`${pending.length} thread/node pairs still not_found after ${VISIBLE_WITHIN_MS} ms (e.g. ${pending[0]!.ch} on port ${pending[0]!.n.port})`);
    await sleep(Math.min(500, 50 * 2 ** round));
  }
}

export const switchyardClusterTarget: Target = {
  name: "switchyard-cluster",
  label: `switchyard ×${CLUSTER_NODES.length} (NATS)`,
  // Only the cluster scenario: the single-node scenarios measure one process.
  caps: new Set<Capability>(["cluster"]),
  unavailable: () => switchyardUnavailable() ?? natsUnavailable(),
  async start(plan: CorePlan, setup: ServerSetup = {}): Promise<RunningTarget> {
    const nats: NatsServer = await startNats(plan);
    const secret = randomBytes(32).toString("base64url");
    // A fresh prefix per run: stream and KV buckets never carry a previous run's state.
    const prefix = `bench_${randomBytes(4).toString("hex")}`;
    const started = await Promise.allSettled(CLUSTER_NODES.map((id) => startSwitchyard(plan, {
      ...setup,
      env: { ...setup.env, CHAT_BUS_BACKEND: "nats", NATS_URL: nats.url, NATS_PREFIX: prefix, NODE_ID: id },
    }, secret)));
    const nodes = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const stop = async (): Promise<void> => {
      await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
      await nats.stop();
    };
    const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await stop();
      throw new Error(`a cluster node did not start: ${(failed.reason as Error).message}`);
    }
    const a = nodes[0]!;
    return {
      pid: a.pid,
      port: a.port,
      nodes,
      cpuPids: [...nodes.map((n) => n.pid), nats.pid],
      sub: (via, kind, tenant) => a.sub(via, kind, tenant),
      pub: (via, kind, tenant) => a.pub(via, kind, tenant),
      async channels(kind, n, tenant = "bench"): Promise<string[]> {
        const out = await a.channels(kind, n, tenant);
        if (kind === "thread") await waitVisible(nodes, out, tenant);
        return out;
      },
      stop,
    };
  },
};
