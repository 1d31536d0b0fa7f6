import { digitsAt, isPlainAscii } from './chars.js';
import type { DateOrder } from './column-types.js';
import { MS_PER_DAY, TIME_SHAPE_MISMATCH, daysFromCivil, daysInMonth, scanTime } from './date-math.js';
import { type DayMonthDate, dayMonthDate, dayMonthEpoch, scanDayMonthSpan } from './numeric-date.js';

// A time and zone after a date: ` 14:30`, `T14:30:00.123Z`, ` 14:30:00 +02:00`.
const TIME = '(?:[T ](\\d{1,2}):(\\d{2})(?::(\\d{2})(?:[.,](\\d{1,9}))?)?\\s*(Z|[+-]\\d{2}(?::?\\d{2})?)?)?';

// Each date shape with its groups in the order year, month, day (then the time groups).
const ISO_DATE_RE = new RegExp(`^(\\d{4})[-/](\\d{1,2})[-/](\\d{1,2})${TIME}$`, 'i');

const SAME_SEPARATOR_RE = /^\d{4}([-/])\d{1,2}\1/;

const MONTH_FIRST_RE = new RegExp(`^([A-Za-z]{3,9})\\.? (\\d{1,2}),? (\\d{4})${TIME}$`, 'i');

const DAY_FIRST_RE = new RegExp(`^(\\d{1,2})[ -]([A-Za-z]{3,9})\\.?,?[ -](\\d{4})${TIME}$`, 'i');

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** 1..12 for an English month name or its abbreviation (`Jun`, `June`, `Sept`), else NaN. */
function monthNumber(name: string): number {
  const n = name.toLowerCase();
  if (n.length < 3) return Number.NaN;
  const i = MONTHS.findIndex((m) => m.startsWith(n) || (n === 'sept' && m === 'september'));
  return i < 0 ? Number.NaN : i + 1;
}

/** Year, month, day and the five time groups of a date text, or undefined when it is not a date. */
function dateParts(text: string): [number, number, number, (string | undefined)[]] | undefined {
  let m = ISO_DATE_RE.exec(text);
  if (m && SAME_SEPARATOR_RE.test(text)) return [Number(m[1]), Number(m[2]), Number(m[3]), m.slice(4)];
  m = MONTH_FIRST_RE.exec(text);
  if (m) return [Number(m[3]), monthNumber(m[1] as string), Number(m[2]), m.slice(4)];
  m = DAY_FIRST_RE.exec(text);
  if (m) return [Number(m[3]), monthNumber(m[2] as string), Number(m[1]), m.slice(4)];
  return undefined;
}

/**
 * Parses a date or date-time to epoch milliseconds: ISO-8601-like (`2024-03-05`, `2024/03/05`,
 * `2024-03-05 14:30`, `2024-03-05T14:30:00.123+02:00`) or with an English month name
 * (`Mar 5 2024`, `March 5, 2024`, `5 Mar 2024`, `05-Mar-2024`), each optionally with a time. A
 * value without a zone is read as UTC. Returns NaN when the text is not such a date or names an
 * impossible day (`2023-02-30`).
 *
 * Purely numeric dates with the year last (`03/05/2024`, `31.12.2023`, `12-31-2023 14:30`: one or
 * two digits, a separator `/`, `-` or `.`, one or two digits, the same separator, four digits, then
 * optionally a time as above) are read only with an `order` (the column's, learned at load or
 * declared): `mdy` reads `03/05/2024` as March 5, `dmy` as May 3. Without one they are ambiguous and
 * not dates (NaN), as is a value the order makes impossible (`31/12/2023` under `mdy`).
 */
export function parseDatetime(text: string, order?: DateOrder): number {
  return parseDatetimeSpan(text, 0, text.length, order);
}

/**
 * {@link parseDatetime} by its regular expressions and Date objects: what it does for every text the
 * fast path does not take, and the reference the fast path is tested against.
 */
