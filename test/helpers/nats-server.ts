import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

// A private nats-server (JetStream on, temp store dir) per test file, on a port
// chosen beforehand in 20000–32700 so that stop()/start() brings it back on the
// same port (a restart test) — ports in the ephemeral range can be taken by an
// outgoing connection while the server is down. Callers register `destroy` with
// after()/t.after() the moment this resolves.

export interface TestServer {
  readonly port: number;
  readonly url: string;
  pid(): number | undefined;
  /** Stops the process (SIGTERM, SIGKILL after 5 s) and waits for its exit; the data dir stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port (and store), resolving once it accepts connections. */
  start(): Promise<void>;
  /** stop() and remove temp dirs: the teardown. */
  destroy(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

export function binarySkipReason(bin: string, pkg: string): string | undefined {
  if (spawnSync(bin, ["--version"], { encoding: "utf8" }).status === 0) return undefined;
  const msg = `${bin} not on PATH: apt-get install -y ${pkg}`;
  process.stderr.write(`\n## ${msg}\n`);
  if (process.env.CI === "true") throw new Error(`${msg} (CI=true: refusing to skip)`);
  return msg;
}

export const natsSkipReason = (): string | undefined => binarySkipReason("nats-server", "nats-server");

export { freePort };

/** Resolves when a TCP connect to the port succeeds and the server speaks first (NATS INFO / Redis PING reply). */
export async function waitForPort(port: number, deadlineMs: number, probe?: string): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.setTimeout(500);
      s.once("connect", () => {
        if (probe) s.write(probe);
      });
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
    if (Date.now() > until) throw new Error(`port ${port} not ready within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Spawns `cmd` and manages it as a TestServer on `port`. */
export function managedProcess(cmd: string, args: () => string[], port: number, url: string, dirs: string[], probe?: string): TestServer {
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once("exit", () => r()));
    c.kill("SIGTERM");
    const t = setTimeout(() => c.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(t);
    running.delete(c);
  };
  const start = async (): Promise<void> => {
    if (child) return;
    const c = spawn(cmd, args(), { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    c.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child = c;
    running.add(c);
    const died = new Promise<never>((_, reject) => c.once("exit", (code) => reject(new Error(`${cmd} exited (${code}): ${stderr}`))));
    died.catch(() => undefined);
    await Promise.race([waitForPort(port, 10_000, probe), died]);
  };
  return {
    port,
    url,
    pid: () => child?.pid,
    stop,
    start,
    destroy: async () => {
      await stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

export async function startNatsServer(): Promise<TestServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sy-nats-"));
  const server = managedProcess(
    "nats-server",
    () => ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", join(dir, "store")],
    port,
    `nats://127.0.0.1:${port}`,
    [dir],
  );
  await server.start();
  return server;
}
