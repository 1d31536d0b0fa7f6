import { F, FIELDS, civil, localTime } from './calendar.js';
import { countMissing } from './impute.js';
import { median } from './numeric.js';
import { param } from './params.js';
import type { FeaturizerKind } from './types.js';

export const DATE_PARTS = ['year', 'month', 'day', 'dayofyear', 'dayofweek', 'hour', 'minute', 'epochdays'] as const;
/**
 * A calendar part of a date, in the step's time zone (UTC by default). `dayofweek` is 0 for Monday …
 * 6 for Sunday (as pandas); `dayofyear` 1 … 366; `epochdays` the days from 1970-01-01 to the (local) date.
 */
export type DatePart = (typeof DATE_PARTS)[number];

/** Parameters of {@link datetimeParts}. */
export type DatetimeParams = {
  /** Parts to write, in order (default year, month, dayofyear, dayofweek). */
  parts: DatePart[];
  /** Missing indicator: always, never, or (`auto`) when the training data had missing dates. */
  indicator: boolean | 'auto';
  /** IANA time zone the parts are computed in (default `UTC`), e.g. `Europe/Paris`; checked when the config is read. */
  timezone: string;
};
/**
 * Fitted state: the parts to write, the fill for a missing date (the median instant at fit), the
 * indicator flag, and the time zone (absent for UTC, as in states written before it existed). The
 * state holds everything `transform` needs.
 */
export type DatetimeState = { parts: DatePart[]; fill: number; indicator: boolean; timezone?: string };

const PART_FIELD: Record<DatePart, number> = F;

/**
 * Splits a date into numeric parts (by default year, month, day of year, day of week), computed in
 * UTC or in `timezone` (offsets and daylight saving time from the platform's time-zone data through
 * Intl). A missing date is filled with the median instant at fit, flagged by `<column>__missing` when
 * the training data had missing dates. Any date, seen or not, has parts.
 */
export const datetimeParts: FeaturizerKind<DatetimeParams, DatetimeState> = {
  kind: 'datetime-parts',
  description: 'date → year, month, day of year, day of week (UTC or a time zone; configurable parts); missing → median date',
  accepts: ['datetime'],
  params(raw) {
    param.only(raw, ['parts', 'indicator', 'timezone']);
    return {
      parts: param.listOf(raw, 'parts', DATE_PARTS, ['year', 'month', 'dayofyear', 'dayofweek']),
      indicator: param.autoBoolean(raw, 'indicator'),
      timezone: param.timezone(raw, 'timezone', 'UTC'),
    };
  },
  fit(column, params) {
    const indicator = params.indicator === 'auto' ? countMissing(column) > 0 : params.indicator;
    const state: DatetimeState = { parts: [...params.parts], fill: median(column.values as Float64Array), indicator };
    if (params.timezone !== 'UTC') state.timezone = params.timezone;
    return state;
  },
  outputs(column, _params, state) {
    const names = state.parts.map((p) => `${column}.${p}`);
    if (state.indicator) names.push(`${column}__missing`);
    return names;
  },
  transform(state, cell, out, offset) {
    const missing = cell === null;
    const t = missing ? state.fill : (cell as number);
    civil(state.timezone === undefined ? t : localTime(t, state.timezone));
    for (let j = 0; j < state.parts.length; j++) out[offset + j] = FIELDS[PART_FIELD[state.parts[j] as DatePart]] as number;
    if (state.indicator) out[offset + state.parts.length] = missing ? 1 : 0;
  },
  summary(_params, state) {
    return `${state.parts.join(', ')} (${state.timezone ?? 'UTC'}); missing → ${new Date(state.fill).toISOString().slice(0, 10)} (median)${state.indicator ? ' + missing indicator' : ''}`;
  },
};
