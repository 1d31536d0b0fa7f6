import Table from 'cli-table3';
import type { DatasetProfile } from '../core/data/profile.js';
import type { MetricsReport } from '../core/models/model-dir.js';

/** A number for people: integers as is, others to 4 significant digits. */
export function fmt(x: number | string | undefined | null): string {
  if (x === undefined || x === null) return '';
  if (typeof x === 'string') return x;
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(4)));
}

/** A simple borderless table. */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    style: { head: [], border: [], compact: true },
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
  });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

/** The profile of a dataset as a table: count, missing, distinct, min/max/mean, top values. */
export function profileTable(profile: DatasetProfile): string {
  return table(
    ['column', 'type', 'count', 'missing', 'distinct', 'min', 'max', 'mean', 'top values'],
    profile.columns.map((c) => [
      c.name,
      c.type,
      c.count,
      c.missing,
      c.distinct,
      fmt(c.min),
      fmt(c.max),
      fmt(c.mean),
      (c.top ?? []).slice(0, 3).map((t) => `${t.value.length > 18 ? `${t.value.slice(0, 17)}…` : t.value} (${t.count})`).join(', '),
    ]),
  );
}

/** Holdout metrics of the model beside the baseline, and the top feature importances. */
export function metricsLines(metrics: MetricsReport): string[] {
  const lines: string[] = [];
  const h = metrics.holdout;
  if (!h) {
    lines.push('no holdout evaluation (too few rows, or --holdout 0)');
  } else {
    lines.push(`holdout: ${h.testRows} of ${h.trainRows + h.testRows} rows${h.stratified ? ' (stratified)' : ''}; featurizers fitted on the training rows only`);
    const m = h.model as unknown as Record<string, number>;
    const b = h.baseline as unknown as Record<string, number>;
    const keys = metrics.task === 'classification' ? ['accuracy', 'macroF1'] : ['r2', 'rmse', 'mae'];
    lines.push(table(['metric', 'model', `baseline (${h.baseline.strategy})`], keys.map((k) => [k, fmt(m[k]), fmt(b[k])])));
    if ('confusionMatrix' in h.model) {
      const labels = h.model.labels;
      lines.push('confusion matrix (rows: actual, columns: predicted)');
      lines.push(table(['', ...labels], h.model.confusionMatrix.map((row, i) => [labels[i] ?? '', ...row])));
    }
  }
  const top = metrics.featureImportances.slice(0, 8).filter((f) => f.importance > 0);
  if (top.length) lines.push(`top features: ${top.map((f) => `${f.feature} ${fmt(f.importance)}`).join(', ')}`);
  return lines;
}
