import { NUMERIC_IMPUTE_KEYS, type NumericFill, type NumericImputeParams, fitNumericFill, imputeSummary, imputedOutputs, numericImputeParams, round } from './impute.js';
import { param } from './params.js';
import { scaled, sortedPresent, spread } from './stats.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link minMax}. */
export type MinMaxParams = NumericImputeParams & {
  /** Clip results to [0, 1] (values outside the training range); default false, as scikit-learn's MinMaxScaler. */
  clip: boolean;
};
/** Fitted state: the training minimum and range (1 for a constant column), plus the fill. */
export type MinMaxState = NumericFill & { min: number; range: number; clip: boolean };

/**
 * `(x − min) / (max − min)` with the training minimum and maximum: training values land in [0, 1];
 * values outside the training range land outside it unless `clip: true`. A constant column gets
 * range 1 (every training value → 0). A missing value is imputed in the column's units, then scaled.
 */
export const minMax: FeaturizerKind<MinMaxParams, MinMaxState> = {
  kind: 'min-max',
  description: '(x − min) / (max − min) from training; optional clip to [0, 1]; missing → imputed then scaled + optional missing indicator',
  accepts: ['number', 'integer'],
  params(raw) {
    param.only(raw, [...NUMERIC_IMPUTE_KEYS, 'clip']);
    return { ...numericImputeParams(raw), clip: param.boolean(raw, 'clip', false) };
  },
  fit(column, params) {
    const sorted = sortedPresent(column.values as Float64Array);
    const min = sorted.length ? (sorted[0] as number) : 0;
    const max = sorted.length ? (sorted[sorted.length - 1] as number) : 0;
    return { min, range: max > min ? spread(max, min) : 1, clip: params.clip, ...fitNumericFill(column, params, sorted) };
  },
  outputs(column, _params, state) {
    return imputedOutputs(column, state);
  },
  transform(state, cell, out, offset) {
    const missing = cell === null;
    let v = scaled(missing ? state.fill : (cell as number), state.min, state.range);
    if (state.clip) v = v < 0 ? 0 : v > 1 ? 1 : v;
    out[offset] = v;
    if (state.indicator) out[offset + 1] = missing ? 1 : 0;
  },
  summary(params, state) {
    return `min ${round(state.min)}, max ${round(state.min + state.range)}${state.clip ? ', clipped to [0, 1]' : ''}; ${imputeSummary(params, state)}`;
  },
};
