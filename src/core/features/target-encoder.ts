import { Rng } from '../models/rng.js';
import { type Column, cellAt } from '../table.js';
import { type Cell, toCell } from '../values.js';
import { CATEGORY_IMPUTE_KEYS, type CategoryImputeParams, categoryImputeParams, countCategories, round } from './impute.js';
import { categoryIndex } from './one-hot.js';
import { param } from './params.js';
import type { FeaturizerKind, FitContext, FitTarget } from './types.js';

/** Parameters of {@link target}. */
export type TargetParams = {
  /**
   * m of the m-estimate: a category's encoding is `(sum of its targets + m · prior) / (its rows + m)`,
   * so a category with few rows stays near the global mean (the prior). Default 10; 0 = plain means.
   */
  smoothing: number;
  /** Folds of the out-of-fold encoding of the training rows (default 5, at most the row count). */
  folds: number;
} & CategoryImputeParams;

/**
 * Fitted state (learnt on every training row; what serving uses): the output labels, the prior (the
 * global target mean, one number per output), each category's smoothed encoding (`values`, row-major
 * `categories × outputs`), the encoding of the missing slot (`null` when training had no missing value),
 * and `missingAs` as in one-hot.
 */
export type TargetState = {
  task: 'classification' | 'regression';
  /** Classification: the class each output is the probability of (binary: just the second class). */
  labels: string[];
  prior: number[];
  categories: string[];
  values: number[];
  missing: number[] | null;
  missingAs?: string;
};

/** Width of the encoding: 1 for regression and binary classification, one per class otherwise. */
function widthOf(t: FitTarget): number {
  if (t.task === 'regression') return 1;
  const k = t.classes?.length ?? 0;
  if (k < 2) throw new Error('target encoding of a classification target needs its class labels (at least 2)');
  return k === 2 ? 1 : k;
}

/** Adds row i's target to `sums` (width w): the value (regression), 1 for class 1 (binary), one-hot (multi-class). */
function addTarget(t: FitTarget, w: number, i: number, sums: Float64Array, at: number): void {
  const y = t.values[i] as number;
  if (t.task === 'regression') sums[at] = (sums[at] as number) + y;
  else if (w === 1) sums[at] = (sums[at] as number) + (y === 1 ? 1 : 0);
  else sums[at + y] = (sums[at + y] as number) + 1;
}

function checkTarget(column: Column, context: FitContext | undefined): FitTarget {
  const t = context?.target;
  if (!t) throw new Error('target encoding needs the training target (fit context without target)');
  if (t.values.length !== column.values.length) throw new Error(`target encoding: ${t.values.length} target values for ${column.values.length} rows`);
  const k = t.classes?.length ?? 0;
  for (let i = 0; i < t.values.length; i++) {
    const y = t.values[i] as number;
    if (t.task === 'regression' ? !Number.isFinite(y) : !(Number.isInteger(y) && y >= 0 && y < k)) {
      throw new Error(`target encoding: row ${i + 1}'s target is not ${t.task === 'regression' ? 'a number' : `one of the ${k} classes`}`);
    }
  }
  return t;
}

/** Fits the encoding on the given rows (all rows when `rows` is undefined). The one fit both serving and out-of-fold use. */
function fitRows(column: Column, params: TargetParams, t: FitTarget, rows?: ArrayLike<number>): TargetState {
  const w = widthOf(t);
  const n = rows ? rows.length : column.values.length;
  const { missingAs } = countCategories(column, params, rows);
  const index = new Map<string, number>();
  const categories: string[] = [];
  const counts: number[] = [];
  let sums = new Float64Array(16 * w);
  const prior = new Float64Array(w);
  let missingCount = 0;
  const missingSums = new Float64Array(w);
  for (let r = 0; r < n; r++) {
    const i = rows ? (rows[r] as number) : r;
    addTarget(t, w, i, prior, 0);
    const cell = cellAt(column, i);
    if (cell === null && missingAs === undefined) {
      missingCount++;
      addTarget(t, w, i, missingSums, 0);
      continue;
    }
    const key = cell === null ? (missingAs as string) : String(cell);
    let c = index.get(key);
    if (c === undefined) {
      c = categories.length;
      index.set(key, c);
      categories.push(key);
      counts.push(0);
      if ((c + 1) * w > sums.length) {
        const grown = new Float64Array(sums.length * 2);
        grown.set(sums);
        sums = grown;
      }
    }
    counts[c] = (counts[c] as number) + 1;
    addTarget(t, w, i, sums, c * w);
  }
  for (let j = 0; j < w; j++) prior[j] = n > 0 ? (prior[j] as number) / n : 0;
  const m = params.smoothing;
  const encode = (count: number, s: Float64Array, at: number, into: number[]) => {
    for (let j = 0; j < w; j++) into.push(count + m > 0 ? ((s[at + j] as number) + m * (prior[j] as number)) / (count + m) : (prior[j] as number));
  };
  // Categories in code-point order: the state does not depend on row order.
  const order = categories.map((_, c) => c).sort((a, b) => (categories[a]! < categories[b]! ? -1 : categories[a]! > categories[b]! ? 1 : 0));
  const values: number[] = [];
  for (const c of order) encode(counts[c] as number, sums, c * w, values);
  let missing: number[] | null = null;
  if (missingCount > 0) encode(missingCount, missingSums, 0, (missing = []));
  const state: TargetState = {
    task: t.task,
    labels: t.task === 'regression' ? [] : w === 1 ? [String(t.classes![1])] : t.classes!.map(String),
    prior: Array.from(prior),
    categories: order.map((c) => categories[c] as string),
    values,
    missing,
  };
  if (missingAs !== undefined) state.missingAs = missingAs;
  return state;
}

