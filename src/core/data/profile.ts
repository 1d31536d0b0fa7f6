import { type TruthSpellings, spell } from '../spellings.js';
import type { Column, ColumnFacts, Table } from '../table.js';
import type { ColumnType, DateOrder } from '../values.js';

/** Summary statistics of one column. */
export interface ColumnProfile {
  name: string;
  type: ColumnType;
  /** A datetime column's day/month order for numeric dates (`03/05/2024`), learned or declared, when it has one. */
  dateOrder?: DateOrder;
  /** A boolean column's spellings of its values (`Yes`/`No`), when its source wrote other than `true`/`false`: its top values and predictions use them. */
  truthSpellings?: TruthSpellings;
  /** Non-missing values. */
  count: number;
  missing: number;
  /** Distinct non-missing values; a lower bound when {@link distinctCapped} is true. */
  distinct: number;
  /** Present (true) when the column has more distinct values than the profile counts: `distinct` is then "≥ distinct". */
  distinctCapped?: boolean;
  /** Numbers: the value; datetimes: ISO strings. */
  min?: number | string;
  max?: number | string;
  mean?: number;
  std?: number;
  /**
   * Most frequent values, most frequent first (ties by value), at most five. Exact unless
   * `distinctCapped`; then counted among the values first seen before the cap.
   */
  top?: { value: string; count: number }[];
}

/** Summary of a whole dataset. */
export interface DatasetProfile {
  rows: number;
  columns: ColumnProfile[];
}

const TOP_N = 5;

/** Distinct values each column's profile counts by default; more are reported as "≥ cap". */
export const PROFILE_DISTINCT_CAP = 100_000;

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/**
 * Counts of distinct numbers: an open-addressing hash table over the float64 values, each slot a
 * value and its count side by side (one memory access per probe; no Map with a boxed number per
 * entry). An empty slot holds NaN, which is never counted. -0 counts as 0, as in a Map.
 */
class NumberCounts {
  /** Slot `i`: the value at `i * stride`, its count after it (when counting). */
  private slots: Float64Array;
  private mask: number;
  /** 2 when values are counted, 1 when only the distinct values are kept. */
  private readonly stride: number;
  size = 0;

  /** `counting` false: only which values there are (half the memory, for columns without top values). */
  constructor(counting: boolean, capacity = 256) {
    this.stride = counting ? 2 : 1;
    this.slots = new Float64Array(capacity * this.stride).fill(Number.NaN);
    this.mask = capacity - 1;
  }

  private static hash(x: number): number {
    F64[0] = x;
    let h = Math.imul(U32[0] as number, 0x9e3779b1) ^ Math.imul(U32[1] as number, 0x85ebca6b);
    h ^= h >>> 16;
    h = Math.imul(h, 0x7feb352d);
    return h ^ (h >>> 15);
  }

  /** Counts `x` (not NaN) once more; a new value is counted only while fewer than `cap` are: false when it was not. */
  add(x: number, cap: number): boolean {
    if (x === 0) x = 0;
    const { slots, mask, stride } = this;
    let i = (NumberCounts.hash(x) & mask) * stride;
    const end = slots.length;
    while (true) {
      const key = slots[i] as number;
      if (key === x) {
        if (stride === 2) slots[i + 1]!++;
        return true;
      }
      if (key !== key) break;
      i += stride;
      if (i === end) i = 0;
    }
    if (this.size >= cap) return false;
    slots[i] = x;
    if (stride === 2) slots[i + 1] = 1;
    this.size++;
    if (this.size * 2 > mask + 1) this.grow();
    return true;
  }

  private grow(): void {
    const { stride } = this;
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    const slots = new Float64Array(capacity * stride).fill(Number.NaN);
    const mask = capacity - 1;
    for (let j = 0; j < old.length; j += stride) {
      const x = old[j] as number;
      if (x !== x) continue;
      let i = (NumberCounts.hash(x) & mask) * stride;
      while (slots[i] === slots[i]) {
        i += stride;
        if (i === slots.length) i = 0;
      }
      slots[i] = x;
      if (stride === 2) slots[i + 1] = old[j + 1] as number;
    }
    this.slots = slots;
    this.mask = mask;
  }

