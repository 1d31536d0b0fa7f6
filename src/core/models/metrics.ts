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
  support: number;
}

function safeDiv(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/** Accuracy, macro F1 (classes absent from both truth and predictions are skipped), confusion matrix. */
export function classificationMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>, labels: string[]): ClassificationMetrics {
  const k = labels.length;
  const cm = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < actual.length; i++) {
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
  return { accuracy: safeDiv(correct, actual.length), macroF1, confusionMatrix: cm, labels, perClass, support: actual.length };
}

/** R², RMSE and MAE. R² is 0 when the actual values have no variance. */
export function regressionMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>): RegressionMetrics {
  const n = actual.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += actual[i] as number;
  mean = safeDiv(mean, n);
  let ssRes = 0;
  let ssTot = 0;
  let abs = 0;
  for (let i = 0; i < n; i++) {
    const a = actual[i] as number;
    const e = a - (predicted[i] as number);
    ssRes += e * e;
    ssTot += (a - mean) * (a - mean);
    abs += Math.abs(e);
  }
  return { r2: ssTot === 0 ? 0 : 1 - ssRes / ssTot, rmse: Math.sqrt(safeDiv(ssRes, n)), mae: safeDiv(abs, n), support: n };
}
