import { capText } from '../report/data.js';
import { type CategoryFieldProfile, type NumberFieldProfile, ratio } from './drift-profile.js';

/** Live statistics of one input field: numbers in the training histogram's bins, categories counted exactly or sketched. */
/** Distinct category values outside the training profile counted per field (Space-Saving sketch). */
export const DRIFT_SKETCH_SIZE = 50;
/** Live category values reported per field, most frequent first. */
export const DRIFT_TOP_K = 10;
/** Longest category value kept in the sketch or a report (longer ones end in "…"). */
const DRIFT_VALUE_MAX = 100;
/** Each training histogram bin is counted in this many finer live bins (for quantiles). */
const SUB_BINS = 10;

/** The quantiles reported for number fields. */
const QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95] as const;

/** Live number statistics: count, mean, min/max and a fixed histogram over the training range (plus both tails). */
export class NumberStats {
  values = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private readonly lo: number;
  private readonly width: number;
  /** Fine bins over [lo, hi]: SUB_BINS per training bin; null without a known range. */
  private readonly fine: Float64Array | null;
  private under = 0;
  private over = 0;

  constructor(private readonly profile: NumberFieldProfile) {
    const h = profile.histogram;
    const lo = h ? (h.edges[0] as number) : profile.min;
    const hi = h ? (h.edges[h.edges.length - 1] as number) : profile.max;
    const bins = (h ? h.counts.length : 20) * SUB_BINS;
    if (lo !== undefined && hi !== undefined && Number.isFinite(lo) && Number.isFinite(hi) && hi > lo) {
      this.lo = lo;
      this.width = (hi - lo) / bins;
      this.fine = new Float64Array(bins);
    } else {
      this.lo = 0;
      this.width = 0;
      this.fine = null;
    }
  }

  add(v: number): void {
    this.values++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const fine = this.fine;
    if (!fine) return;
    if (v < this.lo) this.under++;
    else {
      const i = Math.floor((v - this.lo) / this.width);
      // The top edge belongs to the last bin, as in the training histogram.
      if (i < fine.length) fine[i]! += 1;
      else if (v <= this.lo + this.width * fine.length) fine[fine.length - 1]! += 1;
      else this.over++;
    }
  }

  /** Live counts in the training histogram's bins (tails in the outer bins); null without a histogram. */
  binned(): number[] | null {
    const h = this.profile.histogram;
    if (!h || !this.fine) return null;
    const out = new Array<number>(h.counts.length).fill(0);
    for (let i = 0; i < this.fine.length; i++) out[Math.floor(i / SUB_BINS)]! += this.fine[i] as number;
    out[0]! += this.under;
    out[out.length - 1]! += this.over;
    return out;
  }

  /** Quantile `q` estimated from the fine bins (linear within a bin; tails between the training range and the extremes seen). */
  quantile(q: number): number | null {
    if (this.values === 0) return null;
    if (!this.fine) return null;
    const rank = q * this.values;
    let seen = 0;
    const within = (from: number, to: number, count: number) => {
      const x = from + ((rank - seen) / count) * (to - from);
      return Math.min(this.max, Math.max(this.min, x));
    };
    if (this.under > 0 && rank <= this.under) return within(this.min, this.lo, this.under);
    seen += this.under;
    for (let i = 0; i < this.fine.length; i++) {
      const c = this.fine[i] as number;
      if (c > 0 && rank <= seen + c) return within(this.lo + i * this.width, this.lo + (i + 1) * this.width, c);
      seen += c;
    }
    return this.over > 0 ? within(this.lo + this.fine.length * this.width, this.max, this.over) : this.max;
  }

  quantiles(): Record<string, number | null> {
    return Object.fromEntries(QUANTILES.map((q) => [`p${Math.round(q * 100)}`, this.quantile(q)]));
  }
}

/**
 * Live category counts: exact for the values the bundle names (profile top values, fitted
 * categories), a Space-Saving sketch of at most {@link DRIFT_SKETCH_SIZE} entries for the others
 * (their counts may be over-estimated by at most the smallest count kept).
 */
export class CategoryStats {
  values = 0;
  unknown = 0;
  private readonly exact = new Map<string, number>();
  private readonly sketch = new Map<string, number>();
  private readonly known: Set<string> | null;

  constructor(private readonly profile: CategoryFieldProfile) {
    for (const t of profile.top) this.exact.set(t.value, 0);
    for (const k of profile.known ?? []) this.exact.set(k, 0);
    this.known = profile.known ? new Set(profile.known) : null;
  }

  add(value: string): void {
    this.values++;
    if (this.known && !this.known.has(value)) this.unknown++;
    const n = this.exact.get(value);
    if (n !== undefined) {
      this.exact.set(value, n + 1);
      return;
    }
    const key = capText(value, DRIFT_VALUE_MAX);
    const s = this.sketch.get(key);
    if (s !== undefined) this.sketch.set(key, s + 1);
    else if (this.sketch.size < DRIFT_SKETCH_SIZE) this.sketch.set(key, 1);
    else {
      let minKey = '';
      let min = Infinity;
      for (const [k, c] of this.sketch) {
        if (c < min) {
          min = c;
          minKey = k;
        }
      }
      this.sketch.delete(minKey);
      this.sketch.set(key, min + 1);
    }
  }

  /** Live counts in the profile's bins: each top value, then "other". */
  binned(): number[] {
    const top = this.profile.top.map((t) => this.exact.get(t.value) ?? 0);
    return [...top, this.values - top.reduce((a, b) => a + b, 0)];
  }

  top(): { value: string; count: number; share: number }[] {
    const all: [string, number][] = [...this.exact].filter(([, c]) => c > 0);
    all.push(...this.sketch);
    all.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return all.slice(0, DRIFT_TOP_K).map(([value, count]) => ({ value: capText(value, DRIFT_VALUE_MAX), count, share: ratio(count, this.values) }));
  }
}
