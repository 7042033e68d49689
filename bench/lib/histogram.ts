// An HDR-like histogram of microsecond values: exact below 128 µs, then 64
// linear sub-buckets per power of two (≈1.6 % relative error). Recording is
// a few integer ops, so the load client can record every delivery; the sparse
// form crosses process boundaries and merges exactly.

const SUB_BITS = 6; // 64 sub-buckets per octave above the linear range
const LINEAR = 1 << (SUB_BITS + 1); // values 0..127 are exact
const MAX_VALUE = 0x7fffffff; // ~35 min in µs: anything larger is clamped
const SIZE = LINEAR + (31 - SUB_BITS - 1) * (1 << SUB_BITS);

export interface HistogramJSON {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** [bucketIndex, count] pairs for non-empty buckets */
  readonly buckets: ReadonlyArray<readonly [number, number]>;
}

export interface Percentiles {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

function indexOf(v: number): number {
  if (v < LINEAR) return v;
  const e = 31 - Math.clz32(v) - SUB_BITS; // ≥ 1 here
  const mant = v >>> e; // in [64, 128)
  return LINEAR + (e - 1) * (1 << SUB_BITS) + (mant - (1 << SUB_BITS));
}

/** Midpoint of a bucket: the value reported for percentiles. */
function valueOf(idx: number): number {
  if (idx < LINEAR) return idx;
  const rel = idx - LINEAR;
  const e = Math.floor(rel / (1 << SUB_BITS)) + 1;
  const mant = (rel % (1 << SUB_BITS)) + (1 << SUB_BITS);
  return mant * 2 ** e + 2 ** (e - 1);
}

export class Histogram {
  private counts = new Float64Array(SIZE);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  record(us: number): void {
    const v = us <= 0 ? 0 : us >= MAX_VALUE ? MAX_VALUE : Math.round(us);
    this.counts[indexOf(v)]! += 1;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  merge(other: HistogramJSON): void {
    for (const [idx, n] of other.buckets) this.counts[idx]! += n;
    this.count += other.count;
    this.sum += other.sum;
    if (other.count > 0) {
      this.min = Math.min(this.min, other.min);
      this.max = Math.max(this.max, other.max);
    }
  }

  /** Value (µs) at quantile q in [0, 1]; the exact max for q = 1. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    if (q >= 1) return this.max;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(valueOf(i), this.max);
    }
    return this.max;
  }

  percentiles(): Percentiles {
    return {
      count: this.count,
      mean: this.count === 0 ? 0 : this.sum / this.count,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
      max: this.count === 0 ? 0 : this.max,
    };
  }

  toJSON(): HistogramJSON {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < SIZE; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return { count: this.count, sum: this.sum, min: this.count === 0 ? 0 : this.min, max: this.max, buckets };
  }

  static from(json: HistogramJSON): Histogram {
    const h = new Histogram();
    h.merge(json);
    return h;
  }
}
