import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { Config } from "../src/config/index.js";
import type { WorkerControl, WorkerStatus } from "../src/actors/protocol.js";
import { ActorWorkerRuntime } from "../src/actors/worker-runtime.js";
import { createLogger } from "../src/observability/logger.js";
import { currentTid } from "../src/supervisor/thread-priority.js";

// Thin entry: logic lives in src/actors/worker-runtime.ts.
const { config, index, testHooks } = workerData as { config: Config; index: number; testHooks: boolean };
const log = createLogger(config.LOG_LEVEL).child({ room: "actor-worker" });
const hog: unknown[] = [];
let runtime: ActorWorkerRuntime | undefined;
let stopping = false;

parentPort?.on("message", (msg: WorkerControl) => {
  if (msg.t === "attach") runtime?.attach(msg.port as MessagePort);
  else if (msg.t === "drain") {
    stopping = true;
    void (runtime?.drain() ?? Promise.resolve()).then(() => parentPort?.postMessage({ t: "drained" } satisfies WorkerStatus));
  } else if (msg.t === "metrics") {
    // Before the store is open there is nothing to report yet: an empty registry, not a stalled scrape.
    void (runtime?.metricsJson() ?? Promise.resolve([])).then((json) => parentPort?.postMessage({ t: "metrics", id: msg.id, json } satisfies WorkerStatus));
  } else if (msg.t === "crash" && testHooks) {
    // Fault injection for the crash tests, enabled only by SWITCHYARD_TEST_HOOKS=1.
    if (msg.how === "exit") process.exit(3);
    if (msg.how === "oom") setInterval(() => hog.push(Array.from({ length: 100_000 }, (_, i) => ({ i }))), 1);
    else setImmediate(() => { throw new Error("injected actor worker crash"); });
  }
});

// In a cluster the store is across the network: "ready" (and with it the ports from the fronts) waits for it.
void ActorWorkerRuntime.open(config, index, () => stopping, (m, e) => log.warn({ err: e }, m)).then((r) => {
  runtime = r;
  if (r) parentPort?.postMessage({ t: "ready", tid: currentTid() } satisfies WorkerStatus);
});
