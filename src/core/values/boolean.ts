import { plainSpan, spanEqualsIgnoringCase } from './chars.js';

const TRUE_TOKENS = new Set(['true', 'yes']);
const FALSE_TOKENS = new Set(['false', 'no']);

/** Parses `true/false/yes/no` in any letter case; undefined when it is not a boolean. */
export function parseBoolean(text: string): boolean | undefined {
  return parseBooleanSpan(text, 0, text.length);
}

/** {@link parseBoolean} of `text.slice(start, end)`. */
export function parseBooleanSpan(text: string, start: number, end: number): boolean | undefined {
  if (!plainSpan(text, start, end)) {
    // White space to trim, or an empty or non-ASCII end: the general reading.
    const t = text.slice(start, end).trim().toLowerCase();
    if (TRUE_TOKENS.has(t)) return true;
    if (FALSE_TOKENS.has(t)) return false;
    return undefined;
  }
  // `| 0x20` lowers exactly the upper-case ASCII letters; no other character lower-cases to a
  // letter of these words (checked over all of Unicode), so they stay different.
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
      // No character lower-cases to fewer characters, nor a non-ASCII one to a letter of these words.
      return undefined;
  }
}
