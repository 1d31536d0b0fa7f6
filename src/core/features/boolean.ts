import { param } from './params.js';
import { countMissing } from './numeric.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link boolean}. */
export type BooleanParams = { indicator: boolean | 'auto' };
/** Fitted state of {@link boolean}: the fill for a missing value is the most frequent one. */
export type BooleanState = { fill: 0 | 1; indicator: boolean };

/** true → 1, false → 0; a missing value → the most frequent value at fit (+ a missing indicator). */
export const boolean: FeaturizerKind<BooleanParams, BooleanState> = {
  kind: 'boolean',
  description: 'true → 1, false → 0; missing → most frequent value + optional missing indicator',
  accepts: ['boolean'],
  params(raw) {
    param.only(raw, ['indicator']);
    return { indicator: param.autoBoolean(raw, 'indicator') };
  },
  fit(column, params) {
    let trues = 0;
    let falses = 0;
    for (const v of column.values as (boolean | null)[]) {
      if (v === true) trues++;
      else if (v === false) falses++;
    }
    const indicator = params.indicator === 'auto' ? countMissing(column) > 0 : params.indicator;
    return { fill: trues > falses ? 1 : 0, indicator };
  },
  outputs(column, _params, state) {
    return state.indicator ? [column, `${column}__missing`] : [column];
  },
  transform(state, cell, out, offset) {
    const missing = cell === null;
    out[offset] = missing ? state.fill : cell ? 1 : 0;
    if (state.indicator) out[offset + 1] = missing ? 1 : 0;
  },
  summary(_params, state) {
    return `true → 1, false → 0; missing → ${state.fill === 1 ? 'true' : 'false'}${state.indicator ? ' + missing indicator' : ''}`;
  },
};
