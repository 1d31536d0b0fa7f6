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
 * The order of day and month in a purely numeric date (`03/05/2024`): month first (`mdy`, as in the
 * US and pandas' default) or day first (`dmy`). A datetime column learns it from its values at load
 * (or has it declared), and keeps it up to serving.
 */
export type DateOrder = 'mdy' | 'dmy';

export const DATE_ORDERS: readonly DateOrder[] = ['mdy', 'dmy'];

/** How people write a date of that order: `MM/DD/YYYY` or `DD/MM/YYYY`. */
export function dateOrderPattern(order: DateOrder): string {
  return order === 'mdy' ? 'MM/DD/YYYY' : 'DD/MM/YYYY';
}

/**
 * A column type as a user (`--types`, `types:`) or a source declares it: a {@link ColumnType}, or a
 * datetime with its day/month order (`datetime:dmy`, `datetime:mdy`).
 */
export type DeclaredType = ColumnType | `datetime:${DateOrder}`;

export const DECLARED_TYPES: readonly DeclaredType[] = [...COLUMN_TYPES, 'datetime:mdy', 'datetime:dmy'];

/** The column type and the day/month order (for `datetime:mdy` and `datetime:dmy`) of a declared type. */
export function splitDeclaredType(declared: DeclaredType): { type: ColumnType; dateOrder?: DateOrder } {
  if (declared === 'datetime:mdy') return { type: 'datetime', dateOrder: 'mdy' };
  if (declared === 'datetime:dmy') return { type: 'datetime', dateOrder: 'dmy' };
  return { type: declared };
}

/**
 * Why `text` is not a {@link DeclaredType} (a sentence listing the allowed values), or undefined
 * when it is one.
 */
export function declaredTypeProblem(text: string): string | undefined {
  if ((DECLARED_TYPES as readonly string[]).includes(text)) return undefined;
  if (text.startsWith('datetime:')) {
    return `unknown date order "${text.slice('datetime:'.length)}": expected datetime:mdy (month first: 03/05/2024 is March 5) or datetime:dmy (day first: 03/05/2024 is May 3), or datetime to learn the order from the values`;
  }
  return `unknown type "${text}": expected one of ${DECLARED_TYPES.join(', ')}`;
}

/** The declared type of a column type and order (`datetime` with `dmy` is `datetime:dmy`). */
export function joinDeclaredType(type: ColumnType, dateOrder: DateOrder | undefined): DeclaredType {
  return type === 'datetime' && dateOrder !== undefined ? `datetime:${dateOrder}` : type;
}

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

/** The longest missing token, and the characters missing tokens start and end with (fast rejection). */
const MISSING_MAX_LENGTH = Math.max(...[...MISSING_TOKENS].map((t) => t.length));
const MISSING_FIRST = new Uint8Array(128);
const MISSING_LAST = new Uint8Array(128);
for (const t of MISSING_TOKENS) {
  if (t === '') continue;
  MISSING_FIRST[t.charCodeAt(0)] = 1;
  MISSING_LAST[t.charCodeAt(t.length - 1)] = 1;
}

/** True for a printable ASCII character other than a space (never white space that `trim` removes). */
function isPlainAscii(c: number): boolean {
  return c > 32 && c < 127;
}

/** True for the characters of `\s` (and of `trim`): the ECMAScript white space and line terminators. */
export function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** True when a raw value stands for "missing": null, undefined, NaN or a missing token. */
export function isMissing(raw: unknown): boolean {
  if (raw === null || raw === undefined) return true;
  if (typeof raw === 'number') return Number.isNaN(raw);
  if (typeof raw === 'string') {
    const n = raw.length;
    if (n === 0) return true;
    // Without white space around it (`trim` would change nothing), a string that is longer than every
    // token, or does not start and end like one, is no token.
    const first = raw.charCodeAt(0);
    const last = raw.charCodeAt(n - 1);
    if (isPlainAscii(first) && isPlainAscii(last) && (n > MISSING_MAX_LENGTH || MISSING_FIRST[first] === 0 || MISSING_LAST[last] === 0)) return false;
    return MISSING_TOKENS.has(raw.trim());
  }
  return false;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER_RE = /^[+-]?\d+$/;

/** The shape of a number literal. */
const enum NumberShape {
  /** Not a number literal. */
  None = 0,
  /** An integer literal (`-12`, `007`). */
  Integer = 1,
  /** A decimal or scientific literal (`1.5`, `.5`, `1e3`). */
  Decimal = 2,
}

/** Powers of ten that are exact doubles. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** Set by {@link scanNumber}: the shape of the text, and whether its return value is the number. */
let scannedShape: NumberShape = NumberShape.None;
let scannedExact = false;

/**
 * Reads the number literal `t.slice(start, end)` (written without surrounding white space), by the
 * grammar of {@link parseNumber} (`[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`), and
 * sets `scannedShape`. When the literal has at most 15 digits and no exponent it also computes its
 * value (`scannedExact`): the digits as an integer (exact, below 2^53) divided by a power of ten
 * (exact), one correctly rounded division, which is the correctly rounded value `Number()` gives.
 * Otherwise returns NaN and the caller asks `Number()`.
 */
function scanNumber(t: string, start: number, end: number): number {
  scannedExact = false;
  scannedShape = NumberShape.None;
  let i = start;
  let c = i < end ? t.charCodeAt(i) : -1;
  let negative = false;
  if (c === 43 || c === 45) {
    negative = c === 45;
    c = ++i < end ? t.charCodeAt(i) : -1;
  }
  let m = 0;
  let digits = 0;
  while (c >= 48 && c <= 57) {
    m = m * 10 + (c - 48);
    digits++;
    c = ++i < end ? t.charCodeAt(i) : -1;
  }
  if (i === end) {
    if (digits === 0) return Number.NaN;
    scannedShape = NumberShape.Integer;
    if (digits > 15) return Number.NaN;
    scannedExact = true;
    return negative ? -m : m;
  }
  let fraction = 0;
  if (c === 46) {
    c = ++i < end ? t.charCodeAt(i) : -1;
    while (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      fraction++;
      c = ++i < end ? t.charCodeAt(i) : -1;
    }
  }
  if (digits === 0) return Number.NaN;
  if (i === end) {
    scannedShape = NumberShape.Decimal;
    if (digits > 15) return Number.NaN;
    scannedExact = true;
    const v = m / (POW10[fraction] as number);
    return negative ? -v : v;
  }
  if (c !== 101 && c !== 69) return Number.NaN;
  c = ++i < end ? t.charCodeAt(i) : -1;
  if (c === 43 || c === 45) c = ++i < end ? t.charCodeAt(i) : -1;
  const exponent = i;
  while (c >= 48 && c <= 57) c = ++i < end ? t.charCodeAt(i) : -1;
  if (i > exponent && i === end) scannedShape = NumberShape.Decimal;
  return Number.NaN;
}

/** True when `text` has white space that `trim` would remove (or may have: any non-ASCII end). */
function mayNeedTrim(text: string): boolean {
  return !isPlainAscii(text.charCodeAt(0)) || !isPlainAscii(text.charCodeAt(text.length - 1));
}

/** Parses a number written in decimal or scientific notation; NaN when it is not one. */
export function parseNumber(text: string): number {
  if (text.length > 0 && !mayNeedTrim(text)) {
    const v = scanNumber(text, 0, text.length);
    if (scannedExact) return v;
    if (scannedShape === NumberShape.None) return Number.NaN;
    const n = Number(text);
    return Number.isFinite(n) ? n : Number.NaN;
  }
  const t = text.trim();
  if (!NUMBER_RE.test(t)) return Number.NaN;
  const n = Number(t);
  return Number.isFinite(n) ? n : Number.NaN;
}

/** True when `text` is an integer literal within JavaScript's safe integer range. */
export function isIntegerText(text: string): boolean {
  if (text.length > 0 && !mayNeedTrim(text)) {
    scanNumber(text, 0, text.length);
    if (scannedShape !== NumberShape.Integer) return false;
    return scannedExact || Number.isSafeInteger(Number(text));
  }
  const t = text.trim();
  return INTEGER_RE.test(t) && Number.isSafeInteger(Number(t));
}

/**
 * {@link parseNumber} and {@link isIntegerText} in one reading: the number (NaN when the text is not
 * one), and in `info.integer` whether the text is an integer literal within the safe range.
 */
export function parseNumberText(text: string, info: { integer: boolean }): number {
  return parseNumberSpan(text, 0, text.length, info);
}

/**
 * What a text is as a number, in one reading: 0 not a number ({@link parseNumber} gives NaN), 1 an
 * integer within the safe range ({@link isIntegerText}), 2 any other number.
 */
export function numberKind(text: string): 0 | 1 | 2 {
  if (text.length > 0 && !mayNeedTrim(text)) {
    scanNumber(text, 0, text.length);
    const shape = scannedShape;
    if (shape === NumberShape.None) return 0;
    if (scannedExact) return shape === NumberShape.Integer ? 1 : 2;
    const n = Number(text);
    if (!Number.isFinite(n)) return 0;
    return shape === NumberShape.Integer && Number.isSafeInteger(n) ? 1 : 2;
  }
  if (isIntegerText(text)) return 1;
  return Number.isNaN(parseNumber(text)) ? 0 : 2;
}

const TRUE_TOKENS = new Set(['true', 'yes']);
const FALSE_TOKENS = new Set(['false', 'no']);

/** True when `text` (ASCII, no white space around it) equals `word` (lower case) in any letter case. */
function equalsIgnoringCase(text: string, word: string): boolean {
  for (let i = 0; i < word.length; i++) if ((text.charCodeAt(i) | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/** Parses `true/false/yes/no` in any letter case; undefined when it is not a boolean. */
export function parseBoolean(text: string): boolean | undefined {
  const n = text.length;
  if (n > 0 && !mayNeedTrim(text)) {
    // `| 0x20` lowers exactly the upper-case ASCII letters; no other character lower-cases to a
    // letter of these words (checked over all of Unicode), so they stay different.
    switch (n) {
      case 2:
        return equalsIgnoringCase(text, 'no') ? false : undefined;
      case 3:
        return equalsIgnoringCase(text, 'yes') ? true : undefined;
      case 4:
        return equalsIgnoringCase(text, 'true') ? true : undefined;
      case 5:
        return equalsIgnoringCase(text, 'false') ? false : undefined;
      default:
        // No character lower-cases to fewer characters, nor a non-ASCII one to a letter of these words.
        return undefined;
    }
  }
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

const MS_PER_DAY = 86_400_000;

/** The value of `count` ASCII digits at `at`, or -1 when they are not all digits. */
function digitsAt(t: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const c = t.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Days from 1970-01-01 to a day of the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1] as number;
}

/**
 * The fast path of {@link parseDatetime} for ISO dates as machines write them: `YYYY-MM-DD`, then
 * optionally `T`, `t` or a space and `HH:MM`, `:SS`, `.fff` (or `,fff`, 1 to 9 digits) and `Z`, `z`,
 * `±hh`, `±hhmm` or `±hh:mm`, with nothing around it. Day arithmetic instead of Date objects and
 * regular expressions; the same result as {@link parseDatetimeGeneral}, NaN included. Undefined for
 * any other text (the general path decides).
 */
function parseIsoFast(t: string, start: number, end: number): number | undefined {
  const n = end - start;
  const o = start;
  if (n < 10 || t.charCodeAt(o + 4) !== 45 || t.charCodeAt(o + 7) !== 45 || !isPlainAscii(t.charCodeAt(end - 1))) return undefined;
  const year = digitsAt(t, o, 4);
  const month = digitsAt(t, o + 5, 2);
  const day = digitsAt(t, o + 8, 2);
  if (year < 0 || month < 0 || day < 0) return undefined;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  let offsetMs = 0;
  if (n > 10) {
    const sep = t.charCodeAt(o + 10);
    if (sep !== 84 && sep !== 116 && sep !== 32) return undefined;
    if (n < 16 || t.charCodeAt(o + 13) !== 58) return undefined;
    hour = digitsAt(t, o + 11, 2);
    minute = digitsAt(t, o + 14, 2);
    if (hour < 0 || minute < 0) return undefined;
    // `i` is relative to `start` from here on.
    let i = 16;
    if (i < n && t.charCodeAt(o + i) === 58) {
      if (i + 3 > n) return undefined;
      second = digitsAt(t, o + i + 1, 2);
      if (second < 0) return undefined;
      i += 3;
      const dot = i < n ? t.charCodeAt(o + i) : -1;
      if (dot === 46 || dot === 44) {
        let j = i + 1;
        while (j < n && j - i <= 9) {
          const c = t.charCodeAt(o + j);
          if (c < 48 || c > 57) break;
          j++;
        }
        if (j === i + 1) return undefined;
        ms = Math.floor(Number(`0.${t.slice(o + i + 1, o + j)}`) * 1000);
        i = j;
      }
    }
    if (i < n) {
      const z = t.charCodeAt(o + i);
      if (z === 90 || z === 122) {
        if (i + 1 !== n) return undefined;
      } else if (z === 43 || z === 45) {
        const rest = n - (i + 3);
        if (rest < 0) return undefined;
        const hh = digitsAt(t, o + i + 1, 2);
        if (hh < 0) return undefined;
        let mm = 0;
        if (rest === 2) mm = digitsAt(t, o + i + 3, 2);
        else if (rest === 3 && t.charCodeAt(o + i + 3) === 58) mm = digitsAt(t, o + i + 4, 2);
        else if (rest !== 0) return undefined;
        if (mm < 0) return undefined;
        offsetMs = (z === 45 ? -1 : 1) * (hh * 60 + mm) * 60_000;
      } else return undefined;
    }
  }
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return Number.NaN;
  if (day > daysInMonth(year, month)) return Number.NaN;
  return daysFromCivil(year, month, day) * MS_PER_DAY + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms - offsetMs;
}

// Span versions: the answer of the function above for `text.slice(start, end)`, without making that
// string when they can (the CSV loader keeps values as spans of the text it read).

/** {@link isMissing} of `text.slice(start, end)`. */
export function isMissingSpan(text: string, start: number, end: number): boolean {
  const n = end - start;
  if (n <= 0) return true;
  const first = text.charCodeAt(start);
  const last = text.charCodeAt(end - 1);
  if (isPlainAscii(first) && isPlainAscii(last) && (n > MISSING_MAX_LENGTH || MISSING_FIRST[first] === 0 || MISSING_LAST[last] === 0)) return false;
  return MISSING_TOKENS.has(text.slice(start, end).trim());
}

/** True when the span has no white space around it that `trim` would remove (see {@link mayNeedTrim}). */
function plainSpan(text: string, start: number, end: number): boolean {
  return end > start && isPlainAscii(text.charCodeAt(start)) && isPlainAscii(text.charCodeAt(end - 1));
}

function spanEqualsIgnoringCase(text: string, start: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if ((text.charCodeAt(start + i) | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/** {@link parseBoolean} of `text.slice(start, end)`. */
export function parseBooleanSpan(text: string, start: number, end: number): boolean | undefined {
  if (!plainSpan(text, start, end)) return parseBoolean(text.slice(start, end));
  switch (end - start) {
    case 2:
      return spanEqualsIgnoringCase(text, start, 'no') ? false : undefined;
    case 3:
      return spanEqualsIgnoringCase(text, start, 'yes') ? true : undefined;
    case 4:
      return spanEqualsIgnoringCase(text, start, 'true') ? true : undefined;
    case 5:
      return spanEqualsIgnoringCase(text, start, 'false') ? false : undefined;
    default:
      return undefined;
  }
}

/** {@link parseNumberText} of `text.slice(start, end)`. */
export function parseNumberSpan(text: string, start: number, end: number, info: { integer: boolean }): number {
  if (!plainSpan(text, start, end)) {
    // White space to trim, or an empty or non-ASCII end: the general readers.
    const t = text.slice(start, end);
    info.integer = isIntegerText(t);
    return parseNumber(t);
  }
  const v = scanNumber(text, start, end);
  const shape = scannedShape;
  if (scannedExact) {
    info.integer = shape === NumberShape.Integer;
    return v;
  }
  info.integer = false;
  if (shape === NumberShape.None) return Number.NaN;
  const n = Number(text.slice(start, end));
  if (!Number.isFinite(n)) return Number.NaN;
  info.integer = shape === NumberShape.Integer && Number.isSafeInteger(n);
  return n;
}

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

const scratchDayMonth = dayMonthDate();

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

/** The digit at `i` (0..9), or -1 when `i` is at or past `end` or holds no digit. */
function digitAt(t: string, i: number, end: number): number {
  if (i >= end) return -1;
  const c = t.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
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

/** {@link scanTime}'s answer for a text that is not a time. */
const TIME_SHAPE_MISMATCH = Number.NEGATIVE_INFINITY;

/**
 * The time part `t.slice(i, end)` of a date (the TIME pattern above) as milliseconds from midnight
 * UTC, its zone applied; NaN for an impossible hour, minute or second; {@link TIME_SHAPE_MISMATCH}
 * when the text is not a time.
 */
function scanTime(t: string, i: number, end: number): number {
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

/** Why {@link toCell} refused a value, e.g. `expected a number, got "abc"`. */
export class CellError extends Error {}

/** A raw value for a message: a string quoted (cut at 40 characters), `an array`, `an object`, or as written. */
export function describeRawValue(raw: unknown): string {
  return describe(raw);
}

function describe(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
  if (Array.isArray(raw)) return 'an array';
  if (raw !== null && typeof raw === 'object') return 'an object';
  return String(raw);
}

/**
 * Normalizes one raw value (a CSV string, a JSON value, a dataset value) to a {@link Cell} of the given
 * column type. Missing values become `null`. Throws {@link CellError} when the value cannot be of that
 * type; the caller adds file/row/column or the JSON path. A datetime column's `dateOrder` (learned or
 * declared) says how its numeric dates with the year last (`03/05/2024`) read; without one they are
 * refused, as ambiguous.
 */
export function toCell(type: ColumnType, raw: unknown, dateOrder?: DateOrder): Cell {
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
        const t = parseDatetime(raw, dateOrder);
        if (Number.isNaN(t)) {
          if (dateOrder !== undefined) throw new CellError(`expected a date as ${dateOrderPattern(dateOrder)} (the column's order) or like 2024-03-05, got ${describe(raw)}`);
          throw new CellError(`expected a date like 2024-03-05, 2024-03-05T14:30:00Z or Mar 5 2024, got ${describe(raw)}`);
        }
        return t;
      }
      throw new CellError(`expected a date, got ${describe(raw)}`);
    }
    case 'category':
    case 'text': {
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') return String(raw);
      // A spreadsheet's or database's date in a column with other values: its ISO text, as inference counted it.
      if (raw instanceof Date && !Number.isNaN(raw.getTime())) return raw.toISOString();
      throw new CellError(`expected a string, got ${describe(raw)}`);
    }
  }
}
