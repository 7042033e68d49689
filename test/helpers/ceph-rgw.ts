import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { configFrom, type Config } from "../../src/config/index.js";

// A private Ceph cluster per test file: one mon, one memstore OSD and one
// radosgw on loopback, cephx on (with auth `none` radosgw never starts), all
// messenger ports in a window inside 20000–32700. Paxos intervals are cut so
// radosgw's pool creation takes ~3 s instead of ~12 s. Daemons run in the
// foreground as our children and are stopped by PID: rgw and osd before the
// mon, or they hang looking for it. Callers register `stop` with after() the
// moment this resolves.

const run = promisify(execFile);
const BINARIES = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "ceph-authtool", "monmaptool"];

export interface CephRgw {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** PID of the running radosgw, if any. */
  rgwPid(): number | undefined;
  /** Stops radosgw only (an outage); the mon and OSD keep the data. */
  stopRgw(): Promise<void>;
  /** Starts radosgw again on the same port, resolving when it answers HTTP. */
  startRgw(): Promise<void>;
  /** Teardown: rgw, osd, then mon, by PID; removes the temp dir. */
  stop(): Promise<void>;
}

/** Why the Ceph tests cannot run here, or undefined. Loud; in CI a missing binary is an error, not a skip. */
export function cephSkipReason(): string | undefined {
  const missing = BINARIES.filter((b) => spawnSync("sh", ["-c", `command -v ${b}`]).status !== 0);
  if (missing.length === 0) return undefined;
  const msg = `Ceph binaries missing (${missing.join(", ")}): run \`bash scripts/ceph-rgw.sh ensure\``;
  process.stderr.write(`\n## SKIPPING S3/RGW TESTS: ${msg}\n\n`);
  if (process.env.CI === "true") throw new Error(`${msg} (CI=true: refusing to skip)`);
  return msg;
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL"); // a crashed test run must not leave daemons behind
});

export async function startCephRgw(): Promise<CephRgw> {
  // One retry with fresh ports: another cluster on the machine may take a port
  // of our window between the check and the bind.
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), "sy-ceph-"));
    try {
      return await bootstrap(dir);
    } catch (e) {
      const detail = `${e instanceof Error ? e.message : String(e)}\n${logTails(dir)}`;
      rmSync(dir, { recursive: true, force: true });
      if (attempt >= 2) throw new Error(`Ceph RGW did not start: ${detail}`, { cause: e });
      process.stderr.write(`ceph-rgw: start failed, retrying once: ${detail}\n`);
    }
  }
}

/** The last lines of each daemon log, for a start-up failure message. */
function logTails(dir: string): string {
  const out: string[] = [];
  for (const name of ["mon.a", "osd.0", "client.rgw.a"]) {
    try {
      const lines = readFileSync(join(dir, `${name}.log`), "utf8").trimEnd().split("\n");
      out.push(`--- ${name}.log`, ...lines.slice(-5));
    } catch {
      // that daemon never got far enough to log
    }
  }
  return out.join("\n");
}

