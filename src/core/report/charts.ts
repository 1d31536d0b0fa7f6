/**
 * The report's charts as Vega-Lite specs, rendered to SVG on the server by vega (no browser, no
 * canvas, no script in the page). vega and vega-lite are imported on first use only: they cost
 * ~250 ms to load and nothing but the report needs them.
 */
import type { Histogram, PrCurve, RocCurve } from '../models/curves.js';

/** A Vega-Lite spec (top level); typed loosely on purpose: vega-lite's own types are vast. */
export type ChartSpec = Record<string, unknown>;

/** One chart of the report: a heading, its spec, and a sentence that says how to read it. */
export interface Chart {
  id: string;
  title: string;
  spec: ChartSpec;
  note?: string;
}

const WIDTH = 380;
const HEIGHT = 260;
const BLUE = '#3b6ea8';
const GREY = '#9a9a9a';
const ORANGE = '#d2691e';

const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 180, gridColor: '#eeeeee' },
  view: { stroke: null },
  background: 'white',
};

function base(spec: ChartSpec): ChartSpec {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, ...spec };
}

/** Bars of a category's counts (class balance of a classification target). */
export function classBalanceChart(counts: { label: string; count: number }[]): Chart {
  return {
    id: 'class-balance',
    title: 'Target classes',
    spec: base({
      width: WIDTH,
      height: { step: 18 },
      data: { values: counts },
      mark: { type: 'bar', color: BLUE },
      encoding: {
        y: { field: 'label', type: 'nominal', sort: '-x', title: null },
        x: { field: 'count', type: 'quantitative', title: 'rows' },
        tooltip: [{ field: 'label' }, { field: 'count' }],
      },
    }),
  };
}

/** Histogram of a numeric target from precomputed bins. */
export function targetHistogramChart(h: Histogram, name: string): Chart {
  const values = h.counts.map((count, i) => ({ from: h.edges[i], to: h.edges[i + 1], count }));
  return {
    id: 'target-histogram',
    title: `Distribution of ${name}`,
    spec: base({
      width: WIDTH,
      height: HEIGHT - 60,
      data: { values },
      mark: { type: 'rect', color: BLUE, stroke: 'white', strokeWidth: 0.5 },
      encoding: {
        x: { field: 'from', type: 'quantitative', title: name, scale: { zero: false } },
        x2: { field: 'to' },
        y: { field: 'count', type: 'quantitative', title: 'rows' },
      },
    }),
  };
}

/** Small histograms of many columns in one chart (four a row); dates on a time axis. */
export function distributionsChart(items: { name: string; type: 'number' | 'integer' | 'datetime'; histogram: Histogram }[]): Chart {
  return {
    id: 'distributions',
    title: 'Number and date columns (training rows)',
    note: 'Missing values are not drawn; the table above gives their share.',
    spec: base({
      columns: 4,
      spacing: 18,
      concat: items.map((d) => ({
        title: { text: d.name, fontSize: 11, fontWeight: 'normal', limit: 170 },
        width: 170,
        height: 70,
        data: { values: d.histogram.counts.map((count, i) => ({ from: d.histogram.edges[i], to: d.histogram.edges[i + 1], count })) },
        mark: { type: 'rect', color: BLUE, stroke: 'white', strokeWidth: 0.3 },
        encoding: {
          x: {
            field: 'from',
            title: null,
            axis: { tickCount: 3, labelFontSize: 9, labelOverlap: true },
            ...(d.type === 'datetime' ? { type: 'temporal' } : { type: 'quantitative', scale: { zero: false } }),
          },
          x2: { field: 'to' },
          y: { field: 'count', type: 'quantitative', title: null, axis: { tickCount: 2, labelFontSize: 9 } },
        },
      })),
    }),
  };
}

