import { isPlainAscii } from './chars.js';

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

/** True when a raw value stands for "missing": null, undefined, NaN or a missing token. */
export function isMissing(raw: unknown): boolean {
  if (raw === null || raw === undefined) return true;
  if (typeof raw === 'number') return Number.isNaN(raw);
  // A string is its own span: one test for both.
  if (typeof raw === 'string') return isMissingSpan(raw, 0, raw.length);
  return false;
}

/** {@link isMissing} of `text.slice(start, end)`. */
export function isMissingSpan(text: string, start: number, end: number): boolean {
  const n = end - start;
  if (n <= 0) return true;
  // Without white space around it (`trim` would change nothing), a string that is longer than every
  // token, or does not start and end like one, is no token.
  const first = text.charCodeAt(start);
  const last = text.charCodeAt(end - 1);
  if (isPlainAscii(first) && isPlainAscii(last) && (n > MISSING_MAX_LENGTH || MISSING_FIRST[first] === 0 || MISSING_LAST[last] === 0)) return false;
  return MISSING_TOKENS.has(text.slice(start, end).trim());
}
