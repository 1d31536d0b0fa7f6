import { NUMERIC_IMPUTE_KEYS, type NumericFill, type NumericImputeParams, fitNumericFill, imputeSummary, imputedOutputs, numericImputeParams, round } from './impute.js';
import { param } from './params.js';
import { quantileSorted, scaled, sortedPresent, spread } from './stats.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link robustScale}: imputation only. */
export type RobustScaleParams = NumericImputeParams;
/** Fitted state: the median and the interquartile range (1 when it is 0), plus the fill. */
export type RobustScaleState = NumericFill & { median: number; iqr: number };

/**
 * `(x − median) / (q75 − q25)`, quantiles of the present training values with linear interpolation
 * (numpy's default; scikit-learn's RobustScaler). Outliers barely move the centre and scale. An
 * interquartile range of 0 is replaced by 1. A missing value is imputed in the column's units, then scaled.
 */
export const robustScale: FeaturizerKind<RobustScaleParams, RobustScaleState> = {
  kind: 'robust-scale',
  description: '(x − median) / interquartile range; missing → imputed then scaled + optional missing indicator',
  accepts: ['number', 'integer'],
  params(raw) {
    param.only(raw, NUMERIC_IMPUTE_KEYS);
    return numericImputeParams(raw);
  },
  fit(column, params) {
    const sorted = sortedPresent(column.values as Float64Array);
    const iqr = spread(quantileSorted(sorted, 0.75), quantileSorted(sorted, 0.25));
    return { median: quantileSorted(sorted, 0.5), iqr: iqr > 0 ? iqr : 1, ...fitNumericFill(column, params, sorted) };
  },
  outputs(column, _params, state) {
    return imputedOutputs(column, state);
  },
  transform(state, cell, out, offset) {
    const missing = cell === null;
    out[offset] = scaled(missing ? state.fill : (cell as number), state.median, state.iqr);
    if (state.indicator) out[offset + 1] = missing ? 1 : 0;
  },
  summary(params, state) {
    return `median ${round(state.median)}, IQR ${round(state.iqr)}; ${imputeSummary(params, state)}`;
  },
};