/** Confusion matrix: cells coloured by the share of the actual class, labelled with counts. */
export function confusionMatrixChart(matrix: number[][], labels: string[]): Chart {
  // The axes are ordered by each label's index (`a`, `p`), not by a list of the labels: vega-lite turns
  // such a list into an object keyed by the labels, and a label like `toString` or `constructor`
  // then breaks the chart (class labels are data).
  const values: { actual: string; predicted: string; a: number; p: number; count: number; share: number }[] = [];
  matrix.forEach((row, a) => {
    const total = row.reduce((s, v) => s + v, 0);
    row.forEach((count, p) => values.push({ actual: labels[a]!, predicted: labels[p]!, a, p, count, share: total === 0 ? 0 : count / total }));
  });
  const step = labels.length > 20 ? 16 : labels.length > 8 ? 26 : 48;
  return {
    id: 'confusion-matrix',
    title: 'Confusion matrix (holdout)',
    note: 'Rows are the actual class, columns the predicted one; colour is the share of the actual class.',
    spec: base({
      width: { step },
      height: { step },
      data: { values },
      encoding: {
        x: { field: 'predicted', type: 'nominal', sort: { field: 'p', op: 'min' }, title: 'predicted', axis: { labelAngle: -40 } },
        y: { field: 'actual', type: 'nominal', sort: { field: 'a', op: 'min' }, title: 'actual' },
      },
      layer: [
        {
          mark: 'rect',
          encoding: {
            color: { field: 'share', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 1] }, legend: { title: 'share', format: '.0%' } },
            tooltip: [{ field: 'actual' }, { field: 'predicted' }, { field: 'count' }, { field: 'share', format: '.1%' }],
          },
        },
        ...(labels.length <= 20
          ? [
              {
                mark: { type: 'text', fontSize: labels.length > 8 ? 9 : 12 },
                encoding: {
                  text: { field: 'count', type: 'quantitative' },
                  color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
                },
              },
            ]
          : []),
      ],
    }),
  };
}

/** ROC curve with the diagonal of a classifier that guesses. */
export function rocChart(roc: RocCurve): Chart {
  const values = roc.fpr.map((fpr, i) => ({ fpr, tpr: roc.tpr[i], threshold: roc.thresholds[i] }));
  return {
    id: 'roc',
    title: `ROC curve of "${roc.positive}" (AUC ${roc.auc.toFixed(3)})`,
    spec: base({
      width: HEIGHT,
      height: HEIGHT,
      layer: [
        {
          data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
          mark: { type: 'line', color: GREY, strokeDash: [4, 4] },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
        },
        {
          data: { values },
          mark: { type: 'line', color: BLUE, interpolate: 'linear' },
          encoding: {
            x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
            y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
            order: { field: 'fpr' },
          },
        },
      ],
    }),
  };
}

/** Precision–recall curve with the prevalence line of a classifier that guesses. */
export function prChart(pr: PrCurve): Chart {
  const values = pr.recall.map((recall, i) => ({ recall, precision: pr.precision[i], i }));
  return {
    id: 'precision-recall',
    title: `Precision–recall of "${pr.positive}" (average precision ${pr.averagePrecision.toFixed(3)})`,
    spec: base({
      width: HEIGHT,
      height: HEIGHT,
      layer: [
        {
          data: { values: [{ y: pr.prevalence }] },
          mark: { type: 'rule', color: GREY, strokeDash: [4, 4] },
          encoding: { y: { field: 'y', type: 'quantitative' } },
        },
        {
          data: { values },
          mark: { type: 'line', color: BLUE, interpolate: 'step-before' },
          encoding: {
            x: { field: 'recall', type: 'quantitative', title: 'recall', scale: { domain: [0, 1] } },
            y: { field: 'precision', type: 'quantitative', title: 'precision', scale: { domain: [0, 1] } },
            order: { field: 'i', sort: 'descending' },
          },
        },
      ],
    }),
  };
}

/** Predicted against actual values of holdout rows, with the line y = x. */
export function predictedVsActualChart(actual: number[], predicted: number[], name: string): Chart {
  const values = actual.map((a, i) => ({ actual: a, predicted: predicted[i] }));
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of [...actual, ...predicted]) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  return {
    id: 'predicted-vs-actual',
    title: 'Predicted vs actual (holdout)',
    note: 'Points on the dashed line are exact predictions.',
    spec: base({
      width: HEIGHT,
      height: HEIGHT,
      layer: [
        {
          data: { values: [{ x: lo, y: lo }, { x: hi, y: hi }] },
          mark: { type: 'line', color: GREY, strokeDash: [4, 4] },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
        },
        {
          data: { values },
          mark: { type: 'circle', color: BLUE, opacity: 0.5, size: 18 },
          encoding: {
            x: { field: 'actual', type: 'quantitative', title: `actual ${name}`, scale: { zero: false } },
            y: { field: 'predicted', type: 'quantitative', title: `predicted ${name}`, scale: { zero: false } },
          },
        },
      ],
    }),
  };
}

