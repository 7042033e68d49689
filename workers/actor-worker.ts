import { parentPort, workerData } from "node:worker_threads";
import type { Config } from "../src/config/index.js";
import type { WorkerControl, WorkerStatus } from "../src/actors/protocol.js";
import { ActorWorkerRuntime } from "../src/actors/worker-runtime.js";

// Thin entry: logic lives in src/actors/worker-runtime.ts.
const { config, testHooks } = workerData as { config: Config; testHooks: boolean };
const runtime = new ActorWorkerRuntime(config);
const hog: unknown[] = [];

parentPort?.on("message", (msg: WorkerControl) => {
  if (msg.t === "attach") runtime.attach(msg.port as import("node:worker_threads").MessagePort);
  else if (msg.t === "drain") {
    void runtime.drain().then(() => parentPort?.postMessage({ t: "drained" } satisfies WorkerStatus));
  } else if (msg.t === "crash" && testHooks) {
    // Fault injection for the crash tests, enabled only by SWITCHYARD_TEST_HOOKS=1.
    if (msg.how === "exit") process.exit(3);
    if (msg.how === "oom") setInterval(() => hog.push(Array.from({ length: 100_000 }, (_, i) => ({ i }))), 1);
    else setImmediate(() => { throw new Error("injected actor worker crash"); });
  }
});
parentPort?.postMessage({ t: "ready" } satisfies WorkerStatus);
