import Table from 'cli-table3';
import type { DatasetProfile } from '../core/data/profile.js';
import type { MetricsReport } from '../core/models/model-dir.js';
import { columnTypeLabel } from '../core/table.js';

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
      columnTypeLabel(c),
      c.count,
      c.missing,
      c.distinctCapped ? `≥${c.distinct}` : c.distinct,
      fmt(c.min),
      fmt(c.max),
      fmt(c.mean),
      (c.top ?? []).slice(0, 3).map((t) => `${t.value.length > 18 ? `${t.value.slice(0, 17)}…` : t.value} (${t.count})`).join(', '),
    ]),
  );
}

const CLASSIFICATION_KEYS = ['accuracy', 'balancedAccuracy', 'macroF1', 'weightedF1', 'logLoss', 'rocAuc'];
const REGRESSION_KEYS = ['r2', 'rmse', 'mae', 'mape'];

/** ± with 4 significant digits. */
function pm(mean: number, std: number): string {
  return `${fmt(mean)} ± ${fmt(std)}`;
}

/**
 * Evaluation for people: the search's trials, cross-validation mean ± std, the holdout metrics beside
 * the baseline, the confusion matrix, out-of-bag score, and importances by input column.
 */
export function metricsLines(metrics: MetricsReport): string[] {
  const lines: string[] = [];
  const keys = metrics.task === 'classification' ? CLASSIFICATION_KEYS : REGRESSION_KEYS;
  if (metrics.search) {
    const s = metrics.search;
    lines.push(`${s.strategy} search: ${s.trials.length} trials, ${s.folds}-fold CV ${s.metric} (on the rows the holdout does not judge)`);
    const describe = (p: Record<string, unknown>) => Object.entries(p).map(([k, v]) => `${k}=${v}`).join(' ');
    const sorted = [...s.trials].sort((a, b) => b.mean - a.mean);
    lines.push(table(['trial', s.metric], sorted.slice(0, 10).map((t) => [describe(t.params), pm(t.mean, t.std)])));
    lines.push(`best: ${describe(s.best)}`);
  }
  if (metrics.crossValidation) {
    const cv = metrics.crossValidation;
    lines.push(`${cv.folds}-fold cross-validation${cv.stratified ? ' (stratified)' : ''}; featurizers re-fitted in every fold`);
    lines.push(
      table(
        ['metric', 'model (mean ± std)', 'baseline (mean ± std)'],
        keys.filter((k) => cv.summary[k]).map((k) => [k, pm(cv.summary[k]!.mean, cv.summary[k]!.std), cv.baselineSummary[k] ? pm(cv.baselineSummary[k]!.mean, cv.baselineSummary[k]!.std) : '']),
      ),
    );
  }
  const h = metrics.holdout;
  if (!h) {
    lines.push('no holdout evaluation (too few rows, or --holdout 0)');
  } else {
    lines.push(`holdout: ${h.testRows} of ${h.trainRows + h.testRows} rows${h.stratified ? ' (stratified)' : ''}; featurizers fitted on the training rows only`);
    const m = h.model as unknown as Record<string, number | null | undefined>;
    const b = h.baseline as unknown as Record<string, number | null | undefined>;
    lines.push(table(['metric', 'model', `baseline (${h.baseline.strategy})`], keys.filter((k) => m[k] !== undefined && m[k] !== null).map((k) => [k, fmt(m[k]), fmt(b[k])])));
    if ('confusionMatrix' in h.model) {
      const labels = h.model.labels;
      lines.push('confusion matrix (rows: actual, columns: predicted)');
      lines.push(table(['', ...labels], h.model.confusionMatrix.map((row, i) => [labels[i] ?? '', ...row])));
    }
    const perm = h.permutationImportance;
    if (perm) {
      const top = perm.byColumn.slice(0, 8);
      lines.push(`permutation importance (holdout ${perm.metric} drop, ${perm.repeats} repeats): ${top.map((c) => `${c.name} ${fmt(c.mean)}`).join(', ')}`);
    }
  }
  if (metrics.oobScore !== undefined) lines.push(`out-of-bag ${metrics.task === 'classification' ? 'accuracy' : 'r2'}: ${metrics.oobScore === null ? 'n/a' : fmt(metrics.oobScore)}`);
  const cols = (metrics.columnImportances ?? []).filter((c) => c.importance > 0).slice(0, 8);
  if (cols.length) lines.push(`impurity importance by column: ${cols.map((c) => `${c.name} ${fmt(c.importance)}`).join(', ')}`);
  const top = metrics.featureImportances.slice(0, 8).filter((f) => f.importance > 0);
  if (top.length) lines.push(`top features: ${top.map((f) => `${f.feature} ${fmt(f.importance)}`).join(', ')}`);
  return lines;
}

/** One phrase with the main score: `holdout accuracy 0.9855 (baseline 0.4348)`, or the CV mean without a holdout. */
export function metricsHeadline(metrics: MetricsReport): string {
  const key = metrics.task === 'classification' ? 'accuracy' : 'r2';
  const h = metrics.holdout;
  if (h) {
    const m = h.model as unknown as Record<string, number>;
    const b = h.baseline as unknown as Record<string, number>;
    return `holdout ${key} ${fmt(m[key])} (baseline ${fmt(b[key])})`;
  }
  const cv = metrics.crossValidation?.summary[key];
  return cv ? `cross-validated ${key} ${pm(cv.mean, cv.std)}` : 'no holdout evaluation';
}