async function bootstrap(dir: string): Promise<CephRgw> {
  const base = await freeWindow(100);
  const monPort = base;
  const rgwPort = base + 99; // ms bind range below stops at base+98, so no daemon takes it
  const conf = join(dir, "ceph.conf");
  const keyring = join(dir, "keyring");
  const fsid = randomUUID();
  for (const d of ["mon", "osd", "run", "rgw"]) mkdirSync(join(dir, d));
  writeFileSync(conf, cephConf({ dir, fsid, monPort, rgwPort, msMin: base + 1, msMax: base + 98 }));
  const c = ["-c", conf];

  // Every key goes into the mkfs keyring with its caps; the mon imports them,
  // which saves three `ceph auth` round trips through the Python CLI.
  await run("ceph-authtool", ["--create-keyring", "--gen-key", "-n", "mon.", "--cap", "mon", "allow *", keyring]);
  await run("ceph-authtool", [keyring, "--gen-key", "-n", "client.admin", "--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *"]);
  await run("ceph-authtool", [keyring, "--gen-key", "-n", "osd.0", "--cap", "mon", "allow profile osd", "--cap", "osd", "allow *", "--cap", "mgr", "allow profile osd"]);
  await run("ceph-authtool", [keyring, "--gen-key", "-n", "client.rgw.a", "--cap", "mon", "allow rw", "--cap", "osd", "allow rwx"]);
  await run("monmaptool", ["--create", "--fsid", fsid, "--add", "a", `v1:127.0.0.1:${monPort}`, join(dir, "monmap")]);
  await run("ceph-mon", [...c, "-i", "a", "--mkfs", "--monmap", join(dir, "monmap"), "--keyring", keyring]);

  const mon = daemon("ceph-mon", [...c, "-i", "a", "-f"]);
  let osd: Daemon | undefined;
  let rgw: Daemon | undefined;
  const stopAll = async (): Promise<void> => {
    await rgw?.stop();
    await osd?.stop();
    await mon.stop();
  };
  try {
    const uuid = randomUUID();
    await run("ceph", [...c, "--connect-timeout", "20", "osd", "new", uuid, "0"], { timeout: 30_000 });
    await run("ceph-osd", [...c, "-i", "0", "--mkfs", "--osd-uuid", uuid]);
    osd = daemon("ceph-osd", [...c, "-i", "0", "-f"]);
    const rgwArgs = [...c, "-n", "client.rgw.a", "-f"];
    rgw = daemon("radosgw", rgwArgs);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitForHttp(endpoint, 60_000, rgw);
    const accessKeyId = `AK${randomBytes(9).toString("hex").toUpperCase()}`;
    const secretAccessKey = randomBytes(24).toString("base64url");
    await run("radosgw-admin", [...c, "user", "create", "--uid=switchyard-test", "--display-name=switchyard test",
      `--access-key=${accessKeyId}`, `--secret-key=${secretAccessKey}`], { timeout: 30_000 });
    return {
      endpoint,
      accessKeyId,
      secretAccessKey,
      region: "us-east-1",
      rgwPid: () => rgw?.pid(),
      stopRgw: async () => rgw?.stop(),
      startRgw: async () => {
        if (rgw?.pid() !== undefined) return;
        rgw = daemon("radosgw", rgwArgs);
        await waitForHttp(endpoint, 60_000, rgw);
      },
      stop: async () => {
        await stopAll();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

interface Daemon {
  pid(): number | undefined;
  exited(): boolean;
  stop(): Promise<void>;
}

function daemon(cmd: string, args: string[]): Daemon {
  // Output goes to the log files named in ceph.conf; stdio is ignored so a chatty daemon never blocks on a pipe.
  const child = spawn(cmd, args, { stdio: "ignore" });
  children.add(child);
  let done = false;
  const exit = new Promise<void>((r) => child.once("exit", () => {
    done = true;
    children.delete(child);
    r();
  }));
  return {
    pid: () => (done ? undefined : child.pid),
    exited: () => done,
    stop: async () => {
      if (done) return;
      child.kill("SIGTERM");
      // radosgw lingers for minutes after SIGTERM when the mon is slow; 3 s is plenty for a test cluster.
      const t = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exit;
      clearTimeout(t);
    },
  };
}

async function waitForHttp(endpoint: string, deadlineMs: number, d: Daemon): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (d.exited()) throw new Error(`radosgw exited during start; see its log in the test's temp dir`);
    try {
      const res = await fetch(endpoint, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`radosgw not answering at ${endpoint} within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A random window of `size` ports in 20000–32700 whose first and last ports are free now. */
async function freeWindow(size: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * (12700 - size));
    if ((await portFree(base)) && (await portFree(base + size - 1))) return base;
  }
  throw new Error("no free port window in 20000-32700");
}

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });

function cephConf(o: { dir: string; fsid: string; monPort: number; rgwPort: number; msMin: number; msMax: number }): string {
  return `[global]
fsid = ${o.fsid}
mon host = v1:127.0.0.1:${o.monPort}
public addr = 127.0.0.1
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
ms bind msgr2 = false
ms bind port min = ${o.msMin}
ms bind port max = ${o.msMax}
run dir = ${o.dir}/run
admin socket = ${o.dir}/run/$name.asok
log file = ${o.dir}/$name.log
keyring = ${o.dir}/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 536870912
# Each pool radosgw creates is a Paxos round; the 1 s default makes start-up ~12 s.
paxos propose interval = 0.05
paxos min wait = 0.01
[mon.a]
mon data = ${o.dir}/mon
[osd.0]
osd data = ${o.dir}/osd
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:${o.rgwPort}
rgw data = ${o.dir}/rgw
`;
}

/** The switchyard config that points RAW_STORAGE_BACKEND=s3 at this RGW. */
export function s3ConfigFor(rgw: CephRgw, bucket: string): Config {
  return configFrom({
    RAW_STORAGE_BACKEND: "s3",
    S3_BUCKET: bucket,
    S3_ENDPOINT: rgw.endpoint,
    S3_REGION: rgw.region,
    S3_FORCE_PATH_STYLE: "true",
    S3_ACCESS_KEY_ID: rgw.accessKeyId,
    S3_SECRET_ACCESS_KEY: rgw.secretAccessKey,
  });
}
