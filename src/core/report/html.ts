/**
 * report.html: one self-contained page (inline CSS and SVG, no script, no network) with the data
 * profile, the featurizers, holdout metrics against the baseline, confusion matrix, ROC and
 * precision–recall curves (binary), predicted-vs-actual and residual plots (regression), importances,
 * cross-validation spread and the search trials. Every text that came from data or config is escaped.
 */
import { describeSource } from '../lineage.js';
import { columnTypeLabel } from '../table.js';
import type { ClassificationMetrics, RegressionMetrics } from '../models/metrics.js';
import type { MetricsReport } from '../models/model-dir.js';
import {
  type Chart,
  classBalanceChart,
  confusionMatrixChart,
  crossValidationChart,
  distributionsChart,
  importanceChart,
  predictedVsActualChart,
  prChart,
  renderSvg,
  residualsChart,
  rocChart,
  targetHistogramChart,
} from './charts.js';
import type { ReportData } from './data.js';

/** Importances shown in a chart: the largest this many. */
const TOP_IMPORTANCES = 20;
/** A confusion matrix is drawn up to this many classes (the per-class table has them all). */
const MAX_MATRIX_CLASSES = 60;

const CLASSIFICATION_METRICS: [keyof ClassificationMetrics, string][] = [
  ['accuracy', 'accuracy'],
  ['balancedAccuracy', 'balanced accuracy'],
  ['macroF1', 'macro F1'],
  ['weightedF1', 'weighted F1'],
  ['logLoss', 'log loss'],
  ['rocAuc', 'ROC AUC'],
];
const REGRESSION_METRICS: [keyof RegressionMetrics, string][] = [
  ['r2', 'R²'],
  ['rmse', 'RMSE'],
  ['mae', 'MAE'],
  ['mape', 'MAPE'],
];
/** Metrics on a 0–1 scale, drawn in the cross-validation chart (log loss and errors have other scales). */
const CV_CHART_METRICS = new Set(['accuracy', 'balancedAccuracy', 'macroF1', 'weightedF1', 'rocAuc', 'r2']);

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function num(x: number | string | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return '–';
  if (typeof x === 'string') return escapeHtml(x);
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  const abs = Math.abs(x);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? x.toExponential(3) : x.toFixed(digits).replace(/\.?0+$/, '');
}

/** A datetime at midnight UTC as its day (`2024-03-05`), anything else unchanged. */
function shortDate<T>(x: T): T | string {
  return typeof x === 'string' && x.endsWith('T00:00:00.000Z') ? x.slice(0, -14) : x;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x > 0 && x < 0.001 ? 2 : 1)}%`;
}

function table(head: string[], rows: string[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

async function figure(chart: Chart): Promise<string> {
  const svg = await renderSvg(chart.spec);
  return `<figure class="chart" id="chart-${chart.id}"><figcaption>${escapeHtml(chart.title)}</figcaption>${svg}${chart.note ? `<p class="note">${escapeHtml(chart.note)}</p>` : ''}</figure>`;
}

function metricPairs(metrics: MetricsReport): [string, string][] {
  return (metrics.task === 'classification' ? CLASSIFICATION_METRICS : REGRESSION_METRICS) as [string, string][];
}

function headline(data: ReportData): string {
  const h = data.metrics.holdout;
  if (!h) return '<p class="warn">No holdout evaluation (too few rows, or <code>--holdout 0</code>): the metrics below, if any, come from cross-validation or out-of-bag scores.</p>';
  const m = h.model as unknown as Record<string, number | null | undefined>;
  const b = h.baseline as unknown as Record<string, number | null | undefined>;
  const keys = data.metrics.task === 'classification' ? ['accuracy', 'macroF1', 'rocAuc'] : ['r2', 'rmse', 'mae'];
  const labels = Object.fromEntries(metricPairs(data.metrics));
  return `<div class="cards">${keys
    .filter((k) => m[k] !== undefined && m[k] !== null)
    .map((k) => `<div class="card"><div class="label">${labels[k]}</div><div class="value">${num(m[k], 3)}</div><div class="base">baseline ${num(b[k], 3)}</div></div>`)
    .join('')}</div>`;
}

function overview(data: ReportData): string {
  const t = data.training;
  const lineage = t.lineage;
  const rows: [string, string][] = [
    ['task', `${escapeHtml(t.task)}: predicts <b>${escapeHtml(t.target.name)}</b> (${escapeHtml(t.target.type)})${t.classes ? `; ${t.classes.length} classes` : ''}`],
    ['model', `${escapeHtml(t.model.type)} (engine ${escapeHtml(t.model.engine)}): ${Object.entries(t.model.params).map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(String(v))}`).join(', ')}`],
    ['training rows', `${num(t.rows)} rows → ${num(t.featureCount)} features`],
    ['trained', `${escapeHtml(t.trainedAt)} in ${num(t.durationMs / 1000, 1)} s by mlpipe ${escapeHtml(t.mlpipeVersion)} on Node ${escapeHtml(t.node)}`],
  ];
  if (data.createdAt) rows.push(['packaged', escapeHtml(data.createdAt)]);
  if (lineage) rows.push(['data', `${escapeHtml(describeSource(lineage.source))}, ${num(lineage.rows)} rows × ${num(lineage.columns)} columns, fingerprint <code>${escapeHtml(lineage.fingerprint.slice(0, 23))}…</code>`]);
  if (t.configSha256) rows.push(['config', `sha256 <code>${escapeHtml(t.configSha256.slice(0, 16))}…</code>`]);
  return `<table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</tbody></table>`;
}

