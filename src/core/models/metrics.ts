/** Per-class scores of a classifier. */
export interface ClassScores {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Classification metrics on a holdout set. */
export interface ClassificationMetrics {
  accuracy: number;
  macroF1: number;
  /** Mean recall over the classes present in the actual values (scikit-learn's `balanced_accuracy_score`). */
  balancedAccuracy: number;
  /** F1 of each class weighted by its support (scikit-learn's `f1_score(average='weighted')`). */
  weightedF1: number;
  /**
   * Mean negative natural log of the probability given to the actual class, probabilities clipped to
   * [1e-15, 1 − 1e-15]. Present only when class probabilities were passed.
   */
  logLoss?: number;
  /**
   * Area under the ROC curve, ties counted as 1/2: binary → of the positive class `labels[1]`; more
   * classes → macro average of one-vs-rest AUCs. Present only when class probabilities were passed;
   * null when undefined (e.g. a single class in the actual values).
   */
  rocAuc?: number | null;
  /** rows: actual class, columns: predicted class, in `labels` order. */
  confusionMatrix: number[][];
  labels: string[];
  perClass: ClassScores[];
  support: number;
}

/** Regression metrics on a holdout set. */
export interface RegressionMetrics {
  r2: number;
  rmse: number;
  mae: number;
  /**
   * Mean absolute percentage error as a fraction (0.1 = 10 %), over the rows whose actual value is not
   * 0; null when every actual value is 0.
   */
  mape: number | null;
  support: number;
}

/** Probabilities are clipped to [LOG_LOSS_EPS, 1 − LOG_LOSS_EPS] so a confident mistake costs ~34.5, not ∞. */
const LOG_LOSS_EPS = 1e-15;

function safeDiv(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/**
 * Classification metrics: accuracy, macro F1 (classes absent from both truth and predictions are
 * skipped), balanced accuracy, support-weighted F1, per-class scores and the confusion matrix. With
 * `proba` (row-major, `actual.length × labels.length`, columns in `labels` order) also log loss and
 * ROC AUC. `actual` and `predicted` hold class indices into `labels`.
 *
 * @throws Error when `predicted` or `proba` does not match `actual` in length.
 */
export function classificationMetrics(
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  labels: string[],
  proba?: ArrayLike<number>,
): ClassificationMetrics {
  const n = actual.length;
  const k = labels.length;
  if (predicted.length !== n) throw new Error(`classificationMetrics: ${predicted.length} predictions for ${n} actual values; pass one prediction per row`);
  if (proba !== undefined && proba.length !== n * k) {
    throw new Error(`classificationMetrics: proba has ${proba.length} values, expected ${n} rows × ${k} classes = ${n * k} (row-major, columns in labels order)`);
  }
  const cm = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const a = actual[i] as number;
    const p = predicted[i] as number;
    (cm[a] as number[])[p] = ((cm[a] as number[])[p] as number) + 1;
    if (a === p) correct++;
  }
  const perClass: ClassScores[] = labels.map((label, c) => {
    const tp = (cm[c] as number[])[c] as number;
    const support = (cm[c] as number[]).reduce((s, v) => s + v, 0);
    const predictedCount = cm.reduce((s, row) => s + (row[c] as number), 0);
    const precision = safeDiv(tp, predictedCount);
    const recall = safeDiv(tp, support);
    return { label, precision, recall, f1: safeDiv(2 * precision * recall, precision + recall), support };
  });
  const present = perClass.filter((c, i) => c.support > 0 || cm.some((row) => (row[i] as number) > 0));
  const macroF1 = safeDiv(present.reduce((s, c) => s + c.f1, 0), present.length);
  const inActual = perClass.filter((c) => c.support > 0);
  const balancedAccuracy = safeDiv(inActual.reduce((s, c) => s + c.recall, 0), inActual.length);
  const weightedF1 = safeDiv(perClass.reduce((s, c) => s + c.f1 * c.support, 0), n);
  const result: ClassificationMetrics = {
    accuracy: safeDiv(correct, n),
    macroF1,
    balancedAccuracy,
    weightedF1,
    confusionMatrix: cm,
    labels,
    perClass,
    support: n,
  };
  if (proba !== undefined) {
    result.logLoss = logLoss(actual, proba, k);
    result.rocAuc = rocAuc(actual, proba, k, perClass.map((c) => c.support));
  }
  return result;
}

function logLoss(actual: ArrayLike<number>, proba: ArrayLike<number>, k: number): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const p = proba[i * k + (actual[i] as number)] as number;
    sum -= Math.log(Math.min(Math.max(p, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS));
  }
  return safeDiv(sum, actual.length);
}

function rocAuc(actual: ArrayLike<number>, proba: ArrayLike<number>, k: number, support: number[]): number | null {
  const n = actual.length;
  if (k === 2) return binaryAuc(actual, proba, k, 1);
  const aucs: number[] = [];
  for (let c = 0; c < k; c++) {
    const positives = support[c] as number;
    if (positives === 0 || positives === n) continue;
    aucs.push(binaryAuc(actual, proba, k, c) as number);
  }
  return aucs.length === 0 ? null : aucs.reduce((s, v) => s + v, 0) / aucs.length;
}

/**
 * One-vs-rest AUC of class `c` by the Mann–Whitney statistic: rank the scores (tied scores share their
 * mean rank), then AUC = (rank sum of positives − P(P+1)/2) / (P·N). Exact, ties count 1/2.
 */
function binaryAuc(actual: ArrayLike<number>, proba: ArrayLike<number>, k: number, c: number): number | null {
  const n = actual.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const score = (i: number): number => proba[i * k + c] as number;
  order.sort((a, b) => score(a) - score(b));
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && score(order[end] as number) === score(order[start] as number)) end++;
    // ranks are 1-based: the tie group occupies ranks start+1 … end
    const meanRank = (start + 1 + end) / 2;
    for (let j = start; j < end; j++) {
      if (actual[order[j] as number] === c) {
        positives++;
        rankSum += meanRank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * R², RMSE, MAE and MAPE. R² is 0 when the actual values have no variance. MAPE skips rows whose actual
 * value is 0 (scikit-learn instead divides by a tiny epsilon there, which yields huge values).
 *
 * @throws Error when `predicted` does not match `actual` in length.
 */
export function regressionMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>): RegressionMetrics {
  const n = actual.length;
  if (predicted.length !== n) throw new Error(`regressionMetrics: ${predicted.length} predictions for ${n} actual values; pass one prediction per row`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += actual[i] as number;
  mean = safeDiv(mean, n);
  let ssRes = 0;
  let ssTot = 0;
  let abs = 0;
  let relative = 0;
  let nonZero = 0;
  for (let i = 0; i < n; i++) {
    const a = actual[i] as number;
    const e = a - (predicted[i] as number);
    ssRes += e * e;
    ssTot += (a - mean) * (a - mean);
    abs += Math.abs(e);
    if (a !== 0) {
      relative += Math.abs(e / a);
      nonZero++;
    }
  }
  return {
    r2: ssTot === 0 ? 0 : 1 - ssRes / ssTot,
    rmse: Math.sqrt(safeDiv(ssRes, n)),
    mae: safeDiv(abs, n),
    mape: nonZero === 0 ? null : relative / nonZero,
    support: n,
  };
}
