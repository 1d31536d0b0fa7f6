// Kept whole, over 400 lines: TypeInferrer is one class on the load's hot path; its add paths (values, chunks, spans of text) update the same counters and are read together.
import {
  type ColumnType,
  type DateOrder,
  dayMonthDate,
  dayMonthEpoch,
  isMissing,
  isMissingSpan,
  isSpace,
  numberKind,
  parseBoolean,
  parseBooleanSpan,
  parseNumberSpan,
  readDateSpan,
} from '../values.js';
import type { TextRows } from './sources/types.js';
import { StringCounts } from './string-counts.js';

/** Longest average string length, with spaces, still treated as a category rather than free text. */
const TEXT_MIN_AVG_LENGTH = 25;

/** Distinct values a {@link TypeInferrer} remembers by default: bounds its memory on huge columns. */
export const DEFAULT_DISTINCT_CAP = 100_000;

/** Typed values of a column chunk, computed while inferring it ({@link TypeInferrer.addChunk}). */
export interface TypedChunk {
  /** `parseNumber` of each value, NaN for a missing one: for a column that can still be a number or an integer. */
  numbers: Float64Array | undefined;
  /** `parseDatetime` of each value, NaN for a missing one: for a column that can still be a datetime. */
  datetimes: Float64Array | undefined;
  /** `parseBoolean` of each value, null for a missing one: for a column that can still be a boolean. */
  booleans: (boolean | null)[] | undefined;
  /**
   * With `datetimes`: the day/month order its numeric dates (`03/05/2024`) were read in, which is the
   * order the column had learned by then (`mixed` when it learned another one within the chunk);
   * undefined when the chunk has no such date. Where the column ends up with another order, the
   * loader reads those values again.
   */
  dateOrder: DateOrder | 'mixed' | undefined;
}

/** Marks value `i` of a chunk's typed values missing. */
function setMissing(out: TypedChunk, i: number): void {
  if (out.numbers) out.numbers[i] = Number.NaN;
  if (out.datetimes) out.datetimes[i] = Number.NaN;
  if (out.booleans) out.booleans[i] = null;
}

/** `/\s/.test(text.slice(start, end).trim())`: white space between the first and last other characters. */
export function hasInnerSpace(text: string, start: number, end: number): boolean {
  let first = start;
  while (first < end && isSpace(text.charCodeAt(first))) first++;
  let last = end - 1;
  while (last > first && isSpace(text.charCodeAt(last))) last--;
  for (let p = first + 1; p < last; p++) if (isSpace(text.charCodeAt(p))) return true;
  return false;
}

/**
 * Infers one column's type from every value it sees (a whole-column pass, not a sample), in this
 * order of preference: boolean, integer, number, datetime, then category or text for strings.
 * Free text is told from a category by long values that contain spaces and rarely repeat.
 *
 * Distinct values matter only for telling text from a category, so they are remembered only once the
 * column cannot be typed any more (no longer all booleans, integers, numbers or dates): a numeric or
 * date column keeps no set of its values. The values seen before that point are not remembered and
 * each counts as a new distinct value, so the distinct count is then an upper bound (erring towards
 * text, and only for columns whose values are also long and mostly spaced) and `distinctCapped` is
 * true; a column that is untyped from its first value is counted exactly.
 *
 * Memory is bounded: at most `distinctCap` distinct values are remembered. Below the cap the count
 * is exact (but for the values before the column stopped being typed, above). Past it, every value
 * not among the remembered ones is counted as new, so the distinct count is again an upper bound
 * (`distinctCapped` is true).
 *
 * Numeric dates with the year last (`03/05/2024`, `31.12.2023`, `12-31-2023 14:30`) are dates when
 * one day/month order reads every one of them: month first (`mdy`) when a value has its second
 * number above 12, day first (`dmy`) when one has its first number above 12; when both happen, or
 * a value is an impossible day in the only order left (`02/30/2024`), the column is not a datetime.
 * When every value fits both orders, {@link dateOrder} is `mdy` (pandas' default) and
 * {@link dateOrderAmbiguous} says so. Each such value is weighed in both orders as it comes, so the
 * order can be decided by any value, the last one included.
 */