async function dataSection(data: ReportData): Promise<string> {
  const d = data.details;
  if (!d) return '<section id="data"><h2>Data</h2><p class="warn">This model was trained by an mlpipe that did not record the data profile.</p></section>';
  const target = data.training.target.name;
  const rows = d.profile.columns.map((c) => {
    const missing = d.profile.rows === 0 ? 0 : c.missing / d.profile.rows;
    const top = (c.top ?? []).slice(0, 3).map((t) => `${escapeHtml(t.value.length > 24 ? `${t.value.slice(0, 23)}…` : t.value)} (${num(t.count)})`).join(', ');
    return [
      `${escapeHtml(c.name)}${c.name === target ? ' <span class="tag">target</span>' : ''}`,
      escapeHtml(columnTypeLabel(c)),
      `<span class="bar" style="--w:${(missing * 100).toFixed(1)}%"></span>${pct(missing)}`,
      `${c.distinctCapped ? '≥ ' : ''}${num(c.distinct)}`,
      num(shortDate(c.min)),
      num(shortDate(c.max)),
      num(c.mean),
      top,
    ];
  });
  const charts: string[] = [];
  if (d.target.classCounts) charts.push(await figure(classBalanceChart(d.target.classCounts)));
  if (d.target.histogram && d.target.histogram.counts.length) charts.push(await figure(targetHistogramChart(d.target.histogram, target)));
  if (d.distributions?.length) charts.push(await figure(distributionsChart(d.distributions)));
  return `<section id="data"><h2>Data</h2><p>${num(d.profile.rows)} rows × ${d.profile.columns.length} columns as loaded${d.profile.rows > data.training.rows ? `; the ${num(data.training.rows)} with a target were used for training` : ''}.</p>
${table(['column', 'type', 'missing', 'distinct', 'min', 'max', 'mean', 'most frequent'], rows, 'profile')}
<div class="charts">${charts.join('')}</div></section>`;
}

function featurizerSection(data: ReportData): string {
  const d = data.details;
  if (!d) return '';
  const steps = d.featurizers.steps.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('');
  const dropped = d.featurizers.dropped.map((x) => `<li><code>${escapeHtml(x.column)}</code>: dropped (${escapeHtml(x.reason)})</li>`).join('');
  return `<section id="featurizers"><h2>Featurizers</h2><p>Fitted on the training rows; the same code transforms every request at serving time.</p><ul class="steps">${steps}${dropped}</ul></section>`;
}

