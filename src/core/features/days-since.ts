import { DAY_MS } from './calendar.js';
import { countMissing, round } from './impute.js';
import { median } from './numeric.js';
import { param } from './params.js';
import type { FeaturizerKind } from './types.js';

/** Parameters of {@link daysSince}. */
export type DaysSinceParams = {
  /** The reference instant (epoch ms; written as a date like 2024-01-31 in a config); default (null): the latest training date. */
  reference: number | null;
  indicator: boolean | 'auto';
};
/** Fitted state: the reference instant, the fill for a missing date (the median date, in days since the reference) and the indicator. */
export type DaysSinceState = { reference: number; fill: number; indicator: boolean };

/**
 * Days elapsed from `reference` to the date, `(date − reference) / 24 h`, with fractions of a day:
 * negative for dates before the reference. With the default reference (the latest training date)
 * training values are ≤ 0 and dates after training are positive. An instant difference, so no time
 * zone applies. A missing date → the median training date's value (+ indicator).
 */
export const daysSince: FeaturizerKind<DaysSinceParams, DaysSinceState> = {
  kind: 'days-since',
  description: 'days from a reference date (default: the latest training date) to the date; missing → median date',
  accepts: ['datetime'],
  params(raw) {
    param.only(raw, ['reference', 'indicator']);
    return { reference: param.date(raw, 'reference') ?? null, indicator: param.autoBoolean(raw, 'indicator') };
  },
  fit(column, params) {
    const values = column.values as Float64Array;
    let latest = Number.NaN;
    for (const v of values) if (!Number.isNaN(v) && !(v <= latest)) latest = v;
    const reference = params.reference ?? (Number.isNaN(latest) ? 0 : latest);
    const indicator = params.indicator === 'auto' ? countMissing(column) > 0 : params.indicator;
    return { reference, fill: (median(values) - reference) / DAY_MS, indicator };
  },
  outputs(column, _params, state) {
    return state.indicator ? [`${column}.days_since`, `${column}__missing`] : [`${column}.days_since`];
  },
  transform(state, cell, out, offset) {
    const missing = cell === null;
    out[offset] = missing ? state.fill : ((cell as number) - state.reference) / DAY_MS;
    if (state.indicator) out[offset + 1] = missing ? 1 : 0;
  },
  summary(params, state) {
    return `days since ${new Date(state.reference).toISOString().replace(/T00:00:00\.000Z$/, '')}${params.reference === null ? ' (the latest training date)' : ''}; missing → ${round(state.fill)} (median)${state.indicator ? ' + missing indicator' : ''}`;
  },
};