export class TypeInferrer {
  private nonMissing = 0;
  private allBoolean = true;
  private allInteger = true;
  private allNumber = true;
  private allDatetime = true;
  private strings = 0;
  private totalLength = 0;
  private withSpace = 0;
  /** The remembered values and how many times each was seen. */
  private readonly distinct = new StringCounts();
  /** Values seen after the set was full that were not in it (each counted as a new distinct value). */
  private unseenAfterCap = 0;
  /** Values seen while the column could still be typed, not remembered (each counted as distinct). */
  private whileTyped = 0;
  /** Numeric dates with the year last were seen; every one of them reads as a day month first / day first. */
  private dayMonth = false;
  private mdyFits = true;
  private dmyFits = true;
  /** The order the current chunk's numeric dates were read in ({@link TypedChunk.dateOrder}). */
  private chunkOrder: DateOrder | 'mixed' | undefined;
  /** Where a numeric date is scanned (reused). */
  private readonly dm = dayMonthDate();

  constructor(private readonly distinctCap = DEFAULT_DISTINCT_CAP) {}

  private remember(key: string): void {
    if (this.allBoolean || this.allNumber || this.allDatetime) {
      this.whileTyped++;
      return;
    }
    if (!this.distinct.count(key, this.distinctCap)) this.unseenAfterCap++;
  }

  /**
   * A text's value as a datetime for inference, NaN when it is none: a numeric date with the year
   * last is weighed in both orders and read in the order the column fits so far (`mdy` while both
   * fit).
   */
  private readDate(text: string, a: number, b: number): number {
    const t = readDateSpan(text, a, b, this.dm);
    if (!this.dm.matched) return t;
    this.dayMonth = true;
    const mdy = dayMonthEpoch(this.dm, 'mdy');
    const dmy = dayMonthEpoch(this.dm, 'dmy');
    if (mdy !== mdy) this.mdyFits = false;
    if (dmy !== dmy) this.dmyFits = false;
    const order: DateOrder | undefined = this.mdyFits ? 'mdy' : this.dmyFits ? 'dmy' : undefined;
    if (order === undefined) return Number.NaN;
    if (this.chunkOrder === undefined) this.chunkOrder = order;
    else if (this.chunkOrder !== order) this.chunkOrder = 'mixed';
    return order === 'mdy' ? mdy : dmy;
  }

  /**
   * The day/month order of the column's numeric dates with the year last, when it has some and one
   * order reads them all: `mdy` unless only `dmy` does. Undefined when it has none (or no order fits).
   */
  dateOrder(): DateOrder | undefined {
    if (!this.dayMonth) return undefined;
    return this.mdyFits ? 'mdy' : this.dmyFits ? 'dmy' : undefined;
  }

  /** True while every value seen is a boolean (or missing): the column can still be a boolean column. */
  get mayBeBoolean(): boolean {
    return this.allBoolean;
  }

  /** True when the column has numeric dates with the year last and each fits both orders: {@link dateOrder} is then `mdy` by default. */
  get dateOrderAmbiguous(): boolean {
    return this.dayMonth && this.mdyFits && this.dmyFits;
  }

  /** Feeds one raw value (CSV string, JSON value). */
  add(raw: unknown): void {
    if (isMissing(raw)) return;
    this.nonMissing++;
    if (typeof raw === 'boolean') {
      this.allInteger = this.allNumber = this.allDatetime = false;
      this.remember(String(raw));
      return;
    }
    if (typeof raw === 'number') {
      this.allBoolean = this.allDatetime = false;
      if (!Number.isSafeInteger(raw)) this.allInteger = false;
      // ±Infinity (a database's or spreadsheet's float) is no value of a number column (toCell refuses
      // it): the column is a category, as a column with the text "Infinity" is.
      if (!Number.isFinite(raw)) this.allNumber = this.allInteger = false;
      this.remember(String(raw));
      return;
    }
    // An invalid Date (a database's zero date) has no ISO text: it is the text "Invalid Date", no date.
    const text = typeof raw === 'string' ? raw : raw instanceof Date ? (Number.isNaN(raw.getTime()) ? String(raw) : raw.toISOString()) : typeof raw === 'bigint' ? String(raw) : JSON.stringify(raw);
    this.strings++;
    this.totalLength += text.length;
    // A boolean or number literal has no white space inside: only other values need the test.
    let literal = false;
    if (this.allBoolean) {
      if (parseBoolean(text) === undefined) this.allBoolean = false;
      else literal = true;
    }
    if (this.allNumber) {
      const kind = numberKind(text);
      if (kind === 0) this.allNumber = this.allInteger = false;
      else {
        literal = true;
        if (kind === 2) this.allInteger = false;
      }
    }
    if (this.allDatetime && Number.isNaN(this.readDate(text, 0, text.length))) this.allDatetime = false;
    if (!literal && /\s/.test(text.trim())) this.withSpace++;
    this.remember(text);
  }

