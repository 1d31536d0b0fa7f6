import type { Cell } from '../values.js';
import { NUMERIC_IMPUTE_KEYS, type NumericFill, type NumericImputeParams, countMissing, fitNumericFill, imputeSummary, imputedOutputs, numericImputeParams, round } from './impute.js';
import { param } from './params.js';
import { quantileSorted, sortedPresent } from './stats.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link numeric}: only imputation (see {@link NumericImputeParams}). */
export type NumericParams = NumericImputeParams;

/** Fitted state of {@link numeric}. */
export type NumericState = NumericFill;

/** Median of the non-NaN values (0 when there are none). */
export function median(values: ArrayLike<number>): number {
  return quantileSorted(sortedPresent(values), 0.5);
}

export { countMissing, round };

/**
 * Numbers pass through; a missing value is imputed (median by default; mean, most frequent or a
 * constant on request) and, when the training data had missing values, flagged in a
 * `<column>__missing` feature. A value missing at serving time in a column that had none in
 * training is imputed the same way, without an indicator.
 */
export const numeric: FeaturizerKind<NumericParams, NumericState> = {
  kind: 'numeric',
  description: 'number as is; missing → median (or mean/most_frequent/constant) + optional missing indicator',
  accepts: ['number', 'integer'],
  params(raw) {
    param.only(raw, NUMERIC_IMPUTE_KEYS);
    return numericImputeParams(raw);
  },
  fit(column, params) {
    return fitNumericFill(column, params);
  },
  outputs(column, _params, state) {
    return imputedOutputs(column, state);
  },
  transform(state, cell: Cell, out, offset) {
    const missing = cell === null;
    out[offset] = missing ? state.fill : (cell as number);
    if (state.indicator) out[offset + 1] = missing ? 1 : 0;
  },
  summary(params, state) {
    return imputeSummary(params, state);
  },
};
