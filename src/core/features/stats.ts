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
  return a + (pos - lo) * (b - a);
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
  return n === 0 ? 0 : sum / n;
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
  return n === 0 ? 0 : Math.sqrt(ss / n);
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
