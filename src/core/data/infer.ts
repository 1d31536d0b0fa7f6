import { type ColumnType, isIntegerText, isMissing, parseBoolean, parseDatetime, parseNumber } from '../values.js';

/** Longest average string length, with spaces, still treated as a category rather than free text. */
const TEXT_MIN_AVG_LENGTH = 25;

/** Distinct values a {@link TypeInferrer} remembers by default: bounds its memory on huge columns. */
export const DEFAULT_DISTINCT_CAP = 100_000;

/**
 * Infers one column's type from every value it sees (a whole-column pass, not a sample), in this
 * order of preference: boolean, integer, number, datetime, then category or text for strings.
 * Free text is told from a category by long values that contain spaces and rarely repeat.
 *
 * Memory is bounded: at most `distinctCap` distinct values are remembered. Below the cap the result
 * is exact. Past it, every value not among the remembered ones is counted as new, so the distinct
 * count is an upper bound (`distinctCapped` is true) — which only matters for telling free text from
 * a category, and then errs towards text for columns of long, spaced, hardly repeating values.
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
  private readonly distinct = new Set<string>();
  /** Values seen after the set was full that were not in it (each counted as a new distinct value). */
  private unseenAfterCap = 0;

  constructor(private readonly distinctCap = DEFAULT_DISTINCT_CAP) {}

  private remember(key: string): void {
    if (this.distinct.has(key)) return;
    if (this.distinct.size < this.distinctCap) this.distinct.add(key);
    else this.unseenAfterCap++;
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
      this.remember(String(raw));
      return;
    }
    const text = typeof raw === 'string' ? raw : raw instanceof Date ? raw.toISOString() : typeof raw === 'bigint' ? String(raw) : JSON.stringify(raw);
    this.strings++;
    this.totalLength += text.length;
    if (/\s/.test(text.trim())) this.withSpace++;
    this.remember(text);
    if (this.allBoolean && parseBoolean(text) === undefined) this.allBoolean = false;
    if (this.allInteger && !isIntegerText(text)) this.allInteger = false;
    if (this.allNumber && Number.isNaN(parseNumber(text))) this.allNumber = false;
    if (this.allDatetime && Number.isNaN(parseDatetime(text))) this.allDatetime = false;
  }

  /** Number of distinct non-missing values seen (an upper bound once {@link distinctCapped}). */
  get distinctCount(): number {
    return this.distinct.size + this.unseenAfterCap;
  }

  /** True when more distinct values came than the inferrer remembers. */
  get distinctCapped(): boolean {
    return this.unseenAfterCap > 0;
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
