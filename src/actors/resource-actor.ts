import type { EventLog, StoredEvent, StreamHead } from "../log/event-log.js";
import type { ResourceRef } from "../registry/ids.js";
import type { Committer } from "./committer.js";
import { bodyHashOf, buildEvent, dedupeKeyOf } from "./payload.js";
import type { EventSink, PublishInput, PublishOutcome } from "./types.js";

interface Job {
  readonly input: PublishInput;
  resolve(o: PublishOutcome): void;
  reject(e: unknown): void;
}

/**
 * The single owner of one resource. It takes its mailbox one batch at a time
 * (never interleaving two batches across a storage await), assigns the next
 * seqs, resolves idempotency keys, appends, and only after the append is
 * durable acknowledges and emits (the output gate).
 */
export class ResourceActor {
  /**
   * Made on the first publish after an idle spell, dropped when taken. An empty
   * array kept across the ~1 s between a thread's publishes would be promoted to
   * the old generation, and once it held the next publish's jobs and died there,
   * it would keep them, their promises and their data alive through every young
   * GC until the next full one (measured on the rooms bench, see bench/README).
   */
  private mailbox: Job[] | undefined;
  private running = false;
  private head: StreamHead | undefined;
  lastUsed = Date.now();

  constructor(
    readonly ref: ResourceRef,
    private readonly log: EventLog,
    private readonly committer: Committer,
    private readonly emit: EventSink,
    private readonly now: () => number = Date.now,
  ) {}

  get idle(): boolean {
    return !this.running && this.mailbox === undefined;
  }

  publish(input: PublishInput): Promise<PublishOutcome> {
    this.lastUsed = this.now();
    return new Promise((resolve, reject) => {
      (this.mailbox ??= []).push({ input, resolve, reject });
      if (!this.running) void this.run();
    });
  }

  /** Current head, loading it once; runs outside the mailbox because it only reads. */
  async currentHead(): Promise<StreamHead> {
    this.lastUsed = this.now();
    if (!this.head) this.head = await this.log.head(this.ref);
    return this.head;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.mailbox !== undefined) {
        const batch = this.mailbox;
        this.mailbox = undefined;
        await this.process(batch);
      }
    } finally {
      this.running = false;
    }
  }

  private async process(batch: Job[]): Promise<void> {
    let head: StreamHead;
    try {
      head = await this.currentHead();
    } catch (e) {
      for (const job of batch) job.reject(e);
      return;
    }
    // Every key of the batch is looked up at once (the log may answer them together).
    let stored: (StoredEvent | undefined)[];
    try {
      stored = await Promise.all(batch.map((job) => {
        const key = dedupeKeyOf(job.input);
        return key === null ? undefined : this.log.findByDedupeKey(this.ref, key);
      }));
    } catch (e) {
      for (const job of batch) job.reject(e);
      return;
    }
    const fresh: { job: Job; event: StoredEvent; json: string }[] = [];
    const inBatch = new Map<string, StoredEvent>();
    for (const [i, job] of batch.entries()) {
      try {
        const key = dedupeKeyOf(job.input);
        if (key !== null) {
          const seen = inBatch.get(key) ?? stored[i];
          if (seen) {
            job.resolve(seen.bodyHash === bodyHashOf(job.input) ? { status: "duplicate", seq: seen.seq, json: JSON.stringify(seen.payload) } : { status: "conflict", seq: seen.seq });
            continue;
          }
        }
        const event = buildEvent(this.ref, job.input, head.lastSeq + fresh.length + 1, this.now());
        if (key !== null) inBatch.set(key, event);
        fresh.push({ job, event, json: JSON.stringify(event.payload) });
      } catch (e) {
        job.reject(e);
      }
    }
    if (fresh.length === 0) return;
    try {
      await this.committer.append(fresh.map(({ event, json }) => ({ ref: this.ref, event, json })));
    } catch (e) {
      // The head may be stale (another owner appended): reload before the next batch.
      this.head = undefined;
      for (const { job } of fresh) job.reject(e);
      return;
    }
    this.head = { ...head, lastSeq: head.lastSeq + fresh.length };
    for (const { job, event, json } of fresh) {
      this.emit(this.ref, event, head.epoch);
      job.resolve({ status: "created", seq: event.seq, json });
    }
  }
}
