/** Small statistics over the present (non-NaN) values of a numeric column, shared by the numeric kinds. */

/** The non-NaN values, sorted ascending. */
export function sortedPresent(values: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i] as number)) n++;
  const out = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) out[j++] = v;
  }
  return out.sort();
}

/**
 * The `q`-quantile (0 ≤ q ≤ 1) of sorted values with linear interpolation between the two nearest
 * ranks — numpy's default (`np.quantile(x, q)`, method "linear"). 0 when there are no values.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  const t = pos - lo;
  const v = a + t * (b - a);
  // b − a overflows for values near ±Number.MAX_VALUE: interpolate without the difference.
  return Number.isFinite(v) ? v : a * (1 - t) + b * t;
}

/** `hi − lo` (hi ≥ lo), at most Number.MAX_VALUE: the difference of two huge values of opposite sign overflows. */
export function spread(hi: number, lo: number): number {
  return Math.min(hi - lo, Number.MAX_VALUE);
}

/**
 * `(x − center) / scale` as a finite number: computed in halves when `x − center` overflows, and
 * clamped to ±Number.MAX_VALUE when the quotient does (a tiny scale). Features are always finite.
 */
export function scaled(x: number, center: number, scale: number): number {
  let v = (x - center) / scale;
  if (!Number.isFinite(v)) v = (x / 2 - center / 2) / (scale / 2);
  if (Number.isNaN(v)) return 0;
  return Math.max(-Number.MAX_VALUE, Math.min(Number.MAX_VALUE, v));
}

/** Mean of the non-NaN values (0 when there are none). */
export function meanOf(values: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) {
      sum += v;
      n++;
    }
  }
  if (n === 0) return 0;
  if (Number.isFinite(sum)) return sum / n;
  // The sum overflowed (values near ±Number.MAX_VALUE): a running mean, its step taken in halves
  // (v − mean itself overflows when the two are huge and of opposite signs).
  let mean = 0;
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    k++;
    mean = k === 1 ? v : mean + ((v / 2 - mean / 2) / k) * 2;
  }
  return mean;
}

/** Population standard deviation (n in the denominator, as scikit-learn's StandardScaler) of the non-NaN values; 0 when there are none. */
export function stdOf(values: ArrayLike<number>, mean: number): number {
  let ss = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) {
      ss += (v - mean) * (v - mean);
      n++;
    }
  }
  if (n === 0) return 0;
  const std = Math.sqrt(ss / n);
  if (Number.isFinite(std)) return std;
  // The squares overflowed: the same sum over deviations scaled by the largest one (halved, so no difference overflows).
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) m = Math.max(m, Math.abs(v / 2 - mean / 2));
  }
  let scaledSs = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) scaledSs += ((v / 2 - mean / 2) / m) ** 2;
  }
  return Math.min(2 * m * Math.sqrt(scaledSs / n), Number.MAX_VALUE);
}

/** The most frequent of sorted values; ties go to the smallest (as scikit-learn's SimpleImputer). 0 when there are none. */
export function modeSorted(sorted: ArrayLike<number>): number {
  let best = 0;
  let bestCount = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    if (j - i > bestCount) {
      best = sorted[i] as number;
      bestCount = j - i;
    }
    i = j;
  }
  return best;
}