export function parseDatetimeGeneral(text: string): number {
  const parts = dateParts(text.trim());
  if (!parts) return Number.NaN;
  const [year, month, day, time] = parts;
  const m = [undefined, undefined, undefined, undefined, undefined, ...time];
  if (Number.isNaN(month)) return Number.NaN;
  const hour = m[5] === undefined ? 0 : Number(m[5]);
  const minute = m[6] === undefined ? 0 : Number(m[6]);
  const second = m[7] === undefined ? 0 : Number(m[7]);
  const ms = m[8] === undefined ? 0 : Math.floor(Number(`0.${m[8]}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return Number.NaN;
  // setUTCFullYear, unlike Date.UTC, does not map years 0..99 to 1900..1999 (year 0 is a leap year, 1900 is not).
  const daysInMonth = new Date(new Date(0).setUTCFullYear(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return Number.NaN;
  // Date.UTC maps years 0..99 to 1900..1999; setUTCFullYear takes the year as written.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  let t = d.setUTCHours(hour, minute, second, ms);
  const zone = m[9];
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMin = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2)) : 0);
    t -= sign * offsetMin * 60_000;
  }
  return t;
}

/**
 * The fast path of {@link parseDatetime} for ISO dates as machines write them: `YYYY-MM-DD`, then
 * optionally `T`, `t` or a space and `HH:MM`, `:SS`, `.fff` (or `,fff`, 1 to 9 digits) and `Z`, `z`,
 * `±hh`, `±hhmm` or `±hh:mm`, with nothing around it (and what {@link scanTime} reads). Day arithmetic instead of Date objects and
 * regular expressions; the same result as {@link parseDatetimeGeneral}, NaN included. Undefined for
 * any other text (the general path decides).
 */
function parseIsoFast(t: string, start: number, end: number): number | undefined {
  const o = start;
  if (end - start < 10 || t.charCodeAt(o + 4) !== 45 || t.charCodeAt(o + 7) !== 45 || !isPlainAscii(t.charCodeAt(end - 1))) return undefined;
  const year = digitsAt(t, o, 4);
  const month = digitsAt(t, o + 5, 2);
  const day = digitsAt(t, o + 8, 2);
  if (year < 0 || month < 0 || day < 0) return undefined;
  // The time as numeric dates read theirs (which also takes a one-digit hour and white space before
  // the zone: the general path reads those the same way).
  const time = end - start > 10 ? scanTime(t, o + 10, end) : 0;
  if (time === TIME_SHAPE_MISMATCH) return undefined;
  if (time !== time || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  return daysFromCivil(year, month, day) * MS_PER_DAY + time;
}

const scratchDayMonth = dayMonthDate();

/** {@link parseDatetime} of `text.slice(start, end)`. */
export function parseDatetimeSpan(text: string, start: number, end: number, order?: DateOrder): number {
  const fast = end > start ? parseIsoFast(text, start, end) : undefined;
  if (fast !== undefined) return fast;
  if (order !== undefined) {
    // No other date shape starts with one or two digits and a `/`, `-` or `.` followed by a digit.
    const dm = scratchDayMonth;
    if (scanDayMonthSpan(text, start, end, dm)) return dayMonthEpoch(dm, order);
  }
  return parseDatetimeGeneral(text.slice(start, end));
}

/**
 * What type inference needs of a text that may be a date: {@link parseDatetimeSpan} without an
 * order, except that a numeric date with the year last sets `dm.matched` and its numbers in `dm`
 * (the caller weighs both orders) and gives NaN. ISO dates go by the fast path first, as before.
 */
export function readDateSpan(text: string, start: number, end: number, dm: DayMonthDate): number {
  dm.matched = false;
  const fast = end > start ? parseIsoFast(text, start, end) : undefined;
  if (fast !== undefined) return fast;
  if (scanDayMonthSpan(text, start, end, dm)) {
    dm.matched = true;
    return Number.NaN;
  }
  return parseDatetimeGeneral(text.slice(start, end));
}
