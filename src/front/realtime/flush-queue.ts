/** A writer with frames waiting: one flush writes them all in one send. */
export interface Flushable {
  flush(): void;
}

/**
 * Flushes queued writers a slice at a time, one slice per event-loop turn.
 *
 * A fan-out to thousands of SSE streams done in one go is one send per stream
 * per event, and it holds the loop, so the next publish waits behind it. Done
 * in slices, the loop reads sockets and actor replies between slices; an event
 * that arrives meanwhile is appended to the streams not yet flushed, which then
 * send both in one write. Idle, a frame leaves on the next turn (setImmediate,
 * no timer); under load the sends per event fall as the backlog grows, and each
 * writer is flushed once per pass over the queue, in the order it was queued.
 */
export class FlushQueue {
  private queue: (Flushable | undefined)[] = [];
  private head = 0;
  private scheduled = false;

  constructor(
    private readonly slice: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Queues a writer; the caller keeps it from being queued twice. */
  add(w: Flushable): void {
    this.queue.push(w);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  private readonly run = (): void => {
    const end = Math.min(this.queue.length, this.head + this.slice);
    while (this.head < end) {
      const w = this.queue[this.head] as Flushable;
      this.queue[this.head++] = undefined;
      try {
        w.flush();
      } catch (e) {
        // One stream's failure must neither stop the others' flushes nor reach the loop.
        this.onError(e);
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.scheduled = false;
      return;
    }
    if (this.head >= 4096) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    setImmediate(this.run);
  };
}