  /** The values and their counts (counts only when counting). */
  entries(): [number, number][] {
    const out: [number, number][] = [];
    const { slots, stride } = this;
    for (let j = 0; j < slots.length; j += stride) {
      const x = slots[j] as number;
      if (x === x) out.push([x, stride === 2 ? (slots[j + 1] as number) : 0]);
    }
    return out;
  }
}

/**
 * The `k` most frequent values, most frequent first, ties by value (as strings): what sorting every
 * entry and keeping the first `k` gives, by one pass that keeps the best `k` so far.
 */
function topValues(entries: Iterable<[number | string | boolean, number]>, k: number): { value: string; count: number }[] {
  const top: { value: string; count: number }[] = [];
  for (const [raw, count] of entries) {
    const last = top[top.length - 1];
    if (top.length === k && last && count < last.count) continue;
    const value = String(raw);
    if (top.length === k && last && count === last.count && value >= last.value) continue;
    let at = top.length;
    while (at > 0) {
      const before = top[at - 1] as { value: string; count: number };
      if (before.count > count || (before.count === count && before.value < value)) break;
      at--;
    }
    top.splice(at, 0, { value, count });
    if (top.length > k) top.pop();
  }
  return top;
}

/** Boolean keys of value counts in a column's spellings. */
function* spelled(entries: Iterable<[number | string | boolean, number]>, spellings: TruthSpellings): Iterable<[number | string | boolean, number]> {
  for (const [value, count] of entries) yield [typeof value === 'boolean' ? spell(value, spellings) : value, count];
}

/** Counts of a column's values made elsewhere: each value and its count, whether the cap was reached, the non-missing values. */
export interface SharedCounts {
  counts: { readonly size: number } & Iterable<[string, number]>;
  capped: boolean;
  count: number;
}

/** Running statistics of one column. */
class ColumnAccumulator {
  /** Counts of numbers (number, integer, datetime columns). */
  private readonly numbers: NumberCounts | undefined;
  /** Counts of strings and booleans (the other columns). */
  private readonly counts = new Map<string | boolean, number>();
  private capped = false;
  private count = 0;
  private missing = 0;
  private min = Infinity;
  private max = -Infinity;
  // Welford's running mean and sum of squared deviations: sum-of-squares minus squared mean loses
  // every digit for large values such as epoch seconds (1.7e9 ± 1 gave std 22.6 instead of 1).
  private mean = 0;
  private m2 = 0;
  private readonly numeric: boolean;

  constructor(
    readonly name: string,
    readonly type: ColumnType,
    private readonly cap: number,
    readonly dateOrder?: DateOrder,
    readonly truthSpellings?: TruthSpellings,
  ) {
    this.numeric = type === 'number' || type === 'integer' || type === 'datetime';
    // Only integer columns list their top values: the others need the distinct values, not their counts.
    if (this.numeric) this.numbers = new NumberCounts(type === 'integer');
  }

  /** Counts made elsewhere of every value the column will be given (see {@link ProfileAccumulator.adoptCounts}). */
  private adopted: SharedCounts | undefined;

  adopt(shared: SharedCounts): void {
    this.adopted = shared;
    this.capped = shared.capped;
    this.count = shared.count;
  }

  add(col: Column, rows: number): void {
    if (this.adopted) return;
    if (this.numbers) this.addNumbers(col.values as Float64Array, rows, this.numbers);
    else this.addValues(col.values as (string | boolean | null | undefined)[], rows);
  }

  private addNumbers(values: Float64Array, rows: number, numbers: NumberCounts): void {
    const cap = this.cap;
    let { count, min, max, mean, m2 } = this;
    for (let i = 0; i < rows; i++) {
      const x = values[i] as number;
      if (x !== x) {
        this.missing++;
        continue;
      }
      count++;
      if (!numbers.add(x, cap)) this.capped = true;
      if (x < min) min = x;
      if (x > max) max = x;
      const delta = x - mean;
      mean += delta / count;
      m2 += delta * (x - mean);
    }
    this.count = count;
    this.min = min;
    this.max = max;
    this.mean = mean;
    this.m2 = m2;
  }

