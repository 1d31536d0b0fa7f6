import type { Column } from '../table.js';
import type { Cell } from '../values.js';
import { param } from './params.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link numeric}. */
export type NumericParams = {
  /** How a missing value is filled: the column's median or mean at fit, or `fillValue`. */
  impute: 'median' | 'mean' | 'constant';
  fillValue: number;
  /** Add a `<column>__missing` 0/1 feature: always, never, or when the training data had missing values. */
  indicator: boolean | 'auto';
};

/** Fitted state of {@link numeric}. */
export type NumericState = { fill: number; indicator: boolean };

/** Median of the non-NaN values (0 when there are none). */
export function median(values: ArrayLike<number>): number {
  const xs = Array.from(values).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (xs.length === 0) return 0;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2;
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}

/** Counts missing values (NaN or null) in a column. */
export function countMissing(column: Column): number {
  let n = 0;
  for (let i = 0; i < column.values.length; i++) {
    const v = column.values[i];
    if (v === null || (typeof v === 'number' && Number.isNaN(v))) n++;
  }
  return n;
}

/**
 * Numbers pass through; a missing value is imputed (median by default) and, when the training data had
 * missing values, flagged in a `<column>__missing` feature. A value missing at serving time in a
 * column that had none in training is imputed the same way, without an indicator.
 */
export const numeric: FeaturizerKind<NumericParams, NumericState> = {
  kind: 'numeric',
  description: 'number as is; missing → median (or mean/constant) + optional missing indicator',
  accepts: ['number', 'integer'],
  params(raw) {
    param.only(raw, ['impute', 'fillValue', 'indicator']);
    return {
      impute: param.oneOf(raw, 'impute', ['median', 'mean', 'constant'] as const, 'median'),
      fillValue: param.number(raw, 'fillValue', 0),
      indicator: param.autoBoolean(raw, 'indicator'),
    };
  },
  fit(column, params) {
    const values = column.values as Float64Array;
    const fill = params.impute === 'median' ? median(values) : params.impute === 'mean' ? mean(values) : params.fillValue;
    const indicator = params.indicator === 'auto' ? countMissing(column) > 0 : params.indicator;
    return { fill, indicator };
  },
  outputs(column, _params, state) {
    return state.indicator ? [column, `${column}__missing`] : [column];
  },
  transform(state, cell: Cell, out, offset) {
    const missing = cell === null;
    out[offset] = missing ? state.fill : (cell as number);
    if (state.indicator) out[offset + 1] = missing ? 1 : 0;
  },
  summary(params, state) {
    const fill = params.impute === 'constant' ? `constant ${state.fill}` : `${params.impute} ${round(state.fill)}`;
    return `missing → ${fill}${state.indicator ? ' + missing indicator' : ''}`;
  },
};

/** Rounds for display (6 significant digits). */
export function round(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
}
