import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { currentTid, lowerHelperThreads, poolThreads } from "../../src/supervisor/thread-priority.js";

const linux = existsSync("/proc/thread-self");
const moduleUrl = pathToFileURL(new URL("../../src/supervisor/thread-priority.js", import.meta.url).pathname).href;

// Renicing threads is done in a child process, so the test runner's own threads keep their priority.
const child = `
import { Worker } from "node:worker_threads";
import { readdirSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { currentTid, lowerHelperThreads } from ${JSON.stringify(moduleUrl)};
const w = new Worker(\`
  import { parentPort } from "node:worker_threads";
  import { currentTid } from ${JSON.stringify(moduleUrl)};
  parentPort.postMessage(currentTid());
  setInterval(() => {}, 1000);
\`, { eval: true });
const worker = await new Promise((r) => w.once("message", r));
const main = currentTid();
const tasks = () => readdirSync("/proc/self/task").map(Number);
const helper = tasks().find((t) => t !== main && t !== worker);
setPriority(helper, 12);
const first = lowerHelperThreads(new Set([main, worker]), 7);
const nice = Object.fromEntries(tasks().map((t) => [t, getPriority(t)]));
const again = lowerHelperThreads(new Set([main, worker]), 7);
console.log(JSON.stringify({ pid: process.pid, main, worker, helper, first, again, nice }));
process.exit(0);
`;

describe("thread priority", { skip: !linux && "needs Linux /proc" }, () => {
  it("currentTid is the pid on the main thread", () => {
    assert.equal(currentTid(), process.pid);
  });

  it("lowers every thread but the kept ones, never raises one, and a second pass changes nothing", () => {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", child], { encoding: "utf8", timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      pid: number; main: number; worker: number; helper: number;
      first: { lowered: number; left: number; failed: number }; again: { lowered: number; left: number; failed: number };
      nice: Record<string, number>;
    };
    assert.equal(out.main, out.pid);
    assert.ok(Number.isInteger(out.worker) && out.worker !== out.main, "a worker thread has a kernel id of its own");
    assert.equal(out.nice[out.main], 0);
    assert.equal(out.nice[out.worker], 0);
    assert.equal(out.nice[out.helper], 12, "a thread already lower than asked stays where it was");
    const others = Object.entries(out.nice).filter(([t]) => ![out.main, out.worker, out.helper].includes(Number(t)));
    assert.ok(others.length >= 3, `V8's and libuv's threads were there to lower (${others.length})`);
    for (const [tid, n] of others) assert.equal(n, 7, `thread ${tid}`);
    assert.equal(out.first.lowered, others.length);
    assert.equal(out.first.failed, 0);
    assert.deepEqual(out.again, { lowered: 0, left: Object.keys(out.nice).length, failed: 0 });
  });

  it("a missing task directory lowers nothing", () => {
    assert.deepEqual(lowerHelperThreads(new Set(), 5, "/nonexistent/task"), { lowered: 0, left: 0, failed: 0 });
  });
});

describe("poolThreads", () => {
  it("reports every live worker's thread, and all only when each slot has one", () => {
    assert.deepEqual(poolThreads([{ worker: {}, tid: 11 }, { worker: {}, tid: 12 }]), { all: true, tids: [11, 12] });
    // A worker down, and one up but not yet reported: neither counts, so the pool is not complete.
    assert.deepEqual(poolThreads([{ worker: undefined, tid: 11 }, { worker: {}, tid: undefined }, { worker: {}, tid: 13 }]), { all: false, tids: [13] });
    assert.deepEqual(poolThreads([]), { all: true, tids: [] });
  });
});
