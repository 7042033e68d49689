import type { AppendEntry, EventLog } from "../log/event-log.js";

/** What a committer reports, for metrics; called after each durable commit. */
export interface CommitObserver {
  /** One transaction: how long it took (fsync included) and how many events it held. */
  committed(seconds: number, events: number): void;
  /** One append request became durable this long after it was made (waiting behind earlier commits included). */
  appended(seconds: number): void;
}

interface Pending {
  readonly at: number;
  readonly entries: readonly AppendEntry[];
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * Group commit: appends requested during one turn of the event loop, by any
 * number of actors, go to the log as one transaction (one fsync). Under load
 * this turns thousands of small appends per second into a few large ones.
 * If a shared batch is refused, each actor's part is retried alone so one
 * stale resource cannot fail its neighbours.
 */
export class Committer {
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private lastCommit = Number.NEGATIVE_INFINITY;

  /**
   * `windowMs`: a commit starts at least this long after the previous one
   * began (an appender after a quiet spell still commits on the next turn).
   * Off by default: a synchronous commit already batches what arrives while
   * it runs, and on the rooms bench (2,000 threads × 1 msg/s, 2026-11-27)
   * a 5 ms window halved the commits but saved no CPU (35.5–44 % vs
   * 35.6–36.8 %) and moved delivery p50 from 0.7 to 3.5 ms.
   */
  constructor(
    private readonly log: EventLog,
    private readonly maxBatch = 2000,
    private readonly windowMs = 0,
    private readonly observer?: CommitObserver,
  ) {}

  append(entries: readonly AppendEntry[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ at: performance.now(), entries, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        const start = (): void => {
          this.scheduled = false;
          this.flushing = this.flushing.then(() => this.flush());
        };
        const wait = this.lastCommit + this.windowMs - performance.now();
        if (wait >= 1) setTimeout(start, wait);
        else setImmediate(start);
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch: Pending[] = [];
      let size = 0;
      while (this.queue.length > 0 && size < this.maxBatch) {
        const p = this.queue.shift() as Pending;
        batch.push(p);
        size += p.entries.length;
      }
      try {
        await this.commit(batch, size);
      } catch (e) {
        if (batch.length === 1) {
          batch[0]?.reject(e);
          continue;
        }
        for (const p of batch) {
          try {
            await this.commit([p], p.entries.length);
          } catch (err) {
            p.reject(err);
          }
        }
      }
    }
  }

  private async commit(batch: readonly Pending[], size: number): Promise<void> {
    const started = performance.now();
    this.lastCommit = started;
    await this.log.append(batch.length === 1 ? (batch[0] as Pending).entries : batch.flatMap((p) => p.entries));
    const done = performance.now();
    this.observer?.committed((done - started) / 1000, size);
    for (const p of batch) {
      this.observer?.appended((done - p.at) / 1000);
      p.resolve();
    }
  }
}
