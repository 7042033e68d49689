import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort } from "./ports.js";
import { Firestore } from "@google-cloud/firestore";

// The official Firestore emulator (Debian package google-cloud-cli-firestore-emulator), started
// as `java` directly so that stopping it by PID leaves nothing behind (the gcloud wrapper
// orphans its java child). Its websocket UI port is set to 0: by default it is port+17000,
// which collides between parallel runs and overflows above port 48535.

export const EMULATOR_PROJECT = "demo-test";

// Without this, google-auth probes for a GCE metadata server on a client's first call (1-5 s
// here, then a MetadataLookupWarning); the emulator needs no credentials at all.
process.env.METADATA_SERVER_DETECTION ??= "none";

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of running) c.kill("SIGKILL"); // never leave a 235 MB java behind a crashed test
});
const PKG = "google-cloud-cli-firestore-emulator";

export function findEmulatorJar(): string | undefined {
  const fromEnv = process.env.FIRESTORE_EMULATOR_JAR;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const r = spawnSync("dpkg", ["-L", PKG], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  return r.stdout.split("\n").find((l) => l.endsWith("emulator.jar") && existsSync(l));
}

/**
 * For `describe(..., { skip })`: undefined when the emulator can run. Otherwise a loud message
 * on stderr, and — under CI=true — an exception, because CI must fail rather than skip.
 */
export function emulatorSkipReason(): string | undefined {
  const jar = findEmulatorJar();
  const java = spawnSync("java", ["-version"], { encoding: "utf8" }).status === 0;
  if (jar && java) return undefined;
  const why = !java ? "java is not on PATH" : `package ${PKG} is not installed (dpkg -L found no emulator.jar)`;
  const msg = `FIRESTORE EMULATOR UNAVAILABLE: ${why}. Run scripts/firestore-emulator.sh check.`;
  process.stderr.write(`\n${"#".repeat(72)}\n## ${msg}\n${"#".repeat(72)}\n`);
  if (process.env.CI === "true") throw new Error(`${msg} (CI=true: refusing to skip)`);
  return msg;
}


export interface FirestoreEmulator {
  readonly port: number;
  readonly host: string;
  /** A new client bound to this emulator (no env vars needed). Close it when done. */
  client(): Firestore;
  /** Deletes every document of the project. */
  reset(): Promise<void>;
  /** Stops java (SIGTERM, then SIGKILL) and waits for it to exit; clients stay usable. */
  stop(): Promise<void>;
  /** Teardown: terminates every client made by client(), then stops java. */
  dispose(): Promise<void>;
  /** Starts it again on the same port (data is gone: the emulator keeps it in memory). */
  start(): Promise<void>;
  readonly running: boolean;
}

export async function startFirestoreEmulator(opts: { port?: number; timeoutMs?: number } = {}): Promise<FirestoreEmulator> {
  const jar = findEmulatorJar();
  if (!jar) throw new Error(`${PKG} is not installed`);
  const port = opts.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = "";
  const clients: Firestore[] = [];

  const launch = async (): Promise<void> => {
    output = "";
    const c = spawn(
      "java",
      ["-Xmx512m", "-cp", jar, "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
        "--host=127.0.0.1", `--port=${port}`, "--websocket_port=0", `--project_id=${EMULATOR_PROJECT}`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = c;
    running.add(c);
    c.once("exit", () => running.delete(c));
    c.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    c.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      if (c.exitCode !== null) throw new Error(`firestore emulator exited (${c.exitCode}):\n${output}`);
      try {
        const r = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) });
        if (r.ok && (await r.text()).trim() === "Ok") return;
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    c.kill("SIGKILL");
    throw new Error(`firestore emulator not ready on ${host} within the deadline:\n${output}`);
  };

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    c.kill("SIGTERM");
    const timer = setTimeout(() => c.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  // The first gRPC call after start pays for JIT and channel set-up (seconds on a busy 2-core
  // machine); pay it here so no test's own timeout absorbs it.
  const warm = new Firestore({ projectId: EMULATOR_PROJECT, host, ssl: false });
  await warm.collection("warmup").limit(1).get();
  await warm.terminate();
  return {
    port,
    host,
    get running() {
      return child !== undefined && child.exitCode === null;
    },
    client() {
      const db = new Firestore({ projectId: EMULATOR_PROJECT, host, ssl: false });
      clients.push(db);
      return db;
    },
    async reset() {
      const url = `http://${host}/emulator/v1/projects/${EMULATOR_PROJECT}/databases/(default)/documents`;
      const r = await fetch(url, { method: "DELETE" });
      if (!r.ok) throw new Error(`emulator reset failed: ${r.status}`);
    },
    stop,
    async dispose() {
      await Promise.allSettled(clients.splice(0).map((c) => c.terminate()));
      await stop();
    },
    start: launch,
  };
}
