// How fast this machine's disk makes a small write durable. Switchyard acks
// and fans out an event only after its commit's fdatasync, so its latency
// tails include the disk's: on a virtual disk whose fdatasync p99 is 13 ms
// with 300 ms stalls, a quiet tenant's delivery p99 moves with them. Probed
// once per run where the servers' data directories live.
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface FsyncProbe {
  readonly dir: string;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** fdatasyncs slower than 20 ms: each one is a stall every durable ack behind it waits out */
  readonly over20Ms: number;
}

const BLOCK = Buffer.alloc(4096, 0x61);
/** Offsets cycle over 1 MiB, as a WAL's writes do between checkpoints. */
const SPAN = 256;

/** fdatasync of a 4 KB write, paced `gapMs` apart, for `durationMs`. */
export async function probeFsync(dir = tmpdir(), durationMs = 3_000, gapMs = 5): Promise<FsyncProbe> {
  const file = join(dir, `.bench-fsync-${process.pid}`);
  const fd = openSync(file, "w");
  const lat: number[] = [];
  try {
    const end = performance.now() + durationMs;
    for (let i = 0; performance.now() < end && i < 100_000; i++) {
      writeSync(fd, BLOCK, 0, BLOCK.length, (i % SPAN) * BLOCK.length);
      const t = performance.now();
      fdatasyncSync(fd);
      lat.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  lat.sort((a, b) => a - b);
  const at = (q: number): number => Math.round((lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? 0) * 100) / 100;
  return { dir, samples: lat.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1), over20Ms: lat.filter((x) => x > 20).length };
}

export const describeFsync = (p: FsyncProbe): string =>
  `disk: fdatasync of 4 KB in ${p.dir}: p50 ${p.p50Ms} / p99 ${p.p99Ms} / max ${p.maxMs} ms over ${p.samples} samples (${p.over20Ms} over 20 ms); durable acks wait for it`;
