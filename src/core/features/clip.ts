import { NUMERIC_IMPUTE_KEYS, type NumericFill, type NumericImputeParams, fitNumericFill, imputeSummary, imputedOutputs, numericImputeParams, round } from './impute.js';
import { ParamError, param } from './params.js';
import { quantileSorted, sortedPresent } from './stats.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link clip}. */
export type ClipParams = NumericImputeParams & {
  /** Quantile of the training values below which values are raised to it (default 0.01). */
  lower: number;
  /** Quantile of the training values above which values are lowered to it (default 0.99). */
  upper: number;
};
/** Fitted state: the bounds (training quantiles) and the fill. */
export type ClipState = NumericFill & { low: number; high: number };

/**
 * Winsorizes: values below the training `lower` quantile are raised to it, values above the `upper`
 * quantile lowered to it (quantiles with linear interpolation, as numpy). Unseen extreme values are
 * clipped the same way. A missing value is imputed in the column's units, then clipped.
 */
export const clip: FeaturizerKind<ClipParams, ClipState> = {
  kind: 'clip',
  description: 'clips to the training quantiles lower (0.01) … upper (0.99); missing → imputed then clipped + optional missing indicator',
  accepts: ['number', 'integer'],
  params(raw) {
    param.only(raw, [...NUMERIC_IMPUTE_KEYS, 'lower', 'upper']);
    const lower = param.number(raw, 'lower', 0.01, { min: 0, max: 1 });
    const upper = param.number(raw, 'upper', 0.99, { min: 0, max: 1 });
    if (upper <= lower) throw new ParamError('upper', `must be more than lower (${lower}), got ${upper}`);
    return { ...numericImputeParams(raw), lower, upper };
  },
  fit(column, params) {
    const sorted = sortedPresent(column.values as Float64Array);
    return { low: quantileSorted(sorted, params.lower), high: quantileSorted(sorted, params.upper), ...fitNumericFill(column, params, sorted) };
  },
  outputs(column, _params, state) {
    return imputedOutputs(column, state);
  },
  transform(state, cell, out, offset) {
    const missing = cell === null;
    const x = missing ? state.fill : (cell as number);
    out[offset] = x < state.low ? state.low : x > state.high ? state.high : x;
    if (state.indicator) out[offset + 1] = missing ? 1 : 0;
  },
  summary(params, state) {
    return `clipped to [${round(state.low)}, ${round(state.high)}] (quantiles ${params.lower}, ${params.upper}); ${imputeSummary(params, state)}`;
  },
};
