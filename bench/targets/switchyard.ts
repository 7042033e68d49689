// The switchyard target: `node bin/switchyard.js start` as a pinned child with
// a throw-away DATA_DIR and HS256 secret, spoken to exactly as SPEC §5 says.
// Until the server is built this target reports itself unavailable and the
// peers run alone.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { z } from "zod";
import type { PubSpec, SubSpec } from "../lib/protocol.js";
import { freePort, sleep, stopChild, type CorePlan } from "../lib/system.js";
import { BENCH_TENANTS, spawnServer, type BenchTenant, type Capability, type ChannelKind, type RunningTarget, type ServerSetup, type Target } from "./target.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(ROOT, "bin", "switchyard.js");
// bin/switchyard.js loads the compiled CLI; either entry being built means the server is.
const ENTRIES = [join(ROOT, "dist", "src", "cli.js"), join(ROOT, "dist", "src", "main.js")];
const threadSchema = z.object({ id: z.string().min(1) });

async function mint(secret: string): Promise<string> {
  return new SignJWT({ tenants: [...BENCH_TENANTS] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("bench")
    .setIssuedAt()
    .setExpirationTime("6h")
    .sign(new TextEncoder().encode(secret));
}

async function waitReady(base: string, exited: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited()) {
    try {
      const r = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(exited() ? "switchyard exited before it was ready" : `switchyard not ready within ${timeoutMs} ms`);
}

/** null when switchyard is built, otherwise why it cannot run. */
export function switchyardUnavailable(): string | null {
  if (!existsSync(BIN)) return `not built (${BIN} missing)`;
  return ENTRIES.some((e) => existsSync(e)) ? null : `not built (${ENTRIES.join(" / ")} missing; run npm run build)`;
}

/** One running switchyard process, plus what the cluster target needs of a node. */
export interface SwitchyardNode extends RunningTarget {
  /** whether GET /chat/threads/{id} answers 200 on this node (a thread made on another node may take a moment) */
  sees(channel: string, tenant?: BenchTenant): Promise<boolean>;
}

export const switchyardTarget: Target = {
  name: "switchyard",
  label: "switchyard",
  // cluster: runs the cluster scenario's workload on one node, the baseline for switchyard-cluster.
  caps: new Set<Capability>(["ws", "sse", "durable", "gates", "cluster"]),
  unavailable: switchyardUnavailable,
  start: (plan, setup) => startSwitchyard(plan, setup ?? {}),
};

/**
 * Starts one switchyard process. `secret`: the HS256 secret, shared by the
 * nodes of a cluster so one token is good on every node (random otherwise).
 */
export async function startSwitchyard(plan: CorePlan, setup: ServerSetup, secret = randomBytes(32).toString("base64url")): Promise<SwitchyardNode> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "switchyard-bench-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...setup.env,
    PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, AUTH_JWT_SECRET: secret,
    APP_ENV: "dev", LOG_LEVEL: "warn",
  };
  delete env.AUTH_JWT_PUBLIC_KEY; // exactly one key kind may be set
  // The data dir goes with the process, however it ends (stop, crash, interrupted run).
  const s = spawnServer([BIN, "start"], plan, { cwd: ROOT, env, nodeArgs: setup.nodeArgs, onGone: () => rmSync(dataDir, { recursive: true, force: true }) });
  const base = `http://127.0.0.1:${port}`;
  const cleanup = async (): Promise<void> => {
    await stopChild(s.child, 5_000);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitReady(base, () => s.child.exitCode !== null || s.child.signalCode !== null, 30_000);
  } catch (err) {
    await cleanup();
    await s.settled(1_000);
    const how = s.child.exitCode ?? s.child.signalCode;
    throw new Error(`${(err as Error).message}${how === null ? "" : ` (exit ${how})`}; output:\n${s.tail() || "(none)"}`);
  }
  const token = await mint(secret);
  const q = (tenant: BenchTenant): string => `access_token=${encodeURIComponent(token)}&tenant_id=${tenant}`;
  const headers = (tenant: BenchTenant): Record<string, string> => ({ authorization: `Bearer ${token}`, "x-tenant-id": tenant });
  const sseBase = (kind: ChannelKind): string => (kind === "thread" ? "sse/threads" : "sse/canvas");

  async function createThread(tenant: BenchTenant): Promise<string> {
    const r = await fetch(`${base}/chat/threads`, {
      method: "POST", headers: { ...headers(tenant), "content-type": "application/json" },
      body: JSON.stringify({ title: "bench" }), signal: AbortSignal.timeout(15_000),
    });
    const body: unknown = await r.json().catch(() => null);
    if (r.status !== 201) throw new Error(`POST /chat/threads → ${r.status} ${JSON.stringify(body)}`);
    return `thread:${threadSchema.parse(body).id}`;
  }

  return {
    pid: s.child.pid ?? -1,
    port,
    async sees(channel, tenant = "bench"): Promise<boolean> {
      const id = channel.slice(channel.indexOf(":") + 1);
      const r = await fetch(`${base}/chat/threads/${encodeURIComponent(id)}`, { headers: headers(tenant), signal: AbortSignal.timeout(5_000) }).catch(() => null);
      await r?.body?.cancel().catch(() => undefined);
      return r?.status === 200;
    },
    sub(via, kind, tenant = "bench"): SubSpec {
      if (via === "ws") return { proto: "json-ws", url: `ws://127.0.0.1:${port}/ws?${q(tenant)}` };
      // lastEventId=0 resumes from the start: every event of a fresh resource, however the
      // stream's registration races the first publish.
      return { proto: "sse", url: `${base}/${sseBase(kind)}/{id}?${q(tenant)}&lastEventId=0` };
    },
    pub(via, kind, tenant = "bench"): PubSpec {
      if (via === "ws") return { via: "json-ws", url: `ws://127.0.0.1:${port}/ws?${q(tenant)}`, data: kind, headers: {}, acks: true };
      const path = kind === "thread" ? "chat/threads/{id}/messages" : "canvas/{id}/events";
      return { via: "http", url: `${base}/${path}`, data: kind, headers: headers(tenant), acks: true };
    },
    async channels(kind, n, tenant = "bench"): Promise<string[]> {
      if (kind === "canvas") {
        const run = randomBytes(4).toString("hex");
        return Array.from({ length: n }, (_, i) => `canvas:bench-${run}-${i}`);
      }
      const out: string[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < n) {
          next++;
          out.push(await createThread(tenant));
        }
      };
      await Promise.all(Array.from({ length: Math.min(16, n) }, worker));
      return out;
    },
    stop: cleanup,
  };
}