/** Residuals (actual − predicted) against predicted values, with the zero line. */
export function residualsChart(actual: number[], predicted: number[]): Chart {
  const values = actual.map((a, i) => ({ predicted: predicted[i], residual: a - predicted[i]! }));
  return {
    id: 'residuals',
    title: 'Residuals (holdout)',
    note: 'actual − predicted; a pattern (a slope, a funnel) means the model misses something systematic.',
    spec: base({
      width: HEIGHT,
      height: HEIGHT,
      layer: [
        { data: { values: [{ y: 0 }] }, mark: { type: 'rule', color: GREY, strokeDash: [4, 4] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
        {
          data: { values },
          mark: { type: 'circle', color: ORANGE, opacity: 0.5, size: 18 },
          encoding: {
            x: { field: 'predicted', type: 'quantitative', title: 'predicted', scale: { zero: false } },
            y: { field: 'residual', type: 'quantitative', title: 'residual' },
          },
        },
      ],
    }),
  };
}

/** Horizontal bars of importances (largest first), with ± one standard deviation when given. */
export function importanceChart(id: string, title: string, items: { name: string; value: number; std?: number }[], axisTitle: string, note?: string): Chart {
  const values = items.map((d) => ({ name: d.name, value: d.value, lo: d.value - (d.std ?? 0), hi: d.value + (d.std ?? 0) }));
  const withStd = items.some((d) => d.std !== undefined);
  return {
    id,
    title,
    ...(note ? { note } : {}),
    spec: base({
      width: WIDTH - 80,
      height: { step: 16 },
      data: { values },
      encoding: { y: { field: 'name', type: 'nominal', sort: null, title: null } },
      layer: [
        {
          mark: { type: 'bar', color: BLUE },
          encoding: { x: { field: 'value', type: 'quantitative', title: axisTitle }, tooltip: [{ field: 'name' }, { field: 'value', format: '.4f' }] },
        },
        ...(withStd ? [{ mark: { type: 'rule', color: 'black' }, encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } }] : []),
      ],
    }),
  };
}

/** Each fold's score of every metric (points), the model's mean (tick) and the baseline's mean (grey tick). */
export function crossValidationChart(rows: { metric: string; fold: number; value: number }[], means: { metric: string; model: number; baseline?: number }[]): Chart {
  return {
    id: 'cross-validation',
    title: 'Cross-validation: score of every fold',
    note: 'Dots are folds, the black tick the mean, the grey tick the baseline\'s mean.',
    spec: base({
      width: WIDTH,
      height: { step: 28 },
      layer: [
        {
          data: { values: means.filter((m) => m.baseline !== undefined) },
          mark: { type: 'tick', color: GREY, thickness: 2 },
          encoding: { y: { field: 'metric', type: 'nominal', title: null }, x: { field: 'baseline', type: 'quantitative' } },
        },
        {
          data: { values: rows },
          mark: { type: 'circle', color: BLUE, opacity: 0.7, size: 40 },
          encoding: {
            y: { field: 'metric', type: 'nominal', title: null },
            x: { field: 'value', type: 'quantitative', title: 'score', scale: { zero: false } },
            tooltip: [{ field: 'metric' }, { field: 'fold' }, { field: 'value', format: '.4f' }],
          },
        },
        {
          data: { values: means },
          mark: { type: 'tick', color: 'black', thickness: 2 },
          encoding: { y: { field: 'metric', type: 'nominal', title: null }, x: { field: 'model', type: 'quantitative' } },
        },
      ],
    }),
  };
}

type Vega = typeof import('vega');
type VegaLite = typeof import('vega-lite');
let libs: Promise<[Vega, VegaLite]> | undefined;

/** Renders a Vega-Lite spec to an SVG string (server side; loads vega on first use). */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  libs ??= Promise.all([import('vega'), import('vega-lite')]);
  const [vega, vl] = await libs;
  // Core never prints: vega and vega-lite log warnings to the console unless given a silent logger.
  const logger = vega.logger(vega.None);
  const compiled = vl.compile(spec as unknown as Parameters<VegaLite['compile']>[0], { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger, logLevel: vega.None });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