async function evaluationSection(data: ReportData): Promise<string> {
  const h = data.metrics.holdout;
  if (!h) return '';
  const m = h.model as unknown as Record<string, number | null | undefined>;
  const b = h.baseline as unknown as Record<string, number | null | undefined>;
  const rows = metricPairs(data.metrics)
    .filter(([k]) => m[k] !== undefined && m[k] !== null)
    .map(([k, label]) => [label, num(m[k]), num(b[k])]);
  const parts = [
    `<p>Holdout: ${num(h.testRows)} of ${num(h.trainRows + h.testRows)} rows${h.stratified ? ' (stratified)' : ''}; featurizers and model fitted on the other ${num(h.trainRows)} rows only. Baseline: ${escapeHtml(h.baseline.strategy)}.</p>`,
    table(['metric', 'model', 'baseline'], rows, 'metrics'),
  ];
  const charts: string[] = [];
  if ('confusionMatrix' in h.model) {
    const cm = h.model as ClassificationMetrics;
    if (cm.labels.length <= MAX_MATRIX_CLASSES) charts.push(await figure(confusionMatrixChart(cm.confusionMatrix, cm.labels)));
    const holdout = data.details?.holdout;
    if (holdout?.roc) charts.push(await figure(rocChart(holdout.roc)));
    if (holdout?.pr) charts.push(await figure(prChart(holdout.pr)));
    parts.push(
      `<div class="charts">${charts.join('')}</div>`,
      `<h3>Per class</h3>${table(['class', 'precision', 'recall', 'F1', 'support'], cm.perClass.map((c) => [escapeHtml(c.label), num(c.precision, 3), num(c.recall, 3), num(c.f1, 3), num(c.support)]), 'metrics')}`,
    );
  } else {
    const sample = data.details?.holdout?.sample;
    if (sample && sample.actual.length) {
      charts.push(await figure(predictedVsActualChart(sample.actual, sample.predicted, data.training.target.name)));
      charts.push(await figure(residualsChart(sample.actual, sample.predicted)));
      parts.push(`<div class="charts">${charts.join('')}</div>`);
      if (sample.of > sample.actual.length) parts.push(`<p class="note">Plots show a random sample of ${num(sample.actual.length)} of the ${num(sample.of)} holdout rows.</p>`);
    }
  }
  if (data.metrics.oobScore !== undefined) parts.push(`<p>Out-of-bag ${data.metrics.task === 'classification' ? 'accuracy' : 'R²'} of the final model: ${num(data.metrics.oobScore)}</p>`);
  return `<section id="evaluation"><h2>Evaluation</h2>${parts.join('\n')}</section>`;
}

async function crossValidationSection(data: ReportData): Promise<string> {
  const cv = data.metrics.crossValidation;
  if (!cv) return '';
  const labels = Object.fromEntries(metricPairs(data.metrics)) as Record<string, string>;
  const keys = metricPairs(data.metrics).map(([k]) => k).filter((k) => cv.summary[k]);
  const points: { metric: string; fold: number; value: number }[] = [];
  const means: { metric: string; model: number; baseline?: number }[] = [];
  for (const k of keys.filter((k) => CV_CHART_METRICS.has(k))) {
    const s = cv.summary[k]!;
    s.values.forEach((value, fold) => points.push({ metric: labels[k]!, fold: fold + 1, value }));
    means.push({ metric: labels[k]!, model: s.mean, ...(cv.baselineSummary[k] ? { baseline: cv.baselineSummary[k]!.mean } : {}) });
  }
  const rows = keys.map((k) => [labels[k]!, `${num(cv.summary[k]!.mean)} ± ${num(cv.summary[k]!.std)}`, cv.baselineSummary[k] ? `${num(cv.baselineSummary[k]!.mean)} ± ${num(cv.baselineSummary[k]!.std)}` : '–', cv.summary[k]!.values.map((v) => num(v, 3)).join(', ')]);
  const chart = points.length ? `<div class="charts">${await figure(crossValidationChart(points, means))}</div>` : '';
  return `<section id="cross-validation"><h2>Cross-validation</h2><p>${cv.folds}-fold${cv.stratified ? ', stratified' : ''}; featurizers re-fitted in every fold.</p>${chart}${table(['metric', 'model (mean ± std)', 'baseline (mean ± std)', 'folds'], rows, 'metrics')}</section>`;
}

