import type { MessagePort } from "node:worker_threads";
import type { Config } from "../config/index.js";
import type { LeaseRevoke } from "../gatechain/lease-protocol.js";

// Messages between the supervisor and a front worker on the worker's parentPort.

export interface FrontWorkerData {
  readonly config: Config;
  readonly index: number;
  readonly jwtSecret: string | undefined;
  /** The front's end of its RPC channel to the supervisor. */
  readonly rpc: MessagePort;
}

export type ToFront =
  | { readonly t: "listen"; readonly port: number }
  | { readonly t: "actor-port"; readonly worker: number; readonly port: MessagePort }
  | { readonly t: "actor-down"; readonly worker: number }
  | { readonly t: "lease.revoke"; readonly msg: LeaseRevoke }
  | { readonly t: "metrics"; readonly id: number }
  | { readonly t: "drain" }
  | { readonly t: "exit" };

export type FromFront =
  /** `tid`: the front thread's kernel id (see WorkerStatus "ready"). */
  | { readonly t: "listening"; readonly port: number; readonly uws: string; readonly native: boolean; readonly tid?: number }
  | { readonly t: "listen-failed"; readonly error: string }
  | { readonly t: "metrics"; readonly id: number; readonly json: unknown }
  | { readonly t: "drained" };
