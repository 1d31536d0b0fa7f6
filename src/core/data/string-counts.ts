/**
 * Counts of distinct strings, looked up by a span of a text as well as by a string: an
 * open-addressing hash table (FNV-1a over the characters) whose keys are compared character by
 * character, so a value read as a span of a CSV text is counted without making a string of it. Only
 * a new key is made into a string (a copy, so that it does not keep the text alive).
 */
export class StringCounts implements Iterable<[string, number]> {
  private keys: (string | undefined)[];
  private hashes: Int32Array;
  private counts: Float64Array;
  private mask: number;
  private used = 0;

  constructor(capacity = 64) {
    this.keys = new Array<string | undefined>(capacity).fill(undefined);
    this.hashes = new Int32Array(capacity);
    this.counts = new Float64Array(capacity);
    this.mask = capacity - 1;
  }

  /** Number of distinct strings counted. */
  get size(): number {
    return this.used;
  }

  /** Counts `text.slice(start, end)` once more; a new string is added only while fewer than `cap` are: false when it was not. */
  countSpan(text: string, start: number, end: number, cap: number): boolean {
    const h = hashSpan(text, start, end);
    const i = this.findSpan(text, start, end, h);
    if (this.keys[i] !== undefined) {
      this.counts[i]!++;
      return true;
    }
    if (this.used >= cap) return false;
    this.insert(i, copyOf(text.slice(start, end)), h);
    return true;
  }

  /** Counts `value` once more, as {@link countSpan}. */
  count(value: string, cap: number): boolean {
    return this.countSpan(value, 0, value.length, cap);
  }

  /** The strings and their counts. */
  *[Symbol.iterator](): Iterator<[string, number]> {
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[i];
      if (key !== undefined) yield [key, this.counts[i] as number];
    }
  }

  /** The slot holding the span, or the empty slot where it would go. */
  private findSpan(text: string, start: number, end: number, h: number): number {
    const { keys, hashes, mask } = this;
    const length = end - start;
    let i = h & mask;
    while (true) {
      const key = keys[i];
      if (key === undefined) return i;
      if (hashes[i] === h && key.length === length) {
        let same = true;
        for (let k = 0; k < length; k++) {
          if (key.charCodeAt(k) !== text.charCodeAt(start + k)) {
            same = false;
            break;
          }
        }
        if (same) return i;
      }
      i = (i + 1) & mask;
    }
  }

  private insert(i: number, key: string, h: number): void {
    this.keys[i] = key;
    this.hashes[i] = h;
    this.counts[i] = 1;
    this.used++;
    if (this.used * 2 > this.mask + 1) this.grow();
  }

  private grow(): void {
    const { keys, hashes, counts } = this;
    const capacity = keys.length * 2;
    this.keys = new Array<string | undefined>(capacity).fill(undefined);
    this.hashes = new Int32Array(capacity);
    this.counts = new Float64Array(capacity);
    this.mask = capacity - 1;
    for (let j = 0; j < keys.length; j++) {
      const key = keys[j];
      if (key === undefined) continue;
      const h = hashes[j] as number;
      let i = h & this.mask;
      while (this.keys[i] !== undefined) i = (i + 1) & this.mask;
      this.keys[i] = key;
      this.hashes[i] = h;
      this.counts[i] = counts[j] as number;
    }
  }
}

/** FNV-1a over the UTF-16 code units of `text.slice(start, end)`. */
function hashSpan(text: string, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let k = start; k < end; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
  return h;
}

/** A string that does not share its characters with a larger one (a slice of 13 or more characters would). */
function copyOf(value: string): string {
  return value.length < 13 ? value : (' ' + value).slice(1);
}
