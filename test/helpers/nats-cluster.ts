import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { NatsBus } from "../../src/bus/nats.js";
import { freePort, managedProcess, type TestServer } from "./nats-server.js";
import { after } from "node:test";
import type { WsClient } from "./clients.js";
import { spawnServer, tmpDataDir, type ChildServer } from "./server.js";

// Real clusters for the cluster tests: a 3-server JetStream cluster on
// loopback (ports in 20000–32700, so a stopped server can come back on its
// ports), and switchyard nodes as child processes sharing one NATS prefix.

export interface NatsCluster {
  readonly servers: TestServer[];
  /** Comma-separated client URLs of all servers, as NATS_URL takes them. */
  readonly url: string;
  destroy(): Promise<void>;
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "sy-natsc-"));
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })));
  const servers = ports.map((p, i) => {
    const conf = join(dir, `n${i}.conf`);
    const routes = ports.filter((_, j) => j !== i).map((q) => `nats-route://127.0.0.1:${q.route}`);
    writeFileSync(
      conf,
      [
        `server_name: n${i}`,
        `listen: 127.0.0.1:${p.client}`,
        `jetstream { store_dir: "${join(dir, `store${i}`)}" }`,
        `cluster { name: sy, listen: 127.0.0.1:${p.route}, routes: [${routes.join(", ")}] }`,
      ].join("\n"),
    );
    return managedProcess("nats-server", () => ["-c", conf], p.client, `nats://127.0.0.1:${p.client}`, []);
  });
  const cluster: NatsCluster = {
    servers,
    url: servers.map((s) => s.url).join(","),
    destroy: async () => {
      await Promise.all(servers.map((s) => s.destroy()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(servers.map((s) => s.start()));
    // Electing the JetStream meta leader took over 20 s once in CI, with another test file running beside
    // this one on two cores (alone: ~3 s); the bound is for a cluster that never forms.
    await waitForJetStream(cluster.url, 45_000);
  } catch (e) {
    await cluster.destroy();
    throw e;
  }
  return cluster;
}

/** Until the cluster has a JetStream meta leader, API calls fail: wait for a stream create/delete to work. */
export async function waitForJetStream(url: string, ms: number): Promise<void> {
  const bus = await NatsBus.connect({ servers: url });
  try {
    const name = `probe_${randomBytes(3).toString("hex")}`;
    await pollUntil(async () => {
      try {
        const jsm = await jetstreamManager(bus.connection, { timeout: 1000 });
        await jsm.streams.add({ name, subjects: [`${name}.>`], num_replicas: 3 });
        await jsm.streams.delete(name);
        return true;
      } catch {
        return false;
      }
    }, ms, "JetStream in the NATS cluster");
  } finally {
    await bus.close();
  }
}

export interface ClusterNode extends ChildServer {
  readonly nodeId: string;
}

/** A random NATS prefix per test run, so runs never see each other's streams and buckets. */
export const randomPrefix = (): string => `t${randomBytes(4).toString("hex")}`;

/** Spawns switchyard nodes `ids` as child processes with a shared cluster env; each gets its own DATA_DIR. */
export async function spawnNodes(ids: string[], env: Record<string, string>, track: ClusterNode[]): Promise<ClusterNode[]> {
  return Promise.all(
    ids.map(async (nodeId) => {
      const dataDir = tmpDataDir();
      const s = await spawnServer({ ACTOR_WORKERS: "1", FRONT_WORKERS: "1", NODE_ID: nodeId, DATA_DIR: dataDir, LOG_LEVEL: "info", ...env });
      const node = Object.assign(s, { nodeId });
      track.push(node);
      return node;
    }),
  );
}

/** Stops every node (SIGKILL: their state is in NATS) and removes their data dirs. */
export async function killNodes(nodes: ClusterNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.kill("SIGKILL")));
  for (const n of nodes) rmSync(n.dataDir, { recursive: true, force: true });
}

export async function readyz(node: ChildServer): Promise<{ status: number; body: { checks: Record<string, unknown> } }> {
  const res = await node.api("/readyz").catch(() => undefined);
  if (!res) return { status: 0, body: { checks: {} } };
  return { status: res.status, body: (await res.json()) as { checks: Record<string, unknown> } };
}

/** Polls an async condition with a bounded deadline (no fixed sleeps). */
export async function pollUntil(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until every node is ready and sees exactly `members` live. */
export async function waitForMembers(nodes: ChildServer[], members: string[], ms = 15_000): Promise<void> {
  const want = [...members].sort().join(",");
  await pollUntil(async () => {
    const all = await Promise.all(nodes.map((n) => readyz(n)));
    return all.every((r) => {
      const seen = r.body.checks.frontMembers;
      return r.status === 200 && Array.isArray(seen) && [...seen].sort().join(",") === want;
    });
  }, ms, `members ${want} on every node`);
}

/** Every message of a thread, paging through history. */
export async function fullHistory(node: ChildServer, id: string, token: string, tenant: string): Promise<{ seq: number; text: string; clientMsgId: string | null }[]> {
  const out: { seq: number; text: string; clientMsgId: string | null }[] = [];
  for (;;) {
    const after = out.at(-1)?.seq ?? 0;
    let res = await node.api(`/chat/threads/${id}/messages?after=${after}&limit=500`, { token, tenant });
    // A 503 is the documented "retry" (e.g. while a JetStream leader is elected); anything else fails.
    for (let i = 0; res.status === 503 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 200));
      res = await node.api(`/chat/threads/${id}/messages?after=${after}&limit=500`, { token, tenant });
    }
    assert.equal(res.status, 200, await res.clone().text());
    const page = (await res.json()) as { items: { seq: number; text: string; clientMsgId: string | null }[]; lastSeq: number };
    out.push(...page.items);
    if (page.items.length === 0 || (out.at(-1)?.seq ?? 0) >= page.lastSeq) return out;
  }
}


/** 1..n, the gapless sequence a resource's first n events must have. */
export const seqs = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/**
 * What a cluster test owns — its NATS server(s), its nodes and its WS clients —
 * with teardown registered at once: clients closed, nodes killed, NATS stopped.
 */
export function clusterFixture<N extends { destroy(): Promise<void> }>(): { nats: N | undefined; nodes: ClusterNode[]; clients: WsClient[] } {
  const f: { nats: N | undefined; nodes: ClusterNode[]; clients: WsClient[] } = { nats: undefined, nodes: [], clients: [] };
  after(async () => {
    for (const c of f.clients) c.close();
    await killNodes(f.nodes);
    await f.nats?.destroy();
  });
  return f;
}
