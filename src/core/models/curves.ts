/**
 * Evaluation curves of a binary classifier (ROC and precision–recall) and the samples a regression
 * report plots, computed from holdout predictions. Definitions follow scikit-learn's `roc_curve`
 * (with `drop_intermediate=False`), `precision_recall_curve` and `average_precision_score`.
 */

/** A ROC curve: false- and true-positive rates at every distinct score threshold, highest first. */
export interface RocCurve {
  /** The class whose probability is the score. */
  positive: string;
  fpr: number[];
  tpr: number[];
  /** Rows with score ≥ threshold are called positive; the first threshold is `null` (∞: none are). */
  thresholds: (number | null)[];
  auc: number;
}

/** A precision–recall curve, recall falling (as scikit-learn returns it); the last point is recall 0, precision 1. */
export interface PrCurve {
  positive: string;
  precision: number[];
  recall: number[];
  /** The threshold of each point but the last (which has none). */
  thresholds: (number | null)[];
  /** Σ (Rₙ − Rₙ₋₁) Pₙ: the step-wise area, scikit-learn's `average_precision_score`. */
  averagePrecision: number;
  /** The fraction of positives: a classifier that guesses has this precision at every recall. */
  prevalence: number;
}

/** Counts of positives and negatives with a score ≥ each distinct score, highest score first. */
function cumulativeCounts(isPositive: ArrayLike<boolean>, scores: ArrayLike<number>) {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  const tps: number[] = [];
  const fps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    if (isPositive[i]) tp++;
    else fp++;
    const next = order[j + 1];
    // One point per distinct score: tied rows cross the threshold together.
    if (next === undefined || scores[next] !== scores[i]) {
      tps.push(tp);
      fps.push(fp);
      thresholds.push(scores[i] as number);
    }
  }
  return { tps, fps, thresholds, positives: tp, negatives: fp };
}

/**
 * The ROC curve of `scores` for the rows where `isPositive` is true; null when the rows hold only one
 * class (the curve is undefined). AUC by the trapezoidal rule over every point (equal to the
 * Mann–Whitney AUC with ties counted 1/2).
 */
export function rocCurve(isPositive: ArrayLike<boolean>, scores: ArrayLike<number>, positive: string): RocCurve | null {
  const { tps, fps, thresholds, positives, negatives } = cumulativeCounts(isPositive, scores);
  if (positives === 0 || negatives === 0) return null;
  const fpr = [0, ...fps.map((f) => f / negatives)];
  const tpr = [0, ...tps.map((t) => t / positives)];
  let auc = 0;
  for (let i = 1; i < fpr.length; i++) auc += ((fpr[i]! - fpr[i - 1]!) * (tpr[i]! + tpr[i - 1]!)) / 2;
  return { positive, fpr, tpr, thresholds: [null, ...thresholds], auc };
}

/** The precision–recall curve and average precision; null when there are no positive rows. */
export function prCurve(isPositive: ArrayLike<boolean>, scores: ArrayLike<number>, positive: string): PrCurve | null {
  const { tps, fps, thresholds, positives } = cumulativeCounts(isPositive, scores);
  if (positives === 0) return null;
  const last = tps.length - 1;
  const precision: number[] = [];
  const recall: number[] = [];
  const kept: (number | null)[] = [];
  for (let i = last; i >= 0; i--) {
    precision.push(tps[i]! / (tps[i]! + fps[i]!));
    recall.push(tps[i]! / positives);
    kept.push(thresholds[i]!);
  }
  // Recall falls along the arrays (as scikit-learn returns them); the last point is (recall 0, precision 1).
  precision.push(1);
  recall.push(0);
  let ap = 0;
  for (let i = 0; i < recall.length - 1; i++) ap += (recall[i]! - recall[i + 1]!) * precision[i]!;
  return { positive, precision, recall, thresholds: kept, averagePrecision: ap, prevalence: positives / scores.length };
}

/**
 * Thins a curve to at most `max` points for plotting, always keeping the first and last: picks points
 * evenly by index. The arrays of `curve` named by `keys` are thinned alike; other fields are kept.
 */
export function thinCurve<T extends object>(curve: T, keys: readonly (keyof T)[], max: number): T {
  const length = (curve[keys[0]!] as unknown as unknown[]).length;
  if (length <= max) return curve;
  const pick: number[] = [];
  for (let j = 0; j < max; j++) pick.push(Math.round((j * (length - 1)) / (max - 1)));
  const out = { ...curve };
  for (const key of keys) (out as Record<keyof T, unknown>)[key] = pick.map((i) => (curve[key] as unknown as unknown[])[i]);
  return out;
}

/** An equal-width histogram: `counts[i]` values fall in [edges[i], edges[i+1]) (the last bin is closed). */
export interface Histogram {
  edges: number[];
  counts: number[];
}

/** An equal-width histogram of the finite values, `bins` bins (one when all values are equal). */
export function histogram(values: ArrayLike<number>, bins = 30): Histogram {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return { edges: [], counts: [] };
  const k = max === min ? 1 : bins;
  const width = max === min ? 1 : (max - min) / k;
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) continue;
    counts[Math.min(k - 1, Math.floor((v - min) / width))]! += 1;
  }
  return { edges: Array.from({ length: k + 1 }, (_, i) => (i === k ? (max === min ? min + 1 : max) : min + i * width)), counts };
}
