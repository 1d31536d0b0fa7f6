import { NUMERIC_IMPUTE_KEYS, type NumericFill, type NumericImputeParams, fitNumericFill, imputeSummary, imputedOutputs, numericImputeParams, round } from './impute.js';
import { param } from './params.js';
import { meanOf, scaled, sortedPresent, stdOf } from './stats.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link standardScale}: imputation only. */
export type StandardScaleParams = NumericImputeParams;
/** Fitted state: mean and scale (the standard deviation, or 1 for a constant column), plus the fill. */
export type StandardScaleState = NumericFill & { mean: number; scale: number };

/**
 * `(x − mean) / std`, with the mean and the population standard deviation (n in the denominator, as
 * scikit-learn's StandardScaler) of the present training values; a constant column gets scale 1.
 * A missing value is imputed in the column's units (median by default), then scaled like any value.
 * Unseen values need nothing special: any number scales.
 */
export const standardScale: FeaturizerKind<StandardScaleParams, StandardScaleState> = {
  kind: 'standard-scale',
  description: '(x − mean) / standard deviation; missing → imputed (median by default) then scaled + optional missing indicator',
  accepts: ['number', 'integer'],
  params(raw) {
    param.only(raw, NUMERIC_IMPUTE_KEYS);
    return numericImputeParams(raw);
  },
  fit(column, params) {
    const values = column.values as Float64Array;
    const sorted = sortedPresent(values);
    const mean = meanOf(values);
    const std = stdOf(values, mean);
    return { mean, scale: std > 0 ? std : 1, ...fitNumericFill(column, params, sorted) };
  },
  outputs(column, _params, state) {
    return imputedOutputs(column, state);
  },
  transform(state, cell, out, offset) {
    const missing = cell === null;
    out[offset] = scaled(missing ? state.fill : (cell as number), state.mean, state.scale);
    if (state.indicator) out[offset + 1] = missing ? 1 : 0;
  },
  summary(params, state) {
    return `mean ${round(state.mean)}, std ${round(state.scale)}; ${imputeSummary(params, state)}`;
  },
};
