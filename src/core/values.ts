/**
 * How mlpipe reads one cell, shared by loading (type inference, dataset writing) and by featurizers at
 * training and serving time. Keeping this in one module is what makes "the same value means the same
 * thing in training and in serving" true: a CSV cell, a JSON value and a dataset value all pass through
 * {@link toCell}.
 */

/** The column types mlpipe infers and featurizes. */
export type ColumnType = 'number' | 'integer' | 'boolean' | 'category' | 'datetime' | 'text';

export const COLUMN_TYPES: readonly ColumnType[] = ['number', 'integer', 'boolean', 'category', 'datetime', 'text'];

/**
 * A normalized cell: numbers (and datetimes, as epoch milliseconds UTC) are `number`, booleans are
 * `boolean`, categories and text are `string`, a missing value is `null`.
 */
export type Cell = number | string | boolean | null;

/**
 * Strings read as a missing value, in every source and at serving time. This is pandas' default
 * `na_values` list plus `?` (the UCI repository's marker for a missing value).
 */
export const MISSING_TOKENS: ReadonlySet<string> = new Set([
  '', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A',
  'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null', '?',
]);

/** True when a raw value stands for "missing": null, undefined, NaN or a missing token. */
export function isMissing(raw: unknown): boolean {
  if (raw === null || raw === undefined) return true;
  if (typeof raw === 'number') return Number.isNaN(raw);
  if (typeof raw === 'string') return MISSING_TOKENS.has(raw.trim());
  return false;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER_RE = /^[+-]?\d+$/;

/** Parses a number written in decimal or scientific notation; NaN when it is not one. */
export function parseNumber(text: string): number {
  const t = text.trim();
  if (!NUMBER_RE.test(t)) return Number.NaN;
  const n = Number(t);
  return Number.isFinite(n) ? n : Number.NaN;
}

/** True when `text` is an integer literal within JavaScript's safe integer range. */
export function isIntegerText(text: string): boolean {
  const t = text.trim();
  return INTEGER_RE.test(t) && Number.isSafeInteger(Number(t));
}

const TRUE_TOKENS = new Set(['true', 'yes']);
const FALSE_TOKENS = new Set(['false', 'no']);

/** Parses `true/false/yes/no` in any letter case; undefined when it is not a boolean. */
export function parseBoolean(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (TRUE_TOKENS.has(t)) return true;
  if (FALSE_TOKENS.has(t)) return false;
  return undefined;
}

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
 * impossible day (`2023-02-30`). Purely numeric day/month orders other than year-first
 * (`03/05/2024`) are ambiguous and are not dates here.
 */
export function parseDatetime(text: string): number {
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

/** Why {@link toCell} refused a value, e.g. `expected a number, got "abc"`. */
export class CellError extends Error {}

function describe(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
  if (Array.isArray(raw)) return 'an array';
  if (raw !== null && typeof raw === 'object') return 'an object';
  return String(raw);
}

/**
 * Normalizes one raw value (a CSV string, a JSON value, a dataset value) to a {@link Cell} of the given
 * column type. Missing values become `null`. Throws {@link CellError} when the value cannot be of that
 * type; the caller adds file/row/column or the JSON path.
 */
export function toCell(type: ColumnType, raw: unknown): Cell {
  if (isMissing(raw)) return null;
  switch (type) {
    case 'number':
    case 'integer': {
      if (typeof raw === 'number') {
        if (!Number.isFinite(raw)) throw new CellError(`expected a finite number, got ${describe(raw)}`);
        return raw;
      }
      if (typeof raw === 'string') {
        const n = parseNumber(raw);
        if (Number.isNaN(n)) throw new CellError(`expected a number, got ${describe(raw)}`);
        return n;
      }
      // A database's 64-bit integer: a float64 like every number (beyond 2^53 it is rounded).
      if (typeof raw === 'bigint') return Number(raw);
      throw new CellError(`expected a number, got ${describe(raw)}`);
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string') {
        const b = parseBoolean(raw);
        if (b === undefined) throw new CellError(`expected a boolean (true/false), got ${describe(raw)}`);
        return b;
      }
      throw new CellError(`expected a boolean (true/false), got ${describe(raw)}`);
    }
    case 'datetime': {
      if (typeof raw === 'number') {
        if (!Number.isFinite(raw)) throw new CellError(`expected a date, got ${describe(raw)}`);
        return raw;
      }
      if (raw instanceof Date) {
        const t = raw.getTime();
        if (Number.isNaN(t)) throw new CellError('expected a date, got an invalid Date');
        return t;
      }
      if (typeof raw === 'string') {
        const t = parseDatetime(raw);
        if (Number.isNaN(t)) throw new CellError(`expected a date like 2024-03-05, 2024-03-05T14:30:00Z or Mar 5 2024, got ${describe(raw)}`);
        return t;
      }
      throw new CellError(`expected a date, got ${describe(raw)}`);
    }
    case 'category':
    case 'text': {
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') return String(raw);
      throw new CellError(`expected a string, got ${describe(raw)}`);
    }
  }
}