function writeEncoding(state: TargetState, cell: Cell, out: Float64Array, offset: number): void {
  const w = state.prior.length;
  let src: readonly number[] = state.prior;
  let at = 0;
  if (cell === null && state.missingAs === undefined) {
    if (state.missing) src = state.missing;
  } else {
    const c = categoryIndex(state).get(cell === null ? (state.missingAs as string) : String(cell));
    if (c !== undefined) {
      src = state.values;
      at = c * w;
    }
  }
  for (let j = 0; j < w; j++) out[offset + j] = src[at + j] as number;
}

/**
 * Target encoding: each value becomes the mean of the target over the training rows that had it,
 * smoothed toward the global mean (m-estimate, `smoothing: m`). Regression: one feature, the mean
 * target; classification: the share of each class (one feature per class, or one for a binary target:
 * the share of the second class label). A value never seen in training → the global mean (the prior).
 * Missing (`impute`): `missing` (default) → a slot of its own, encoded like a category (the prior when
 * training had no missing value); `most_frequent` / `constant` → encoded as that value.
 *
 * No leakage: the state kept for serving is fitted on every training row, but the training matrix
 * never uses it — the pipeline takes the training rows' features from {@link target.outOfFold}: the rows
 * are dealt into `folds` seeded folds, and each fold is encoded by a fit on the other folds (so a row
 * whose value appears in no other fold gets that fit's prior). A training row's features never depend
 * on its own target. As scikit-learn's TargetEncoder (`fit_transform` uses cross fitting).
 */
export const target: FeaturizerKind<TargetParams, TargetState> = {
  kind: 'target',
  description: 'mean target per value, smoothed toward the global mean; training rows encoded out of fold; unknown → global mean',
  accepts: ['category', 'boolean', 'integer'],
  needsTarget: true,
  params(raw) {
    param.only(raw, ['smoothing', 'folds', ...CATEGORY_IMPUTE_KEYS]);
    return {
      smoothing: param.number(raw, 'smoothing', 10, { min: 0 }),
      folds: param.number(raw, 'folds', 5, { min: 2, max: 50, integer: true }),
      ...categoryImputeParams(raw),
    };
  },
  fit(column, params, context) {
    return fitRows(column, params, checkTarget(column, context));
  },
  outOfFold(column, params, context, out, stride, offset) {
    const t = checkTarget(column, context);
    const n = column.values.length;
    const w = widthOf(t);
    if (n < 2) {
      // A lone row cannot be held out from anything: no fit without it exists, so it gets 0.
      for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) out[i * stride + offset + j] = 0;
      return;
    }
    const k = Math.min(params.folds, n);
    const fold = new Int32Array(n);
    const shuffled = new Rng(context.seed ?? 0).shuffle(Array.from({ length: n }, (_, i) => i));
    shuffled.forEach((row, i) => {
      fold[row] = i % k;
    });
    for (let f = 0; f < k; f++) {
      const others: number[] = [];
      const held: number[] = [];
      for (let i = 0; i < n; i++) (fold[i] === f ? held : others).push(i);
      const state = fitRows(column, params, t, others);
      // Cells read exactly as transformTable reads them.
      for (const i of held) writeEncoding(state, toCell(column.type, cellAt(column, i)), out, i * stride + offset);
    }
  },
  outputs(column, _params, state) {
    if (state.task === 'regression') return [`${column}.target`];
    return state.labels.map((label) => `${column}.target=${label}`);
  },
  transform(state, cell, out, offset) {
    writeEncoding(state, cell, out, offset);
  },
  summary(params, state) {
    const prior = state.prior.map(round).join(', ');
    const missing = state.missingAs !== undefined ? `missing → ${JSON.stringify(state.missingAs)} (${params.impute})` : state.missing ? 'missing → its own slot' : 'missing → prior';
    return `${state.categories.length} values, smoothing ${params.smoothing} toward the prior ${prior}${state.labels.length ? ` (share of ${state.labels.join(', ')})` : ''}; training rows out of fold (${params.folds} folds); unknown → prior; ${missing}`;
  },
};
