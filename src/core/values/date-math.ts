/** Calendar arithmetic and the time of day, for the date readers' fast paths (no Date objects). */
import { digitAt, digitsAt, isSpace } from './chars.js';

export const MS_PER_DAY = 86_400_000;

/** Days from 1970-01-01 to a day of the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1] as number;
}

/** {@link scanTime}'s answer for a text that is not a time. */
export const TIME_SHAPE_MISMATCH = Number.NEGATIVE_INFINITY;

/**
 * The time part `t.slice(i, end)` of a date (the TIME pattern above) as milliseconds from midnight
 * UTC, its zone applied; NaN for an impossible hour, minute or second; {@link TIME_SHAPE_MISMATCH}
 * when the text is not a time.
 */
export function scanTime(t: string, i: number, end: number): number {
  const lead = t.charCodeAt(i++);
  if (lead !== 84 && lead !== 116 && lead !== 32) return TIME_SHAPE_MISMATCH;
  let d = digitAt(t, i++, end);
  if (d < 0) return TIME_SHAPE_MISMATCH;
  let hour = d;
  d = digitAt(t, i, end);
  if (d >= 0) {
    hour = hour * 10 + d;
    i++;
  }
  if (i >= end || t.charCodeAt(i++) !== 58) return TIME_SHAPE_MISMATCH;
  const minute = i + 2 <= end ? digitsAt(t, i, 2) : -1;
  if (minute < 0) return TIME_SHAPE_MISMATCH;
  i += 2;
  let second = 0;
  let ms = 0;
  if (i < end && t.charCodeAt(i) === 58) {
    second = i + 3 <= end ? digitsAt(t, i + 1, 2) : -1;
    if (second < 0) return TIME_SHAPE_MISMATCH;
    i += 3;
    const dot = i < end ? t.charCodeAt(i) : -1;
    if (dot === 46 || dot === 44) {
      let j = i + 1;
      while (j < end && digitAt(t, j, end) >= 0) j++;
      if (j === i + 1 || j - i - 1 > 9) return TIME_SHAPE_MISMATCH;
      ms = Math.floor(Number(`0.${t.slice(i + 1, j)}`) * 1000);
      i = j;
    }
  }
  while (i < end && isSpace(t.charCodeAt(i))) i++;
  let offsetMs = 0;
  if (i < end) {
    const z = t.charCodeAt(i);
    if (z === 90 || z === 122) {
      if (i + 1 !== end) return TIME_SHAPE_MISMATCH;
    } else if (z === 43 || z === 45) {
      const rest = end - (i + 3);
      const hh = rest >= 0 ? digitsAt(t, i + 1, 2) : -1;
      let mm = 0;
      if (rest === 2) mm = digitsAt(t, i + 3, 2);
      else if (rest === 3 && t.charCodeAt(i + 3) === 58) mm = digitsAt(t, i + 4, 2);
      else if (rest !== 0) return TIME_SHAPE_MISMATCH;
      if (hh < 0 || mm < 0) return TIME_SHAPE_MISMATCH;
      offsetMs = (z === 45 ? -1 : 1) * (hh * 60 + mm) * 60_000;
    } else return TIME_SHAPE_MISMATCH;
  }
  if (hour > 23 || minute > 59 || second > 60) return Number.NaN;
  return hour * 3_600_000 + minute * 60_000 + second * 1000 + ms - offsetMs;
}