function searchSection(data: ReportData): string {
  const s = data.metrics.search;
  if (!s) return '';
  const describe = (p: Record<string, unknown>) => Object.entries(p).map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(String(v))}`).join(', ');
  const sorted = [...s.trials].sort((a, b) => b.mean - a.mean);
  return `<section id="search"><h2>Hyperparameter search</h2><p>${escapeHtml(s.strategy)} search, ${s.trials.length} trials, each scored by ${s.folds}-fold CV ${escapeHtml(s.metric)} on the rows the holdout does not judge. Best: ${describe(s.best)}.</p>${table(
    ['parameters', `${escapeHtml(s.metric)} (mean ± std)`],
    sorted.map((t) => [describe(t.params), `${num(t.mean)} ± ${num(t.std)}`]),
    'metrics',
  )}</section>`;
}

async function importanceSection(data: ReportData): Promise<string> {
  const charts: string[] = [];
  const byColumn = (data.metrics.columnImportances ?? []).slice(0, TOP_IMPORTANCES);
  if (byColumn.length) {
    charts.push(await figure(importanceChart('impurity-importance', 'Impurity importance by input column', byColumn.map((c) => ({ name: c.name, value: c.importance })), 'share of impurity decrease', 'Summed over the features each column produced; computed on the training rows, so it can favour columns with many values.')));
  }
  const perm = data.metrics.holdout?.permutationImportance;
  if (perm && perm.byColumn.length) {
    charts.push(
      await figure(
        importanceChart(
          'permutation-importance',
          `Permutation importance by input column (holdout ${perm.metric} drop)`,
          perm.byColumn.slice(0, TOP_IMPORTANCES).map((c) => ({ name: c.name, value: c.mean, std: c.std })),
          `drop in ${perm.metric}`,
          `Mean ± std over ${perm.repeats} shuffles of ${perm.rows} holdout rows.`,
        ),
      ),
    );
  }
  const features = data.metrics.featureImportances.slice(0, TOP_IMPORTANCES);
  const top = features.length ? `<h3>Top features</h3>${table(['feature', 'importance'], features.map((f) => [escapeHtml(f.feature), num(f.importance)]), 'metrics')}` : '';
  if (!charts.length && !top) return '';
  return `<section id="importance"><h2>Feature importance</h2><div class="charts">${charts.join('')}</div>${top}</section>`;
}

const CSS = `
:root{color-scheme:light}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px;background:white;min-height:100vh}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #e3e3e3;padding-bottom:4px}h3{font-size:15px;margin:20px 0 6px}
.sub{color:#666;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;text-align:left;border-bottom:1px solid #eee;vertical-align:top}
thead th{background:#f2f4f7;font-weight:600}
table.metrics td:not(:first-child),table.profile td:nth-child(n+3):not(:last-child){text-align:right;font-variant-numeric:tabular-nums}
table.kv th{color:#666;font-weight:500;width:120px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{border:1px solid #dde3ea;border-radius:8px;padding:10px 16px;min-width:140px}
.card .label{color:#666;font-size:12px;text-transform:uppercase;letter-spacing:.04em}.card .value{font-size:26px;font-weight:600}.card .base{color:#888;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:20px}
figure.chart{margin:8px 0;max-width:100%;overflow-x:auto}figcaption{font-weight:600;margin-bottom:4px}
.note{color:#666;font-size:12px;max-width:520px}.warn{background:#fff6e0;border:1px solid #f0d48a;padding:6px 10px;border-radius:6px}
.tag{background:#e8eef7;color:#3b6ea8;border-radius:4px;padding:0 5px;font-size:11px}
.bar{display:inline-block;width:40px;height:8px;margin-right:6px;background:linear-gradient(90deg,#d2691e var(--w),#eee var(--w));vertical-align:middle}
ul.steps{padding-left:18px}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
nav a{margin-right:12px;color:#3b6ea8;text-decoration:none}
footer{margin-top:40px;color:#888;font-size:12px}
@media print{body{background:white}main{padding:0}nav{display:none}}
`;

/** Renders the report page. Charts are drawn by vega on this side; the page has no script. */
export async function renderReportHtml(data: ReportData): Promise<string> {
  const sections = [
    await dataSection(data),
    featurizerSection(data),
    await evaluationSection(data),
    await crossValidationSection(data),
    searchSection(data),
    await importanceSection(data),
  ].filter(Boolean);
  const nav = [...sections.join('').matchAll(/<section id="([^"]+)"><h2>([^<]+)<\/h2>/g)].map((m) => `<a href="#${m[1]}">${m[2]}</a>`).join('');
  const title = `${data.title}: ${data.training.target.name} (${data.training.task})`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${escapeHtml(data.generatedBy)}">
<title>${escapeHtml(title)} — mlpipe report</title>
<style>${CSS}</style></head>
<body><main>
<h1>${escapeHtml(data.title)}</h1>
<p class="sub">${escapeHtml(data.kind)} report · ${escapeHtml(data.training.task)} of <b>${escapeHtml(data.training.target.name)}</b></p>
<nav>${nav}</nav>
${headline(data)}
${overview(data)}
${sections.join('\n')}
<footer>Rendered ${escapeHtml(data.generatedAt)} by ${escapeHtml(data.generatedBy)} from ${escapeHtml(data.path)}. <code>mlpipe report --json</code> prints the numbers behind this page.</footer>
</main></body></html>
`;
}
