// Per-subscription delivery accounting against the per-topic sequence each
// payload carries. In-order delivery (the normal case) costs one comparison;
// gaps are remembered as a bounded set of missing seqs so a late arrival can
// be told apart from a duplicate.

const MAX_MISSING = 100_000; // per subscription; past this, gaps count as lost outright

export interface DeliveryCounts {
  /** deliveries of a seq never seen before */
  unique: number;
  /** a seq delivered again */
  duplicated: number;
  /** a seq that arrived after a higher one */
  reordered: number;
}

export class SeqTracker {
  last = 0;
  unique = 0;
  duplicated = 0;
  reordered = 0;
  private missing: Set<number> | null = null;
  /** gaps that did not fit in the bounded missing set: lost for good */
  private overflowLost = 0;

  constructor(startAfter = 0) {
    this.last = startAfter;
  }

  /** Records one delivery of `seq`. */
  see(seq: number): void {
    if (seq === this.last + 1) {
      this.last = seq;
      this.unique++;
      return;
    }
    if (seq > this.last) {
      this.missing ??= new Set();
      for (let s = this.last + 1; s < seq; s++) {
        if (this.missing.size < MAX_MISSING) this.missing.add(s);
        else this.overflowLost++;
      }
      this.last = seq;
      this.unique++;
      return;
    }
    if (this.missing?.delete(seq)) {
      this.reordered++;
      this.unique++;
    } else {
      this.duplicated++;
    }
  }

  /** Seqs up to `expectedLast` that never arrived (so far). */
  lost(expectedLast: number): number {
    return (this.missing?.size ?? 0) + this.overflowLost + Math.max(0, expectedLast - this.last);
  }

  /**
   * Writes off everything up to `expectedLast` (after a failed step has been
   * recorded), so the next window starts clean instead of inheriting its gaps.
   */
  rebase(expectedLast: number): void {
    this.missing = null;
    this.overflowLost = 0;
    if (this.last < expectedLast) this.last = expectedLast;
  }

  /** Clears the per-window counters; the position and open gaps are kept. */
  resetCounters(): DeliveryCounts {
    const c = { unique: this.unique, duplicated: this.duplicated, reordered: this.reordered };
    this.unique = 0;
    this.duplicated = 0;
    this.reordered = 0;
    return c;
  }
}
