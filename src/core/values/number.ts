import { plainSpan } from './chars.js';

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

/** Parses a number written in decimal or scientific notation; NaN when it is not one. */
export function parseNumber(text: string): number {
  return parseNumberSpan(text, 0, text.length, scratchInfo);
}

/** True when `text` is an integer literal within JavaScript's safe integer range. */
export function isIntegerText(text: string): boolean {
  parseNumberSpan(text, 0, text.length, scratchInfo);
  return scratchInfo.integer;
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
  const n = parseNumberSpan(text, 0, text.length, scratchInfo);
  if (n !== n) return 0;
  return scratchInfo.integer ? 1 : 2;
}

/** Where the readers that answer one thing put the other (reused: reading allocates nothing). */
const scratchInfo = { integer: false };

/** {@link parseNumberText} of `text.slice(start, end)`: every reader above is this one. */
export function parseNumberSpan(text: string, start: number, end: number, info: { integer: boolean }): number {
  if (!plainSpan(text, start, end)) {
    // White space to trim, or an empty or non-ASCII end: the general reading.
    const t = text.slice(start, end).trim();
    info.integer = INTEGER_RE.test(t) && Number.isSafeInteger(Number(t));
    if (!NUMBER_RE.test(t)) return Number.NaN;
    const n = Number(t);
    return Number.isFinite(n) ? n : Number.NaN;
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
