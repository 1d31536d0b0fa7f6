import { NUMERIC_IMPUTE_KEYS, type NumericFill, type NumericImputeParams, fitNumericFill, imputeSummary, imputedOutputs, numericImputeParams, round } from './impute.js';
import { ParamError, param } from './params.js';
import { sortedPresent } from './stats.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link log1p}. */
export type Log1pParams = NumericImputeParams & {
  /**
   * Negative training values: `error` (default) refuses to fit, naming the smallest value — a
   * logarithm of data that goes below 0 is usually the wrong transform; `clip` reads them as 0.
   */
  negative: 'error' | 'clip';
};
/** Fitted state: the fill (in the column's units) and the indicator flag. */
export type Log1pState = NumericFill;

/**
 * `ln(1 + x)` for skewed non-negative values (counts, amounts). Negative training values are an
 * error at fit unless `negative: clip`; at serving time, where refusing is not an option, a negative
 * value is always clipped to 0 (→ 0). A missing value is imputed in the column's units (median by
 * default), then transformed.
 */
export const log1p: FeaturizerKind<Log1pParams, Log1pState> = {
  kind: 'log1p',
  description: 'ln(1 + x); negative values → error at fit (or clip to 0); missing → imputed then transformed + optional missing indicator',
  accepts: ['number', 'integer'],
  params(raw) {
    param.only(raw, [...NUMERIC_IMPUTE_KEYS, 'negative']);
    return { ...numericImputeParams(raw), negative: param.oneOf(raw, 'negative', ['error', 'clip'] as const, 'error') };
  },
  fit(column, params) {
    const sorted = sortedPresent(column.values as Float64Array);
    const min = sorted[0];
    if (params.negative === 'error' && min !== undefined && min < 0) {
      throw new ParamError('negative', `is "error" and the column has negative values (the smallest is ${min}); set negative: clip to read them as 0, or choose another featurizer (standard-scale, robust-scale)`);
    }
    return fitNumericFill(column, params, sorted);
  },
  outputs(column, _params, state) {
    return imputedOutputs(column, state);
  },
  transform(state, cell, out, offset) {
    const missing = cell === null;
    const x = missing ? state.fill : (cell as number);
    out[offset] = Math.log1p(x > 0 ? x : 0);
    if (state.indicator) out[offset + 1] = missing ? 1 : 0;
  },
  summary(params, state) {
    return `ln(1 + x), negative values → 0; ${imputeSummary(params, state)}${params.impute !== 'constant' ? ` (ln(1 + fill) = ${round(Math.log1p(Math.max(0, state.fill)))})` : ''}`;
  },
};
