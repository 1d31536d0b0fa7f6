import { countMissing, median } from './numeric.js';
import { param } from './params.js';
import type { FeaturizerKind } from './types.js';

export const DATE_PARTS = ['year', 'month', 'day', 'dayofyear', 'dayofweek', 'hour', 'minute', 'epochdays'] as const;
/** A calendar part of a date, computed in UTC. `dayofweek` is 0 for Monday … 6 for Sunday (as pandas). */
export type DatePart = (typeof DATE_PARTS)[number];

/** Parameters of {@link datetimeParts}. */
export type DatetimeParams = { parts: DatePart[]; indicator: boolean | 'auto' };
/**
 * Fitted state: the parts to write, the fill for a missing date (the median instant at fit) and the
 * indicator flag. The state holds everything `transform` needs.
 */
export type DatetimeState = { parts: DatePart[]; fill: number; indicator: boolean };

const DAY_MS = 86_400_000;
const CUMULATIVE_DAYS = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/**
 * Writes the requested parts of an instant (epoch ms, UTC) without allocating (no Date object):
 * days-from-civil arithmetic after Howard Hinnant's algorithm.
 */
function writeParts(t: number, parts: readonly DatePart[], out: Float64Array, offset: number): void {
  const days = Math.floor(t / DAY_MS);
  const msOfDay = t - days * DAY_MS;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  for (let j = 0; j < parts.length; j++) {
    let v: number;
    switch (parts[j]) {
      case 'year':
        v = year;
        break;
      case 'month':
        v = month;
        break;
      case 'day':
        v = day;
        break;
      case 'dayofyear': {
        const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
        v = (CUMULATIVE_DAYS[month - 1] as number) + day + (leap && month > 2 ? 1 : 0);
        break;
      }
      case 'dayofweek':
        v = (((days + 3) % 7) + 7) % 7;
        break;
      case 'hour':
        v = Math.floor(msOfDay / 3_600_000);
        break;
      case 'minute':
        v = Math.floor((msOfDay % 3_600_000) / 60_000);
        break;
      default:
        v = days;
    }
    out[offset + j] = v;
  }
}

/**
 * Splits a date into numeric parts (by default year, month, day of year, day of week; all in UTC).
 * A missing date is filled with the median instant at fit, flagged by `<column>__missing` when the
 * training data had missing dates.
 */
export const datetimeParts: FeaturizerKind<DatetimeParams, DatetimeState> = {
  kind: 'datetime-parts',
  description: 'date → year, month, day of year, day of week (UTC; configurable parts); missing → median date',
  accepts: ['datetime'],
  params(raw) {
    param.only(raw, ['parts', 'indicator']);
    return {
      parts: param.listOf(raw, 'parts', DATE_PARTS, ['year', 'month', 'dayofyear', 'dayofweek']),
      indicator: param.autoBoolean(raw, 'indicator'),
    };
  },
  fit(column, params) {
    const indicator = params.indicator === 'auto' ? countMissing(column) > 0 : params.indicator;
    return { parts: [...params.parts], fill: median(column.values as Float64Array), indicator };
  },
  outputs(column, _params, state) {
    const names = state.parts.map((p) => `${column}.${p}`);
    if (state.indicator) names.push(`${column}__missing`);
    return names;
  },
  transform(state, cell, out, offset) {
    const missing = cell === null;
    writeParts(missing ? state.fill : (cell as number), state.parts, out, offset);
    if (state.indicator) out[offset + state.parts.length] = missing ? 1 : 0;
  },
  summary(_params, state) {
    return `${state.parts.join(', ')} (UTC); missing → ${new Date(state.fill).toISOString().slice(0, 10)} (median)${state.indicator ? ' + missing indicator' : ''}`;
  },
};
