import { Rng } from '../rng.js';

/** Bin code of a missing value (NaN). Value bins are 0 … {@link MAX_VALUE_BINS} − 1. */
export const MISSING_BIN = 255;
/** At most 255 value bins per feature: 254 thresholds. */
const MAX_VALUE_BINS = 255;
/** Quantiles are taken from at most this many values per feature (as scikit-learn's hist GBM does). */
const BINNING_SAMPLE = 200_000;

/**
 * Features binned once for training. `binned` is column-major (`binned[f * rows + i]`), one byte per
 * value, in a buffer that may be shared with worker threads. `thresholds[f][b]` separates bin b from
 * b + 1: a value x is in a bin ≤ b exactly when `x < thresholds[f][b]`, which is the test a trained
 * tree node makes (ml-cart's `x < splitValue`), so a split found on bins means the same on raw values.
 */
export interface BinnedMatrix {
  rows: number;
  width: number;
  binned: Uint8Array;
  thresholds: Float64Array[];
  /** Number of value bins per feature (thresholds + 1). */
  binCount: Int32Array;
}

/** The threshold between two adjacent distinct values: their midpoint, nudged so that a < t ≤ b. */
export function between(a: number, b: number): number {
  const mid = a + (b - a) / 2;
  return mid > a ? mid : b;
}

/** Thresholds of one feature: midpoints between distinct values, or between quantiles when there are many. */
export function featureThresholds(values: Float64Array, maxBins = MAX_VALUE_BINS): Float64Array {
  const few = fewDistinct(values, Math.min(FEW_DISTINCT, maxBins));
  if (few) {
    const t = new Float64Array(Math.max(0, few.length - 1));
    for (let i = 0; i + 1 < few.length; i++) t[i] = between(few[i] as number, few[i + 1] as number);
    return t;
  }
  const present = values.filter((v) => !Number.isNaN(v)).sort();
  const distinct: number[] = [];
  for (let i = 0; i < present.length; i++) if (i === 0 || present[i] !== present[i - 1]) distinct.push(present[i] as number);
  if (distinct.length <= maxBins) {
    const t = new Float64Array(Math.max(0, distinct.length - 1));
    for (let i = 0; i + 1 < distinct.length; i++) t[i] = between(distinct[i] as number, distinct[i + 1] as number);
    return t;
  }
  // Quantile edges over the values (not the distinct values), so bins hold similar numbers of rows;
  // each edge sits between two distinct values.
  const out: number[] = [];
  for (let q = 1; q < maxBins; q++) {
    const pos = Math.floor((q * present.length) / maxBins);
    const v = present[pos] as number;
    // the threshold just below v: between v's predecessor among distinct values and v
    const lo = lowerDistinct(distinct, v);
    if (lo === undefined) continue;
    const t = between(lo, v);
    if (out.length === 0 || t > (out[out.length - 1] as number)) out.push(t);
  }
  return Float64Array.from(out);
}

/** Features with at most this many distinct values (one-hot columns, indicators) skip the sort. */
const FEW_DISTINCT = 8;

/**
 * The distinct non-missing values of `values`, ascending, when there are at most `limit` of them
 * (else undefined): what sorting and de-duplicating gives, without the sort. As there, 0 and −0 are
 * one value, kept as −0 when both occur (the sort puts −0 first).
 */
function fewDistinct(values: Float64Array, limit: number): number[] | undefined {
  const seen: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    let j = 0;
    while (j < seen.length && seen[j] !== v) j++;
    if (j < seen.length) {
      if (v === 0 && Object.is(v, -0)) seen[j] = -0;
      continue;
    }
    if (seen.length === limit) return undefined;
    seen.push(v);
  }
  return seen.sort((a, b) => a - b);
}

function lowerDistinct(sorted: number[], v: number): number | undefined {
  let lo = 0;
  let hi = sorted.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < v) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans < 0 ? undefined : sorted[ans];
}

/** The bin of a value: the number of thresholds ≤ x (binary search); NaN → {@link MISSING_BIN}. */
export function binOf(x: number, thresholds: Float64Array): number {
  if (Number.isNaN(x)) return MISSING_BIN;
  let lo = 0;
  let hi = thresholds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < (thresholds[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Bins a row-major matrix: per feature, thresholds from (a seeded sample of) its values, then every
 * value's bin. `shared` puts the bins in a SharedArrayBuffer for worker threads.
 */
export function binMatrix(matrix: Float64Array, rows: number, width: number, options: { seed?: number; shared?: boolean; maxBins?: number } = {}): BinnedMatrix {
  const size = rows * width;
  const binned = new Uint8Array(options.shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
  const thresholds: Float64Array[] = [];
  const binCount = new Int32Array(width);
  const rng = new Rng(options.seed ?? 0);
  const sampleRows = rows <= BINNING_SAMPLE ? undefined : Uint32Array.from({ length: BINNING_SAMPLE }, () => rng.int(rows));
  const column = new Float64Array(sampleRows ? sampleRows.length : rows);
  for (let f = 0; f < width; f++) {
    if (sampleRows) for (let i = 0; i < sampleRows.length; i++) column[i] = matrix[(sampleRows[i] as number) * width + f] as number;
    else for (let i = 0; i < rows; i++) column[i] = matrix[i * width + f] as number;
    const t = featureThresholds(column, options.maxBins ?? MAX_VALUE_BINS);
    thresholds.push(t);
    binCount[f] = t.length + 1;
    const base = f * rows;
    if (sampleRows) for (let i = 0; i < rows; i++) binned[base + i] = binOf(matrix[i * width + f] as number, t);
    else for (let i = 0; i < rows; i++) binned[base + i] = binOf(column[i] as number, t);
  }
  return { rows, width, binned, thresholds, binCount };
}
