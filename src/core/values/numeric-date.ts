import { digitAt, digitsAt, plainSpan } from './chars.js';
import type { DateOrder } from './column-types.js';
import { MS_PER_DAY, TIME_SHAPE_MISMATCH, daysFromCivil, daysInMonth, scanTime } from './date-math.js';

/**
 * A numeric date with the year last (`A/B/YYYY`, see {@link parseDatetime}) before its order is
 * known: its two leading numbers, the year, and the time of day.
 */
export interface DayMonthDate {
  /** Set by {@link readDateSpan}: the text was such a date. */
  matched: boolean;
  first: number;
  second: number;
  year: number;
  /** Milliseconds from midnight UTC of the date, the zone applied; NaN for an impossible time (`25:00`). */
  time: number;
}

/** A new {@link DayMonthDate} to scan into (reused: scanning allocates nothing). */
export function dayMonthDate(): DayMonthDate {
  return { matched: false, first: 0, second: 0, year: 0, time: 0 };
}

/**
 * Reads `text.slice(start, end)` (trimmed) as `A{sep}B{sep}YYYY` with an optional time into `out`
 * (`A`, `B` one or two digits; sep `/`, `-` or `.`, the same twice; the time as the TIME pattern:
 * `T`/`t`/space, `H:MM` or `HH:MM`, optional `:SS`, `.fff` or `,fff` (1 to 9 digits), white space,
 * `Z` or `±hh[[:]mm]`). False when the text does not have that shape (numbers out of range still
 * match: {@link dayMonthEpoch} judges them). Reads characters, no regular expression.
 */
export function scanDayMonthSpan(text: string, start: number, end: number, out: DayMonthDate): boolean {
  if (!plainSpan(text, start, end)) {
    const t = text.slice(start, end).trim();
    return t.length > 0 && scanDayMonth(t, 0, t.length, out);
  }
  return scanDayMonth(text, start, end, out);
}

function scanDayMonth(t: string, start: number, end: number, out: DayMonthDate): boolean {
  // The shortest is `1/2/2024`.
  if (end - start < 8) return false;
  let i = start;
  let d = digitAt(t, i++, end);
  if (d < 0) return false;
  let first = d;
  d = digitAt(t, i, end);
  if (d >= 0) {
    first = first * 10 + d;
    i++;
  }
  const sep = t.charCodeAt(i++);
  if (sep !== 47 && sep !== 45 && sep !== 46) return false;
  d = digitAt(t, i++, end);
  if (d < 0) return false;
  let second = d;
  d = digitAt(t, i, end);
  if (d >= 0) {
    second = second * 10 + d;
    i++;
  }
  if (i >= end || t.charCodeAt(i++) !== sep || i + 4 > end) return false;
  const year = digitsAt(t, i, 4);
  if (year < 0) return false;
  i += 4;
  let time = 0;
  if (i < end) {
    time = scanTime(t, i, end);
    if (time === TIME_SHAPE_MISMATCH) return false;
  }
  out.first = first;
  out.second = second;
  out.year = year;
  out.time = time;
  return true;
}

/**
 * Epoch milliseconds of a scanned numeric date read in `order` (`mdy`: the first number is the
 * month); NaN when that order makes it impossible (month 13, `02/30/2024`) or its time is.
 */
export function dayMonthEpoch(date: DayMonthDate, order: DateOrder): number {
  const month = order === 'mdy' ? date.first : date.second;
  const day = order === 'mdy' ? date.second : date.first;
  const time = date.time;
  if (time !== time || month < 1 || month > 12 || day < 1 || day > daysInMonth(date.year, month)) return Number.NaN;
  return daysFromCivil(date.year, month, day) * MS_PER_DAY + time;
}
