import { readdirSync, readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** The kernel id of the calling thread (Linux: /proc/thread-self), or undefined where there is none. */
export function currentTid(): number | undefined {
  try {
    const m = /\/task\/(\d+)$/.exec(readlinkSync("/proc/thread-self"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The serving threads of a pool of workers, as their slots recorded them. */
export interface PoolThreads {
  /** False while a worker is down or has not reported its thread yet. */
  readonly all: boolean;
  readonly tids: number[];
}

/** The kernel ids reported by a pool's live workers (each slot's `tid` is set when its worker is up). */
export function poolThreads(slots: readonly { readonly worker: unknown; readonly tid: number | undefined }[]): PoolThreads {
  const tids: number[] = [];
  for (const s of slots) if (s.worker !== undefined && s.tid !== undefined) tids.push(s.tid);
  return { all: tids.length === slots.length, tids };
}

export interface Lowered {
  /** Threads set to the nice value. */
  readonly lowered: number;
  /** Threads already at or past it, or kept. */
  readonly left: number;
  /** Threads the kernel refused or that ended meanwhile. */
  readonly failed: number;
}

/**
 * Sets every thread of this process except `keep` to `nice`, never raising one
 * (an unprivileged process could not lower it back). The threads kept are the
 * ones that serve requests (the supervisor, each front, each actor worker);
 * the rest are V8's GC helpers and libuv's pool. On a node confined to one CPU
 * those helpers otherwise take the core in time slices of their own, and a
 * request waits behind them: reniced, they run in the gaps.
 */
export function lowerHelperThreads(keep: ReadonlySet<number>, nice: number, taskDir = "/proc/self/task"): Lowered {
  let lowered = 0;
  let left = 0;
  let failed = 0;
  let tids: string[];
  try {
    tids = readdirSync(taskDir);
  } catch {
    return { lowered, left, failed };
  }
  for (const name of tids) {
    const tid = Number(name);
    if (!Number.isInteger(tid) || keep.has(tid)) {
      left++;
      continue;
    }
    try {
      // On Linux a thread id is accepted where a pid is, and the priority is that thread's own.
      if (getPriority(tid) >= nice) left++;
      else {
        setPriority(tid, nice);
        lowered++;
      }
    } catch {
      failed++;
    }
  }
  return { lowered, left, failed };
}
