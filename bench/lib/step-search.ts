// The broadcast scenario's search for the highest rate a system sustains:
// doubling from a low rate finds the first failure, then bisection narrows it.
// Pure bookkeeping (no I/O), so the rule every system is judged by is tested
// on its own.

/** How a measured window went. */
export interface StepOutcome {
  readonly pass: boolean;
  /**
   * It failed on its delivery p99 alone: nothing lost, duplicated, reordered or
   * dropped, and fully drained. Only such a failure is measured again.
   */
  readonly latencyOnly: boolean;
}

export interface StepSearchLimits {
  readonly startRate: number;
  /** Windows in all, retries included. */
  readonly maxWindows: number;
  /** Second windows granted to latency-only failures, in all. */
  readonly maxRetries: number;
}

/** Half-steps below 10 msg/s, where a whole step is a large fraction of the rate. */
const roundRate = (v: number): number => (v < 10 ? Math.round(v * 2) / 2 : Math.round(v));

/**
 * A window's p99 at a low rate is the slowest of a handful of bursts (3 s at
 * 2 msg/s is 6), so one pause of the host or the load client could end the
 * search at its first step: one run put switchyard at 1.5 msg/s (0.09× uWS),
 * the next at 8. A rate that fails on latency alone therefore gets one more
 * window, and fails only if that one fails too; every system is searched by
 * the same rule. A loss, a duplicate, a reorder, a drop or an undrained window
 * fails the rate at once.
 */
export class StepSearch {
  private windows = 0;
  private retries = 0;
  private retrying = false;
  private best: number | undefined;
  private failRate: number | undefined;
  private current: number;
  private done = false;

  constructor(private readonly limits: StepSearchLimits) {
    this.current = limits.startRate;
  }

  /** The rate to measure next, or undefined when the search is over. */
  next(): number | undefined {
    return this.done || this.windows >= this.limits.maxWindows ? undefined : this.current;
  }

  /** Whether the window about to be measured repeats a rate that failed on latency. */
  get isRetry(): boolean {
    return this.retrying;
  }

  /** The highest rate that passed so far. */
  get sustainable(): number | undefined {
    return this.best;
  }

  record(outcome: StepOutcome): void {
    this.windows++;
    const rate = this.current;
    const retried = this.retrying;
    this.retrying = false;
    if (!outcome.pass && outcome.latencyOnly && !retried && this.retries < this.limits.maxRetries && this.windows < this.limits.maxWindows) {
      this.retries++;
      this.retrying = true;
      return;
    }
    if (outcome.pass) this.best = rate;
    else this.failRate = rate;
    const lo = this.best ?? 0;
    const fail = this.failRate;
    const next = fail === undefined ? rate * 2 : roundRate((lo + fail) / 2);
    if (next <= lo || next >= (fail ?? Infinity) || (fail !== undefined && fail - lo <= Math.max(0.5, lo * 0.15))) {
      this.done = true;
      return;
    }
    this.current = next;
  }

  /** Ends the search now (e.g. the system shed subscribers, so later windows would measure fewer). */
  stop(): void {
    this.done = true;
  }
}
