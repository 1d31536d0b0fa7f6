/**
 * Character tests the cell readers share. Their fast paths read char codes of a string, or of a span
 * of it (`text.slice(start, end)` without making that string: the CSV loader keeps values as spans of
 * the text it read), and fall back to `trim` and regular expressions only where a value may have white
 * space around it.
 */

/** True for a printable ASCII character other than a space (never white space that `trim` removes). */
export function isPlainAscii(c: number): boolean {
  return c > 32 && c < 127;
}

/** True for the characters of `\s` (and of `trim`): the ECMAScript white space and line terminators. */
export function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * True when the span is not empty and has no white space around it that `trim` would remove (or may:
 * a non-ASCII end is not looked into), so the fast paths may read it as it stands.
 */
export function plainSpan(text: string, start: number, end: number): boolean {
  return end > start && isPlainAscii(text.charCodeAt(start)) && isPlainAscii(text.charCodeAt(end - 1));
}

export function spanEqualsIgnoringCase(text: string, start: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if ((text.charCodeAt(start + i) | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/** The digit at `i` (0..9), or -1 when `i` is at or past `end` or holds no digit. */
export function digitAt(t: string, i: number, end: number): number {
  if (i >= end) return -1;
  const c = t.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** The value of `count` ASCII digits at `at`, or -1 when they are not all digits. */
export function digitsAt(t: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const c = t.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}