  /**
   * Feeds the first `n` values of a column chunk (as {@link add} does one by one) and returns the typed
   * values computed on the way: the values as the types the column can still be, each present only
   * when the column can still be of that type after the chunk (so every value of the chunk was such a
   * value or missing). They are what `toCell` gives for that type, so the loader's second pass can use
   * them instead of reading the text again. Values that are not strings (JSON, databases) give none.
   */
  addChunk(values: readonly unknown[], n: number): TypedChunk {
    const out = this.typedArrays(n);
    for (let i = 0; i < n; i++) {
      const raw = values[i];
      if (typeof raw === 'string') {
        this.addText(raw, 0, raw.length, i, out);
        continue;
      }
      if (raw === null || raw === undefined) {
        setMissing(out, i);
        continue;
      }
      for (let k = i; k < n; k++) this.add(values[k]);
      return { numbers: undefined, datetimes: undefined, booleans: undefined, dateOrder: undefined };
    }
    return this.typedResult(out);
  }

  /**
   * {@link addChunk} for column `column` of rows kept as spans of a text (a CSV chunk): while the
   * column can still be typed, its values are checked on the text without making a string of each.
   */
  addSpans(spans: TextRows, column: number): TypedChunk {
    const out = this.typedArrays(spans.rowCount);
    // One loop for each common state of a column (each optimized on its own, on the values it sees),
    // and one value at a time otherwise; a loop hands a value it does not expect to the general step.
    if (spans.escaped === undefined) {
      if (this.allNumber && !this.allBoolean && !this.allDatetime) this.addNumberSpans(spans, column, out);
      else if (this.allDatetime && !this.allBoolean && !this.allNumber) this.addDatetimeSpans(spans, column, out);
      else if (!this.allBoolean && !this.allNumber && !this.allDatetime) this.addUntypedSpans(spans, column, out);
      else this.addEachSpan(spans, column, out, 0);
    } else this.addEachSpan(spans, column, out, 0);
    return this.typedResult(out);
  }

  /** Values of a column that can only be a number: a number is taken here, anything else by {@link addSpanValue}. */
  private addNumberSpans(spans: TextRows, column: number, out: TypedChunk): void {
    const { text, rowCount: n, width, starts, ends } = spans;
    const numbers = out.numbers as Float64Array;
    const info = this.info;
    for (let i = 0, k = column; i < n; i++, k += width) {
      const a = starts[k] as number;
      const b = ends[k] as number;
      // No missing token is a number: a number is counted as the general step would.
      const v = this.allNumber ? parseNumberSpan(text, a, b, info) : Number.NaN;
      if (v === v) {
        this.nonMissing++;
        this.strings++;
        this.totalLength += b - a;
        if (!info.integer) this.allInteger = false;
        numbers[i] = v;
        this.whileTyped++;
      } else this.addSpanValue(spans, k, i, out);
    }
  }

  /** Values of a column that can only be a date: a date is taken here, anything else by {@link addSpanValue}. */
  private addDatetimeSpans(spans: TextRows, column: number, out: TypedChunk): void {
    const { text, rowCount: n, width, starts, ends } = spans;
    const datetimes = out.datetimes as Float64Array;
    for (let i = 0, k = column; i < n; i++, k += width) {
      const a = starts[k] as number;
      const b = ends[k] as number;
      // No missing token is a date: a date is counted as the general step would.
      const t = this.allDatetime ? this.readDate(text, a, b) : Number.NaN;
      if (t === t) {
        this.nonMissing++;
        this.strings++;
        this.totalLength += b - a;
        datetimes[i] = t;
        if (hasInnerSpace(text, a, b)) this.withSpace++;
        this.whileTyped++;
      } else this.addSpanValue(spans, k, i, out);
    }
  }

  /** Values of a column that cannot be typed any more: counted on the text (a new distinct value made a string). */
  private addUntypedSpans(spans: TextRows, column: number, out: TypedChunk): void {
    const { text, rowCount: n, width, starts, ends } = spans;
    const cap = this.distinctCap;
    for (let i = 0, k = column; i < n; i++, k += width) {
      const a = starts[k] as number;
      const b = ends[k] as number;
      if (isMissingSpan(text, a, b)) {
        setMissing(out, i);
        continue;
      }
      this.nonMissing++;
      this.strings++;
      this.totalLength += b - a;
      if (hasInnerSpace(text, a, b)) this.withSpace++;
      if (!this.distinct.countSpan(text, a, b, cap)) this.unseenAfterCap++;
    }
  }

  /** Values from row `from` on, one by one. */
  private addEachSpan(spans: TextRows, column: number, out: TypedChunk, from: number): void {
    const { rowCount: n, width } = spans;
    for (let i = from, k = column + from * width; i < n; i++, k += width) this.addSpanValue(spans, k, i, out);
  }

