/**
 * A small log-linear latency histogram (the idea of HdrHistogram, in a few lines): values up to 127 µs are
 * exact, above that each power of two is split into 64 buckets, so any percentile is within 1/64 (1.6 %) of
 * the true sample. Millions of samples cost a fixed ~3 KB, and histograms from several processes merge by
 * adding counts, which is what the load generators send back over IPC.
 */

/** Values below this are counted exactly (one bucket per microsecond). */
const EXACT_LIMIT = 128;
/** Linear sub-buckets per power of two above {@link EXACT_LIMIT}. */
const SUB_BUCKETS = 64;
/** Powers of two covered above the exact range: up to 2^46 µs, far beyond any bench duration. */
const OCTAVES = 40;
const BUCKETS = EXACT_LIMIT + OCTAVES * SUB_BUCKETS;

function bucketOf(value: number): number {
  const v = Math.max(0, Math.round(value));
  if (v < EXACT_LIMIT) return v;
  let shift = Math.floor(Math.log2(v)) - 6; // v / 2^shift lies in [64, 128)
  if (Math.floor(v / 2 ** shift) >= 2 * SUB_BUCKETS) shift += 1; // log2 rounded up just below a power of two
  const mantissa = Math.floor(v / 2 ** shift);
  return Math.min(BUCKETS - 1, EXACT_LIMIT + (shift - 1) * SUB_BUCKETS + (mantissa - SUB_BUCKETS));
}

/** The middle of a bucket: the value reported for samples that fell in it. */
function bucketValue(bucket: number): number {
  if (bucket < EXACT_LIMIT) return bucket;
  const rest = bucket - EXACT_LIMIT;
  const shift = Math.floor(rest / SUB_BUCKETS) + 1;
  const mantissa = (rest % SUB_BUCKETS) + SUB_BUCKETS;
  return (mantissa + 0.5) * 2 ** shift;
}

/** A histogram as sent between processes: sparse `[bucket, count]` pairs plus exact extremes. */
export interface HistogramData {
  counts: Array<[number, number]>;
  total: number;
  sum: number;
  min: number;
  max: number;
}

/** Summary of a latency distribution, in milliseconds. */
export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Records non-negative values in microseconds. */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  total = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  /** Records one sample (microseconds). */
  record(micros: number): void {
    const bucket = bucketOf(micros);
    this.#counts[bucket] = (this.#counts[bucket] ?? 0) + 1;
    this.total += 1;
    this.sum += micros;
    if (micros < this.min) this.min = micros;
    if (micros > this.max) this.max = micros;
  }

  /** The value at quantile `q` (0–1), in microseconds; 0 when empty. */
  percentile(q: number): number {
    if (this.total === 0) return 0;
    if (q >= 1) return this.max;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.#counts[bucket] ?? 0;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, bucketValue(bucket)));
    }
    return this.max;
  }

  /** Adds another histogram's samples to this one. */
  merge(other: HistogramData): this {
    for (const [bucket, count] of other.counts) this.#counts[bucket] = (this.#counts[bucket] ?? 0) + count;
    this.total += other.total;
    this.sum += other.sum;
    if (other.total > 0) {
      this.min = Math.min(this.min, other.min);
      this.max = Math.max(this.max, other.max);
    }
    return this;
  }

  /** A compact copy for IPC or JSON. */
  toJSON(): HistogramData {
    const counts: Array<[number, number]> = [];
    this.#counts.forEach((count, bucket) => {
      if (count > 0) counts.push([bucket, count]);
    });
    return { counts, total: this.total, sum: this.sum, min: this.total ? this.min : 0, max: this.max };
  }

  /** Count, mean and percentiles in milliseconds, rounded to 0.01 ms. */
  summary(): LatencySummary {
    const ms = (micros: number) => Math.round(micros / 10) / 100;
    return {
      count: this.total,
      meanMs: ms(this.total ? this.sum / this.total : 0),
      p50Ms: ms(this.percentile(0.5)),
      p90Ms: ms(this.percentile(0.9)),
      p99Ms: ms(this.percentile(0.99)),
      maxMs: ms(this.max),
    };
  }

  /** Builds a histogram from IPC/JSON data. */
  static from(data: HistogramData): Histogram {
    return new Histogram().merge(data);
  }
}

/**
 * Microseconds on the machine-wide monotonic clock (CLOCK_MONOTONIC on Linux). Every process on the machine
 * reads the same clock, so a timestamp written into a payload by one process can be subtracted from a
 * reading in another, which a per-process `performance.now()` cannot do.
 */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
