import { F, FIELDS } from './calendar.js';
import { type DateKindParams, type DateKindState, civilOfCell, dateKindParams, dateKindSummary, fitDateKind } from './date-kinds.js';
import type { FeaturizerKind } from './types.js';

const DATE_PARTS = ['year', 'month', 'day', 'dayofyear', 'dayofweek', 'hour', 'minute', 'epochdays'] as const;
/**
 * A calendar part of a date, in the step's time zone (UTC by default). `dayofweek` is 0 for Monday …
 * 6 for Sunday (as pandas); `dayofyear` 1 … 366; `epochdays` the days from 1970-01-01 to the (local) date.
 */
export type DatePart = (typeof DATE_PARTS)[number];

/** Parameters of {@link datetimeParts} (parts default to year, month, dayofyear, dayofweek). */
export type DatetimeParams = DateKindParams<DatePart>;
/** Fitted state of {@link datetimeParts}. */
export type DatetimeState = DateKindState<DatePart>;

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
  params: (raw) => dateKindParams(raw, DATE_PARTS, ['year', 'month', 'dayofyear', 'dayofweek']),
  fit: (column, params) => fitDateKind(column, params),
  outputs(column, _params, state) {
    const names = state.parts.map((p) => `${column}.${p}`);
    if (state.indicator) names.push(`${column}__missing`);
    return names;
  },
  transform(state, cell, out, offset) {
    const missing = civilOfCell(state, cell);
    for (let j = 0; j < state.parts.length; j++) out[offset + j] = FIELDS[PART_FIELD[state.parts[j] as DatePart]] as number;
    if (state.indicator) out[offset + state.parts.length] = missing ? 1 : 0;
  },
  summary(_params, state) {
    return `${state.parts.join(', ')}${dateKindSummary(state)}`;
  },
};
