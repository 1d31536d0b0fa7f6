/**
 * Tokenizing text without allocating, shared by the text kinds: scikit-learn's default tokens (the
 * regular expression `\b\w\w+\b`: runs of two or more word characters — letters, digits of any
 * script, and `_`), optional lowercasing, a lookup table of words that compares a token in place,
 * and MurmurHash3 (32-bit, x86) of a token's UTF-8 bytes as scikit-learn's HashingVectorizer does.
 *
 * Word characters and lowercase forms of the Basic Multilingual Plane are tabled once, on first use.
 * Lowercasing is per character (a character whose lowercase form is two characters, as "İ", is kept);
 * characters beyond the Basic Multilingual Plane are never lowercased, and are classified with a
 * regular expression (the one path that allocates; such characters are rare in text).
 */

let WORD: Uint8Array | undefined;
let LOWER: Uint16Array | undefined;
const WORD_CHAR = /^[\p{L}\p{N}_]$/u;

function tables(): void {
  WORD = new Uint8Array(65_536);
  LOWER = new Uint16Array(65_536);
  for (let c = 0; c < 65_536; c++) {
    const ch = String.fromCharCode(c);
    // Lone surrogates are not characters: the scanner combines pairs before asking.
    WORD[c] = c >= 0xd800 && c <= 0xdfff ? 0 : WORD_CHAR.test(ch) ? 1 : 0;
    const lower = ch.toLowerCase();
    LOWER[c] = lower.length === 1 ? lower.charCodeAt(0) : c;
  }
}

function isWord(cp: number): boolean {
  if (cp < 65_536) return (WORD as Uint8Array)[cp] === 1;
  return WORD_CHAR.test(String.fromCodePoint(cp));
}

/** The code unit at `i`, lowercased when asked. */
function unitAt(text: string, i: number, lowercase: boolean): number {
  const u = text.charCodeAt(i);
  return lowercase ? ((LOWER as Uint16Array)[u] as number) : u;
}

/**
 * Walks the tokens of a text: `reset(text)`, then `while (cursor.next())` read `start` and `end`
 * (code-unit offsets of the token). One cursor per kind, reused: nothing is allocated.
 */
export class TokenCursor {
  text = '';
  start = 0;
  end = 0;
  private pos = 0;

  constructor() {
    if (!WORD) tables();
  }

  reset(text: string): void {
    this.text = text;
    this.pos = 0;
    this.start = 0;
    this.end = 0;
  }

  next(): boolean {
    const s = this.text;
    const n = s.length;
    let i = this.pos;
    while (i < n) {
      let cp = s.codePointAt(i) as number;
      if (!isWord(cp)) {
        i += cp > 0xffff ? 2 : 1;
        continue;
      }
      const start = i;
      let count = 0;
      while (i < n) {
        cp = s.codePointAt(i) as number;
        if (!isWord(cp)) break;
        i += cp > 0xffff ? 2 : 1;
        count++;
      }
      if (count >= 2) {
        this.start = start;
        this.end = i;
        this.pos = i;
        return true;
      }
    }
    this.pos = n;
    return false;
  }
}

/** The token `text[start, end)` as a string, lowercased when asked (allocates: for fitting). */
export function tokenString(text: string, start: number, end: number, lowercase: boolean): string {
  if (!LOWER) tables();
  if (!lowercase) return text.slice(start, end);
  let out = '';
  for (let i = start; i < end; i++) out += String.fromCharCode(unitAt(text, i, true));
  return out;
}

/** FNV-1a over the (lowercased) code units of `text[start, end)`. */
function fnv(text: string, start: number, end: number, lowercase: boolean): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ unitAt(text, i, lowercase), 0x01000193);
  return h >>> 0;
}

/**
 * A fixed set of words with their indices, looked up by a token in place (no substring is made):
 * open addressing on an FNV-1a hash, then a unit-by-unit comparison.
 */
export class TokenTable {
  readonly words: readonly string[];
  private readonly slots: Int32Array;
  private readonly mask: number;

  /** `words` as tokens come out processed (lowercase when the text is lowercased). */
  constructor(words: readonly string[]) {
    if (!WORD) tables();
    this.words = words;
    let size = 8;
    while (size < words.length * 2) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size).fill(-1);
    words.forEach((w, idx) => {
      let s = fnv(w, 0, w.length, false) & this.mask;
      while (this.slots[s] !== -1) s = (s + 1) & this.mask;
      this.slots[s] = idx;
    });
  }

  /** The index of the token `text[start, end)` (lowercased when asked), or -1. */
  find(text: string, start: number, end: number, lowercase: boolean): number {
    const len = end - start;
    let s = fnv(text, start, end, lowercase) & this.mask;
    for (;;) {
      const idx = this.slots[s] as number;
      if (idx === -1) return -1;
      const w = this.words[idx] as string;
      if (w.length === len) {
        let j = 0;
        while (j < len && w.charCodeAt(j) === unitAt(text, start + j, lowercase)) j++;
        if (j === len) return idx;
      }
      s = (s + 1) & this.mask;
    }
  }
}

// MurmurHash3 x86 32-bit, fed one byte at a time (module state: the hash is computed synchronously).
let mh = 0;
let mk = 0;
let mshift = 0;
let mlen = 0;

function mixByte(b: number): void {
  mk |= b << mshift;
  mshift += 8;
  mlen++;
  if (mshift === 32) {
    let k = Math.imul(mk, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    mh ^= k;
    mh = (mh << 13) | (mh >>> 19);
    mh = (Math.imul(mh, 5) + 0xe6546b64) | 0;
    mk = 0;
    mshift = 0;
  }
}

/**
 * MurmurHash3 (x86, 32-bit) of the UTF-8 bytes of the token `text[start, end)`, lowercased when
 * asked, as a signed 32-bit integer: scikit-learn's `murmurhash3_32(token, seed)`.
 */
export function murmur3Token(text: string, start: number, end: number, lowercase: boolean, seed = 0): number {
  if (!LOWER) tables();
  mh = seed | 0;
  mk = 0;
  mshift = 0;
  mlen = 0;
  for (let i = start; i < end; i++) {
    let cp = unitAt(text, i, lowercase);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < end) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp < 0x80) mixByte(cp);
    else if (cp < 0x800) {
      mixByte(0xc0 | (cp >> 6));
      mixByte(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      // A lone surrogate is encoded as U+FFFD, as TextEncoder does.
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
      mixByte(0xe0 | (cp >> 12));
      mixByte(0x80 | ((cp >> 6) & 0x3f));
      mixByte(0x80 | (cp & 0x3f));
    } else {
      mixByte(0xf0 | (cp >> 18));
      mixByte(0x80 | ((cp >> 12) & 0x3f));
      mixByte(0x80 | ((cp >> 6) & 0x3f));
      mixByte(0x80 | (cp & 0x3f));
    }
  }
  let h = mh;
  if (mshift > 0) {
    let k = Math.imul(mk, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= mlen;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
