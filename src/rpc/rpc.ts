import type { MessagePort } from "node:worker_threads";
import { AppError } from "../errors/index.js";
import { fromWire, toWire, type WireError } from "../errors/wire.js";

// A minimal request/response layer over a MessagePort, used between fronts
// and the supervisor for everything that is not on the per-message hot path
// (registry misses, adapters, admin routes, metrics). Arguments and results
// are structured-cloned; errors travel as WireError and come back as AppError.

type Call = { readonly t: "call"; readonly id: number; readonly svc: string; readonly method: string; readonly args: unknown[] };
type Result = { readonly t: "result"; readonly id: number; readonly ok: true; readonly value: unknown } | { readonly t: "result"; readonly id: number; readonly ok: false; readonly error: WireError };

// eslint-style note: services are plain objects of async methods; `unknown` arguments keep the proxy honest.
export type ServiceTable = Record<string, Record<string, (...args: never[]) => unknown>>;

/** Supervisor side: answers calls on `port` from the given services (only their own methods). */
export function serveRpc(port: MessagePort, services: ServiceTable, onError?: (e: unknown, where: string) => void): void {
  port.on("message", (msg: Call) => {
    if (msg?.t !== "call") return;
    const svc = services[msg.svc];
    const fn = svc && Object.hasOwn(svc, msg.method) ? svc[msg.method] : undefined;
    const run = async () => {
      if (typeof fn !== "function") throw new AppError("ERR_INTERNAL", { message: `no such service method ${msg.svc}.${msg.method}` });
      return (fn as (...a: unknown[]) => unknown).apply(svc, msg.args);
    };
    run().then(
      (value) => port.postMessage({ t: "result", id: msg.id, ok: true, value } satisfies Result),
      (e: unknown) => {
        if (!(e instanceof AppError) || e.status >= 500) onError?.(e, `${msg.svc}.${msg.method}`);
        port.postMessage({ t: "result", id: msg.id, ok: false, error: toWire(e) } satisfies Result);
      },
    );
  });
}

export interface RpcClient {
  call<T>(svc: string, method: string, args: unknown[]): Promise<T>;
  /** A typed proxy whose methods forward to `svc` on the other side. */
  service<T extends object>(svc: string): T;
  close(): void;
}

export function rpcClient(port: MessagePort, timeoutMs: number): RpcClient {
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void; timer: NodeJS.Timeout }>();
  port.on("message", (msg: Result) => {
    if (msg?.t !== "result") return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(fromWire(msg.error));
  });
  const call = <T>(svc: string, method: string, args: unknown[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new AppError("ERR_TIMEOUT", { retryAfterS: 1 }));
      }, timeoutMs);
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      port.postMessage({ t: "call", id, svc, method, args } satisfies Call);
    });
  return {
    call,
    service<T extends object>(svc: string): T {
      return new Proxy({} as T, {
        // `then` must stay undefined or awaiting the proxy itself would call across the port.
        get: (_t, method) => (typeof method === "string" && method !== "then" ? (...args: unknown[]) => call(svc, method, args) : undefined),
      });
    },
    close() {
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new AppError("ERR_DRAINING"));
      }
      pending.clear();
      port.close();
    },
  };
}

/** The view of a service across the port: every method returns a promise. */
export type Remote<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };
