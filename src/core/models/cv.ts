import { Rng } from './rng.js';
import type { Split } from './split.js';

/**
 * Seeded k-fold cross-validation splits: every row is in exactly one test fold, and each fold's train
 * part is every other row. Rows are shuffled, then dealt round-robin to the folds, so fold sizes differ
 * by at most 1. With `labels` (classification) it is stratified: each class's shuffled rows are dealt
 * in turn, continuing where the previous class stopped, so each class's count per fold differs by at
 * most 1 and fold sizes still differ by at most 1. A class with fewer than `k` rows is simply missing
 * from some test folds. Row order inside each part is ascending.
 *
 * @throws RangeError when `k` is not an integer with 2 ≤ k ≤ rows, or `labels` has not one value per row.
 */
export function kFoldSplit(rows: number, k: number, seed: number, labels?: ArrayLike<number>): Split[] {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`kFoldSplit: rows must be a non-negative integer, got ${rows}`);
  if (!Number.isInteger(k) || k < 2 || k > rows) {
    throw new RangeError(`kFoldSplit: k-fold cross-validation needs an integer k with 2 ≤ k ≤ rows (${rows}), got k = ${k}; ${rows < 2 ? 'there are too few rows to cross-validate' : `choose k between 2 and ${rows}`}`);
  }
  if (labels && labels.length !== rows) throw new RangeError(`kFoldSplit: labels has ${labels.length} values for ${rows} rows; pass one label per row`);
  const rng = new Rng(seed);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < rows; i++) {
    const key = labels ? (labels[i] as number) : 0;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  const fold = new Array<number>(rows);
  let next = 0;
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    for (const row of rng.shuffle(groups.get(key) as number[])) {
      fold[row] = next;
      next = (next + 1) % k;
    }
  }
  return Array.from({ length: k }, (_, f) => {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < rows; i++) (fold[i] === f ? test : train).push(i);
    return { train, test };
  });
}

/** Mean, sample standard deviation and per-fold values of one metric across folds. */
export interface MetricSummary {
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator); 0 for a single fold. */
  std: number;
  /** The metric's value in each fold, in fold order. */
  values: number[];
}

/**
 * Summarizes per-fold metric objects (e.g. `ClassificationMetrics[]`): for every top-level field that
 * is a number in every fold, its mean, sample standard deviation and values. Fields that are null,
 * missing or non-numeric (arrays, objects, strings) in any fold are left out; a NaN value makes that
 * field's mean and std NaN. Keys follow the first fold's field order; no folds give `{}`.
 *
 * Takes `object[]` rather than `Record<string, unknown>[]` so that metric interfaces, which have no
 * index signature, can be passed directly.
 */
export function summarize(folds: readonly object[]): Record<string, MetricSummary> {
  const out: Record<string, MetricSummary> = {};
  const first = folds[0];
  if (first === undefined) return out;
  for (const key of Object.keys(first)) {
    const values: number[] = [];
    for (const f of folds) {
      const v: unknown = (f as Record<string, unknown>)[key];
      if (typeof v !== 'number') break;
      values.push(v);
    }
    if (values.length !== folds.length) continue;
    const n = values.length;
    const mean = values.reduce((s, v) => s + v, 0) / n;
    const std = n < 2 ? 0 : Math.sqrt(values.reduce((s, v) => s + (v - mean) * (v - mean), 0) / (n - 1));
    out[key] = { mean, std, values };
  }
  return out;
}
