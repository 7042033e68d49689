import type { Logger } from "../../observability/logger.js";
import { SinkError, type DatasetSink } from "./datasets.js";
import type { DatasetSpool } from "./spool.js";

export interface DrainerOptions {
  readonly batchSize?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly writeTimeoutMs?: number;
  readonly now?: () => Date;
}

export interface DrainerHooks {
  /** A batch failed: the backend is (still) unavailable. */
  onFailure(reason: string): void;
  /** The spool is empty and the backend just proved it works (a write or a health probe). */
  onDrained(): void;
  /** True while the owner runs on the fallback: an idle drainer then probes the backend's health. */
  degraded(): boolean;
  onProgress(written: number): void;
}

// Moves spooled events to the real backend, oldest first, one batch at a time. A batch leaves
// the spool only after the backend confirmed it; if we crash in between, the next run writes
// it again and the backend's idempotency by eventId (doc id / insertId) absorbs the repeat.
// The write itself is the health probe: while the backend is down we retry with capped
// exponential backoff and full jitter, so a fleet does not hammer a recovering service.
export class SpoolDrainer {
  private stopped = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private wroteOk = false;
  private batchSize: number;
  private readonly o: Required<DrainerOptions>;

  constructor(private readonly spool: DatasetSpool, private readonly sink: DatasetSink, private readonly hooks: DrainerHooks, private readonly logger: Logger, opts: DrainerOptions = {}) {
    this.o = { batchSize: 200, baseDelayMs: 200, maxDelayMs: 30_000, writeTimeoutMs: 10_000, now: () => new Date(), ...opts };
    this.batchSize = this.o.batchSize;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** New events were spooled: stop idling (but not a backoff wait, which keeps the pace). */
  kick(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const batch = this.spool.peek(this.batchSize);
      if (batch.length === 0) {
        if (this.wroteOk) {
          this.wroteOk = false;
          this.hooks.onDrained();
        } else if (this.hooks.degraded()) {
          // Nothing to write, but the fallback must end when the backend is back, not at the
          // next event: probe its health on the same backoff.
          if (await this.probe()) this.hooks.onDrained();
          else await this.idle(this.backoff(++this.failures));
          continue;
        }
        await this.idle(undefined);
        continue;
      }
      try {
        await this.writeWithTimeout(batch);
        this.spool.remove(batch.map((e) => e.eventId));
        this.failures = 0;
        this.wroteOk = true;
        this.batchSize = this.o.batchSize;
        this.hooks.onProgress(batch.length);
      } catch (e) {
        const err = e instanceof SinkError ? e : new SinkError(e instanceof Error ? e.message : String(e), { retryable: true, cause: e });
        if (err.rejected.size > 0) {
          this.bury(err.rejected);
          continue;
        }
        if (!err.retryable) {
          // The backend refuses the batch as a whole; isolate the culprit one event at a time.
          if (batch.length > 1) this.batchSize = 1;
          else this.bury(new Map([[batch[0]!.eventId, err.message]]));
          continue;
        }
        this.wroteOk = false;
        this.hooks.onFailure(err.message);
        await this.idle(this.backoff(++this.failures));
      }
    }
  }

  private bury(rejected: ReadonlyMap<string, string>): void {
    this.spool.bury(rejected, this.o.now());
    this.logger.error({ adapter: "datasets", backend: this.sink.backend, rejected: Object.fromEntries(rejected) }, "backend rejected dataset events; moved to the spool's dead table");
  }

  private async probe(): Promise<boolean> {
    try {
      await this.withTimeout(this.sink.health().then((h) => {
        if (!h.ok) throw new Error(h.detail ?? "unhealthy");
      }));
      this.failures = 0;
      return true;
    } catch {
      return false;
    }
  }

  private backoff(failures: number): number {
    const cap = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.min(failures - 1, 20));
    return Math.max(this.o.baseDelayMs / 2, Math.random() * cap);
  }

  private writeWithTimeout(batch: Parameters<DatasetSink["write"]>[0]): Promise<void> {
    return this.withTimeout(this.sink.write(batch));
  }

  private async withTimeout(p: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        p,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${this.o.writeTimeoutMs} ms`)), this.o.writeTimeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for kick()/stop(), or for ms when given. A kick does not cut a backoff short. */
  private idle(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms).unref(); // the spool is durable: never hold the process open
      this.wake = ms === undefined ? done : () => (this.stopped ? done() : undefined);
    });
  }
}
