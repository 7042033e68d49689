import { parentPort, workerData } from "node:worker_threads";
import type { FromFront, FrontWorkerData, ToFront } from "../src/front/control.js";
import { FrontRuntime } from "../src/front/front-runtime.js";
import { createLogger } from "../src/observability/logger.js";

// Thin entry: logic lives in src/front/front-runtime.ts.
const data = workerData as FrontWorkerData;
const log = createLogger(data.config.LOG_LEVEL).child({ front: data.index });
const front = new FrontRuntime(data.config, data.index, data.rpc, data.jwtSecret, log);
const post = (m: FromFront) => parentPort?.postMessage(m);

parentPort?.on("message", (msg: ToFront) => {
  front.control(msg).then(
    (reply) => {
      if (reply) post(reply);
      // After "exit" nothing holds this thread: its sockets and ports are closed, so it ends on its own.
      if (msg.t === "exit") parentPort?.removeAllListeners("message"), parentPort?.close();
    },
    (e: unknown) => log.error({ err: e, control: msg.t }, "front control message failed"),
  );
});