  /** Value `k` of rows as spans (row `i` of the chunk), as {@link add} would take it, its typed values written at `i`. */
  private addSpanValue(spans: TextRows, k: number, i: number, out: TypedChunk): void {
    const escapedValue = spans.escaped === undefined ? undefined : spans.escaped.get(k);
    if (escapedValue !== undefined) this.addText(escapedValue, 0, escapedValue.length, i, out);
    else this.addText(spans.text, spans.starts[k] as number, spans.ends[k] as number, i, out);
  }

  /** {@link add} of the string `text.slice(a, b)` (read in place), its typed values written at `i`. */
  private addText(text: string, a: number, b: number, i: number, out: TypedChunk): void {
    if (isMissingSpan(text, a, b)) {
      setMissing(out, i);
      return;
    }
    this.nonMissing++;
    this.strings++;
    this.totalLength += b - a;
    let literal = false;
    if (this.allBoolean) {
      const v = parseBooleanSpan(text, a, b);
      if (v === undefined) this.allBoolean = false;
      else {
        literal = true;
        if (out.booleans) out.booleans[i] = v;
      }
    }
    if (this.allNumber) {
      const v = parseNumberSpan(text, a, b, this.info);
      if (Number.isNaN(v)) this.allNumber = this.allInteger = false;
      else {
        literal = true;
        if (!this.info.integer) this.allInteger = false;
        if (out.numbers) out.numbers[i] = v;
      }
    }
    if (this.allDatetime) {
      const t = this.readDate(text, a, b);
      if (Number.isNaN(t)) this.allDatetime = false;
      else if (out.datetimes) out.datetimes[i] = t;
    }
    if (!literal && hasInnerSpace(text, a, b)) this.withSpace++;
    if (this.allBoolean || this.allNumber || this.allDatetime) this.whileTyped++;
    else if (!this.distinct.countSpan(text, a, b, this.distinctCap)) this.unseenAfterCap++;
  }

  private readonly info = { integer: false };

  /** Arrays for the typed values of a chunk of `n` values, for the types the column can still be. */
  private typedArrays(n: number): TypedChunk {
    this.chunkOrder = undefined;
    // Every key always there (undefined or not): objects of one shape keep the code using them fast.
    return {
      numbers: this.allNumber ? new Float64Array(n) : undefined,
      datetimes: this.allDatetime ? new Float64Array(n) : undefined,
      booleans: this.allBoolean ? new Array<boolean | null>(n) : undefined,
      dateOrder: undefined,
    };
  }

  /** The typed values of a chunk, for the types the column can still be after it. */
  private typedResult(out: TypedChunk): TypedChunk {
    return {
      numbers: this.allNumber ? out.numbers : undefined,
      datetimes: this.allDatetime ? out.datetimes : undefined,
      booleans: this.allBoolean ? out.booleans : undefined,
      dateOrder: this.allDatetime ? this.chunkOrder : undefined,
    };
  }

  /**
   * The count of each distinct value, when every non-missing value was remembered (the column was
   * never typed-looking): what a profile of the same values with the same cap counts, which the
   * loader then need not count again. `capped` as {@link distinctCapped}; `count` the non-missing values.
   */
  valueCounts(): { counts: StringCounts; capped: boolean; count: number } | undefined {
    if (this.whileTyped > 0) return undefined;
    return { counts: this.distinct, capped: this.unseenAfterCap > 0, count: this.nonMissing };
  }


  /**
   * Number of distinct non-missing values seen: exact for a column that was never typed-looking and
   * stayed under the cap, else an upper bound ({@link distinctCapped}).
   */
  get distinctCount(): number {
    return this.distinct.size + this.unseenAfterCap + this.whileTyped;
  }

  /** True when {@link distinctCount} is an upper bound: values were not remembered (typed-looking, or past the cap). */
  get distinctCapped(): boolean {
    return this.unseenAfterCap > 0 || this.whileTyped > 0;
  }

  /** The inferred type. A column with no values at all is a `category` (featurize drops it). */
  result(): ColumnType {
    if (this.nonMissing === 0) return 'category';
    if (this.allBoolean) return 'boolean';
    if (this.allInteger) return 'integer';
    if (this.allNumber) return 'number';
    if (this.allDatetime && this.strings === this.nonMissing) return 'datetime';
    const avgLength = this.strings === 0 ? 0 : this.totalLength / this.strings;
    const mostlySpaced = this.withSpace > this.strings / 2;
    const mostlyUnique = this.distinctCount > this.nonMissing / 2;
    if (avgLength >= TEXT_MIN_AVG_LENGTH && mostlySpaced && mostlyUnique) return 'text';
    return 'category';
  }
}
