import { parseBoolean } from './values.js';

/**
 * How a boolean column wrote its two values in the source: `Yes`/`No`, `TRUE`/`FALSE`, `yes`/`no` —
 * any of the words {@link parseBoolean} reads (true/false/yes/no in any letter case). A boolean column
 * is read as booleans, which is what its features need; a prediction of it answers in these
 * spellings, the values the user trained on. Absent when the column wrote `true`/`false` (or held
 * real booleans: JSON, SQL), whose answers are booleans as they always were.
 */
export interface TruthSpellings {
  true: string;
  false: string;
}

/** The words {@link parseBoolean} reads, lower case; index = word number of a spelling key. */
const WORDS = ['no', 'yes', 'true', 'false'] as const;
const WORD_VALUE = [false, true, true, false] as const;
/** Spelling keys: word number × 32 + a bit per letter that is upper case (the longest word has 5). */
const KEYS = WORDS.length * 32;

/** The spelling of key `key`: its word with the upper-case letters its mask says. */
function spellingOfKey(key: number): string {
  const word = WORDS[key >> 5]!;
  let out = '';
  for (let i = 0; i < word.length; i++) out += (key >> i) & 1 ? word[i]!.toUpperCase() : word[i]!;
  return out;
}

/** The spelling key of `text.slice(a, b)` (no white space around it, ASCII), or -1 when it is no boolean word. */
function keyOfSpan(text: string, a: number, b: number): number {
  const n = b - a;
  let word: number;
  switch (n) {
    case 2:
      word = 0;
      break;
    case 3:
      word = 1;
      break;
    case 4:
      word = 2;
      break;
    case 5:
      word = 3;
      break;
    default:
      return -1;
  }
  const w = WORDS[word]!;
  let mask = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(a + i);
    if ((c | 0x20) !== w.charCodeAt(i)) return -1;
    if (c !== w.charCodeAt(i)) mask |= 1 << i;
  }
  return word * 32 + mask;
}

/** True for a code unit that might be trimmed (white space, or anything not plain ASCII). */
function mayTrim(c: number): boolean {
  return c <= 32 || c >= 127;
}

/**
 * The spelling of the other truth value in the same style: `Yes` → `No`, `TRUE` → `FALSE`,
 * `yes` → `no`; a spelling in no one style (`yEs`) gives the lower-case word.
 */
export function oppositeSpelling(spelling: string): string {
  const value = parseBoolean(spelling);
  const word = spelling.trim().toLowerCase();
  const other = word === 'yes' ? 'no' : word === 'no' ? 'yes' : value ? 'false' : 'true';
  if (spelling === spelling.toUpperCase()) return other.toUpperCase();
  if (spelling === spelling[0]!.toUpperCase() + spelling.slice(1).toLowerCase()) return other[0]!.toUpperCase() + other.slice(1);
  return other;
}

/**
 * Checks spellings read from a file (dataset metadata, a features folder): each must read as its own
 * truth value. Undefined when they do not, or are `true`/`false` (nothing to record).
 */
export function validSpellings(value: unknown): TruthSpellings | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const t: unknown = (value as Record<string, unknown>).true;
  const f: unknown = (value as Record<string, unknown>).false;
  if (typeof t !== 'string' || typeof f !== 'string' || parseBoolean(t) !== true || parseBoolean(f) !== false) return undefined;
  if (t === 'true' && f === 'false') return undefined;
  return { true: t, false: f };
}

/** A boolean in the column's spellings, when it has some; the boolean itself otherwise. */
export function spell(value: boolean, spellings: TruthSpellings | undefined): string | boolean {
  if (!spellings) return value;
  return value ? spellings.true : spellings.false;
}

/** What {@link SpellingCounter.result} found. */
export interface SpellingResult {
  /** The most frequent spelling of each truth value; undefined for plain `true`/`false`. */
  spellings: TruthSpellings | undefined;
  /**
   * Each truth value written in more than one way: every spelling with its count, most frequent first
   * (the first is the one kept). Empty when each was written one way.
   */
  mixed: { value: boolean; spellings: { spelling: string; count: number }[] }[];
}

/**
 * Counts how a boolean column writes its values, to keep the most frequent spelling of each truth
 * value (ties: the one seen first). A real boolean (JSON, SQL) counts as `true`/`false`; anything
 * that is no boolean word is ignored (the loader refuses or skips it on its own). Memory is a fixed
 * table of the few possible spellings; no string is made per value.
 */
export class SpellingCounter {
  private readonly counts = new Float64Array(KEYS);
  /** Keys in the order first seen (ties are won by the earlier one). */
  private readonly order: number[] = [];

  private count(key: number): void {
    if (this.counts[key] === 0) this.order.push(key);
    this.counts[key]! += 1;
  }

  /** Counts `text.slice(a, b)` when it is a boolean word. */
  addSpan(text: string, a: number, b: number): void {
    if (b <= a) return;
    if (mayTrim(text.charCodeAt(a)) || mayTrim(text.charCodeAt(b - 1))) {
      // As parseBoolean does: trimmed, then only the ASCII words remain.
      const t = text.slice(a, b).trim();
      const key = keyOfSpan(t, 0, t.length);
      if (key >= 0) this.count(key);
      return;
    }
    const key = keyOfSpan(text, a, b);
    if (key >= 0) this.count(key);
  }

  /** Counts one raw value (a string, a real boolean; other values are ignored). */
  add(raw: unknown): void {
    if (typeof raw === 'string') this.addSpan(raw, 0, raw.length);
    else if (raw === true) this.count(2 * 32);
    else if (raw === false) this.count(3 * 32);
  }

  /** The spellings kept, and which truth values were written in more than one way. */
  result(): SpellingResult {
    const mixed: SpellingResult['mixed'] = [];
    const chosen: (string | undefined)[] = [];
    for (const value of [true, false]) {
      const seen = this.order
        .filter((key) => WORD_VALUE[key >> 5] === value)
        .map((key) => ({ spelling: spellingOfKey(key), count: this.counts[key]! }))
        // Stable: equal counts keep the order first seen.
        .sort((x, y) => y.count - x.count);
      chosen.push(seen[0]?.spelling);
      if (seen.length > 1) mixed.push({ value, spellings: seen });
    }
    const [t, f] = chosen;
    if (t === undefined && f === undefined) return { spellings: undefined, mixed };
    const spellings = validSpellings({ true: t ?? oppositeSpelling(f!), false: f ?? oppositeSpelling(t!) });
    return { spellings, mixed };
  }
}