  private addValues(values: (string | boolean | null | undefined)[], rows: number): void {
    const counts = this.counts;
    for (let i = 0; i < rows; i++) {
      const cell = values[i];
      if (cell === null || cell === undefined) {
        this.missing++;
        continue;
      }
      this.count++;
      const seen = counts.get(cell);
      if (seen !== undefined) counts.set(cell, seen + 1);
      else if (counts.size < this.cap) {
        // A copy of a long string: it may be a slice of a large text that would stay alive with it.
        counts.set(typeof cell === 'string' && cell.length >= 13 ? (' ' + cell).slice(1) : cell, 1);
      } else this.capped = true;
    }
  }

  result(rows: number): ColumnProfile {
    const { count } = this;
    if (this.adopted) this.missing = rows - count;
    const distinct = this.numbers ? this.numbers.size : this.adopted ? this.adopted.counts.size : this.counts.size;
    const profile: ColumnProfile = {
      name: this.name,
      type: this.type,
      ...(this.dateOrder !== undefined ? { dateOrder: this.dateOrder } : {}),
      ...(this.truthSpellings !== undefined ? { truthSpellings: this.truthSpellings } : {}),
      count,
      missing: this.missing,
      distinct,
    };
    if (this.capped) profile.distinctCapped = true;
    if (this.numeric && count > 0) {
      if (this.type === 'datetime') {
        profile.min = new Date(this.min).toISOString();
        profile.max = new Date(this.max).toISOString();
      } else {
        profile.min = this.min;
        profile.max = this.max;
        profile.mean = this.mean;
        profile.std = count > 1 ? Math.sqrt(this.m2 / (count - 1)) : 0;
      }
    }
    if (this.type === 'category' || this.type === 'boolean' || this.type === 'text' || this.type === 'integer') {
      const entries: Iterable<[number | string | boolean, number]> = this.numbers ? this.numbers.entries() : this.adopted ? this.adopted.counts : this.counts.entries();
      profile.top = topValues(this.truthSpellings ? spelled(entries, this.truthSpellings) : entries, TOP_N);
    }
    return profile;
  }
}

/**
 * Computes a dataset profile chunk by chunk: count, missing, distinct (up to a cap), min/max/mean/std
 * and top values of every column. Memory is bounded by the number of columns × the distinct cap, not
 * by the number of rows. Feeding a table in any chunking gives the same profile.
 */
export class ProfileAccumulator {
  private readonly columns: ColumnAccumulator[];
  private rows = 0;

  constructor(schema: readonly ({ name: string; type: ColumnType } & ColumnFacts)[], options: { distinctCap?: number } = {}) {
    const cap = options.distinctCap ?? PROFILE_DISTINCT_CAP;
    this.columns = schema.map(
      (c) => new ColumnAccumulator(c.name, c.type, cap, c.type === 'datetime' ? c.dateOrder : undefined, c.type === 'boolean' ? c.truthSpellings : undefined),
    );
  }

  /**
   * Takes the counts of column `j`'s values (a category or text column) from elsewhere, made over
   * exactly the values the chunks will hold, with the same cap (the loader's type inference): the
   * column's values are then not counted again.
   */
  adoptCounts(j: number, shared: SharedCounts): void {
    this.columns[j]?.adopt(shared);
  }

  /** Adds the rows of a chunk whose columns are those of the schema, in order. */
  add(chunk: Table): this {
    this.rows += chunk.rowCount;
    chunk.columns.forEach((col, j) => this.columns[j]?.add(col, chunk.rowCount));
    return this;
  }

  result(): DatasetProfile {
    return { rows: this.rows, columns: this.columns.map((c) => c.result(this.rows)) };
  }
}

/** Computes count, missing, distinct, min/max/mean/std and top values of every column in one pass each. */
export function profileTable(table: Table, options: { distinctCap?: number } = {}): DatasetProfile {
  return new ProfileAccumulator(table.columns, options).add(table).result();
}
