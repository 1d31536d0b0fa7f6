import { DAY_MS, F, FIELDS, civil, localTime } from './calendar.js';
import { countMissing } from './impute.js';
import { median } from './numeric.js';
import { param } from './params.js';
import type { FeaturizerKind } from './types.js';

export const CYCLIC_PARTS = ['month', 'dayofweek', 'hour', 'dayofyear'] as const;
/** A periodic part of a date: month (of 12), day of week (of 7), time of day (of 24 h), day of year (of 365 or 366). */
export type CyclicPart = (typeof CYCLIC_PARTS)[number];

/** Parameters of {@link datetimeCyclic}. */
export type CyclicParams = {
  /** Parts to encode, in order (default all four: month, dayofweek, hour, dayofyear). */
  parts: CyclicPart[];
  indicator: boolean | 'auto';
  /** IANA time zone the parts are computed in (default `UTC`). */
  timezone: string;
};
/** Fitted state: parts, fill (median instant at fit), indicator, and the time zone (absent for UTC). */
export type CyclicState = { parts: CyclicPart[]; fill: number; indicator: boolean; timezone?: string };

/** The position of the current fields in a part's cycle, as a fraction of a turn in [0, 1). */
function turn(part: CyclicPart): number {
  switch (part) {
    case 'month':
      return ((FIELDS[F.month] as number) - 1) / 12;
    case 'dayofweek':
      return (FIELDS[F.dayofweek] as number) / 7;
    case 'hour':
      return (FIELDS[F.msOfDay] as number) / DAY_MS;
    default:
      return ((FIELDS[F.dayofyear] as number) - 1) / (FIELDS[F.yearDays] as number);
  }
}

/**
 * Periodic date parts as points on a circle: for each part, `sin` and `cos` of 2π · position, where
 * position is (month − 1)/12, day of week/7 (Monday = 0), time of day/24 h (to the millisecond, so
 * 23:59 sits next to 00:00) and (day of year − 1)/days in that year. December sits next to January,
 * Sunday next to Monday. Computed in UTC or `timezone`. Missing → the median training date (+ indicator).
 */
export const datetimeCyclic: FeaturizerKind<CyclicParams, CyclicState> = {
  kind: 'datetime-cyclic',
  description: 'date → sin/cos of month, day of week, time of day, day of year (UTC or a time zone); missing → median date',
  accepts: ['datetime'],
  params(raw) {
    param.only(raw, ['parts', 'indicator', 'timezone']);
    return {
      parts: param.listOf(raw, 'parts', CYCLIC_PARTS, CYCLIC_PARTS),
      indicator: param.autoBoolean(raw, 'indicator'),
      timezone: param.timezone(raw, 'timezone', 'UTC'),
    };
  },
  fit(column, params) {
    const indicator = params.indicator === 'auto' ? countMissing(column) > 0 : params.indicator;
    const state: CyclicState = { parts: [...params.parts], fill: median(column.values as Float64Array), indicator };
    if (params.timezone !== 'UTC') state.timezone = params.timezone;
    return state;
  },
  outputs(column, _params, state) {
    const names = state.parts.flatMap((p) => [`${column}.${p}_sin`, `${column}.${p}_cos`]);
    if (state.indicator) names.push(`${column}__missing`);
    return names;
  },
  transform(state, cell, out, offset) {
    const missing = cell === null;
    const t = missing ? state.fill : (cell as number);
    civil(state.timezone === undefined ? t : localTime(t, state.timezone));
    for (let j = 0; j < state.parts.length; j++) {
      const a = 2 * Math.PI * turn(state.parts[j] as CyclicPart);
      out[offset + 2 * j] = Math.sin(a);
      out[offset + 2 * j + 1] = Math.cos(a);
    }
    if (state.indicator) out[offset + 2 * state.parts.length] = missing ? 1 : 0;
  },
  summary(_params, state) {
    return `sin/cos of ${state.parts.join(', ')} (${state.timezone ?? 'UTC'}); missing → ${new Date(state.fill).toISOString().slice(0, 10)} (median)${state.indicator ? ' + missing indicator' : ''}`;
  },
};
