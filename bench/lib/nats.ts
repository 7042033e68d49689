// A private nats-server for the cluster scenario: JetStream on, a temp store
// dir, 127.0.0.1 and a free port, pinned with the servers, stopped by PID.
// (The same approach as test/helpers/nats-server.ts; bench code does not import tests.)
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, sleep, stopChild, type CorePlan } from "./system.js";

export interface NatsServer {
  readonly pid: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** Every nats-server still running with its store dir: an interrupted run must not leave one behind. */
const live = new Map<ChildProcess, string>();
process.once("exit", () => {
  for (const [c, dir] of live) {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

/** null when nats-server can run here, otherwise why not. */
export function natsUnavailable(): string | null {
  const r = spawnSync("nats-server", ["--version"], { encoding: "utf8", timeout: 5_000 });
  return r.status === 0 ? null : "nats-server not on PATH (apt-get install -y nats-server)";
}

/** Resolves once the port accepts a connection and the server speaks first (NATS sends INFO). */
async function waitInfo(port: number, exited: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited()) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.setTimeout(500);
      s.once("data", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
      s.once("timeout", () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(exited() ? "nats-server exited before it accepted connections" : `nats-server not ready within ${timeoutMs} ms`);
}

export async function startNats(plan: CorePlan): Promise<NatsServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-nats-"));
  const args = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", join(dir, "store")];
  // Pinned with the switchyard nodes: the cluster's whole server side shares the server cores.
  const child = plan.serverCores.length > 0
    ? spawn("taskset", ["-c", plan.serverCores.join(","), "nats-server", ...args], { stdio: ["ignore", "ignore", "pipe"] })
    : spawn("nats-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  live.set(child, dir);
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2_000)));
  const stop = async (): Promise<void> => {
    await stopChild(child, 5_000);
    live.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitInfo(port, () => child.exitCode !== null || child.signalCode !== null, 10_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}: ${stderr.trim() || "(no output)"}`);
  }
  return { pid: child.pid ?? -1, url: `nats://127.0.0.1:${port}`, stop };
}
