import { DAY_MS, F, FIELDS } from './calendar.js';
import { type DateKindParams, type DateKindState, civilOfCell, dateKindParams, dateKindSummary, fitDateKind } from './date-kinds.js';
import type { FeaturizerKind } from './types.js';

const CYCLIC_PARTS = ['month', 'dayofweek', 'hour', 'dayofyear'] as const;
/** A periodic part of a date: month (of 12), day of week (of 7), time of day (of 24 h), day of year (of 365 or 366). */
export type CyclicPart = (typeof CYCLIC_PARTS)[number];

/** Parameters of {@link datetimeCyclic} (parts default to all four: month, dayofweek, hour, dayofyear). */
export type CyclicParams = DateKindParams<CyclicPart>;
/** Fitted state of {@link datetimeCyclic}. */
export type CyclicState = DateKindState<CyclicPart>;

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
  params: (raw) => dateKindParams(raw, CYCLIC_PARTS, CYCLIC_PARTS),
  fit: (column, params) => fitDateKind(column, params),
  outputs(column, _params, state) {
    const names = state.parts.flatMap((p) => [`${column}.${p}_sin`, `${column}.${p}_cos`]);
    if (state.indicator) names.push(`${column}__missing`);
    return names;
  },
  transform(state, cell, out, offset) {
    const missing = civilOfCell(state, cell);
    for (let j = 0; j < state.parts.length; j++) {
      const a = 2 * Math.PI * turn(state.parts[j] as CyclicPart);
      out[offset + 2 * j] = Math.sin(a);
      out[offset + 2 * j + 1] = Math.cos(a);
    }
    if (state.indicator) out[offset + 2 * state.parts.length] = missing ? 1 : 0;
  },
  summary(_params, state) {
    return `sin/cos of ${state.parts.join(', ')}${dateKindSummary(state)}`;
  },
};
