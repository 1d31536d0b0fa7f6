/**
 * The CI quality gate: score a candidate bundle and a baseline bundle on the same rows of any source
 * `load` reads, and say whether the candidate is worse than the baseline by more than an allowed drop.
 */
import { type Predictor } from '../predictor/predictor.js';
import { loadPredictor } from '../predictor/from-bundle.js';
import { type LoadOptions, loadSource } from '../data/load.js';
import { ConfigError, DataError, type ErrorDetail } from '../errors.js';
import type { CustomModuleSpec } from '../features/custom.js';
import type { InputColumn } from '../features/types.js';
import { type ClassificationMetrics, type RegressionMetrics, classificationMetrics, regressionMetrics } from '../models/metrics.js';
import { labelValues, targetCells } from '../models/task.js';
import { spell } from '../spellings.js';
import { type Column, cellAt, findColumn } from '../table.js';
import { type Cell, CellError, type DeclaredType, parseBoolean, toCell } from '../values.js';
import { dict, ownValue } from '../records/dict.js';

/** Which way a metric is better. */
export type Better = 'higher' | 'lower';

/** The metrics `compare` reports and can gate on, by task, with the direction each is better in. */
const COMPARE_METRICS: Record<'classification' | 'regression', Record<string, Better>> = {
  classification: { accuracy: 'higher', balancedAccuracy: 'higher', macroF1: 'higher', weightedF1: 'higher', logLoss: 'lower', rocAuc: 'higher' },
  regression: { r2: 'higher', rmse: 'lower', mae: 'lower', mape: 'lower' },
};

/** The metric gated on by default: mlpipe's headline metric of the task. */
const DEFAULT_METRIC = { classification: 'accuracy', regression: 'r2' } as const;

const ALL_METRICS = [...Object.keys(COMPARE_METRICS.classification), ...Object.keys(COMPARE_METRICS.regression)];

/**
 * A metric name as a user may write it (`log-loss`, `log_loss`, `logloss`, `macro-f1`, `R2`) →
 * its name in mlpipe's metrics (`logLoss`, `macroF1`, `r2`). ConfigError naming the known ones.
 */
export function metricName(input: string): string {
  const key = input.toLowerCase().replace(/[-_ ]/g, '');
  const found = ALL_METRICS.find((m) => m.toLowerCase() === key);
  if (!found) throw new ConfigError(`--metric: unknown metric "${input}" (classification: ${Object.keys(COMPARE_METRICS.classification).join(', ')}; regression: ${Object.keys(COMPARE_METRICS.regression).join(', ')})`);
  return found;
}

/** Options of {@link compareBundles}. */
export interface CompareOptions {
  candidate: string;
  baseline: string;
  artifacts: string;
  /** The evaluation rows: any source `load` reads, with its loading options. */
  load: LoadOptions;
  /** For messages: how the source was given (`eval.csv`, `postgres://host/db`). */
  sourceLabel: string;
  /** Gate metric (see {@link metricName}); default {@link DEFAULT_METRIC} of the task. */
  metric?: string;
  /** How much worse the candidate may be on the metric (default 0). */
  maxDrop?: number;
  /** Custom featurizer modules, for bundles that use them. */
  featurizers?: readonly CustomModuleSpec[];
}

/** One bundle's side of a comparison. */
export interface CompareSide {
  /** `name@version` of the bundle scored. */
  ref: string;
  /** The reference as given (`penguins@production`, a folder). */
  given: string;
  dir: string;
  metrics: ClassificationMetrics | RegressionMetrics;
}

/** A row that could not be scored, and why. */
export interface UnscoredRow {
  /** 1-based data row of the source. */
  row: number;
  /** The bundle that refused it. */
  bundle: string;
  error: string;
}

/** What {@link compareBundles} found. */
export interface CompareResult {
  source: string;
  task: 'classification' | 'regression';
  target: string;
  candidate: CompareSide;
  baseline: CompareSide;
  /** Rows the source gave (after the loader's own --on-bad-row skip). */
  rowsRead: number;
  /** Rows scored by both bundles: the same rows for both. */
  rows: number;
  /** Rows left out because their target is missing. */
  missingTarget: number;
  /** Rows left out because a bundle could not read them (a value of the wrong type, a required field missing). */
  unreadable: number;
  firstUnreadable?: UnscoredRow;
  /** Rows the loader skipped (`--on-bad-row skip`). */
  loaderSkipped: number;
  /** Every metric of the task: both values, candidate − baseline, and the direction it is better in. */
  metrics: { metric: string; better: Better; candidate: number | null; baseline: number | null; difference: number | null }[];
  gate: {
    metric: string;
    better: Better;
    candidate: number;
    baseline: number;
    /** candidate − baseline. */
    difference: number;
    /** How much worse the candidate is (positive: worse, whatever the direction). */
    drop: number;
    maxDrop: number;
    passed: boolean;
  };
}

/** The declared type a bundle's input column is read with (`datetime:dmy` with its learned order). */
function declaredType(input: Pick<InputColumn, 'type' | 'dateOrder'>): DeclaredType {
  return input.type === 'datetime' && input.dateOrder ? `datetime:${input.dateOrder}` : input.type;
}

/**
 * A loaded cell as the value a bundle's input column reads: unchanged when the types agree, else
 * through its text (`3` → `"3"` for a category column, `"2024-03-05"` for a datetime read as text).
 *
 * @throws CellError when the column cannot read it.
 */
function inputValue(cell: Cell, from: Column, to: InputColumn): unknown {
  if (cell === null) return null;
  if (from.type === to.type) return cell;
  let text: string;
  if (from.type === 'datetime') text = new Date(cell as number).toISOString();
  else if (typeof cell === 'boolean') text = String(spell(cell, from.type === 'boolean' ? from.truthSpellings : undefined));
  else text = String(cell);
  return toCell(to.type, text, to.dateOrder);
}

/** The records a bundle reads from the loaded rows, and each row's problems (by row index). */
function recordsFor(model: Predictor, columns: Column[], rowCount: number): { records: Record<string, unknown>[]; problems: Map<number, ErrorDetail[]> } {
  const inputs = model.transformer.pipeline.inputs.map((input) => ({ input, column: columns.find((c) => c.name === input.name) }));
  const problems = new Map<number, ErrorDetail[]>();
  const records: Record<string, unknown>[] = new Array(rowCount);
  for (let i = 0; i < rowCount; i++) {
    const record = dict<unknown>(); // keyed by column names, which are data
    for (const { input, column } of inputs) {
      // A column the source lacks is left out, as a client leaves out a field: imputed, or refused when required.
      if (!column) continue;
      try {
        record[input.name] = inputValue(cellAt(column, i), column, input);
      } catch (err) {
        if (!(err instanceof CellError)) throw err;
        const list = problems.get(i) ?? [];
        list.push({ path: `/${input.name}`, message: err.message });
        problems.set(i, list);
      }
    }
    records[i] = record;
  }
  const featurized = model.featurizeRows(records, () => '');
  for (const p of featurized.problems) problems.set(p.index, [...(problems.get(p.index) ?? []), ...p.details]);
  return { records, problems };
}

/** Scores a classifier: true labels (as the target's text) against its predictions. */
function scoreClassifier(model: Predictor, records: Record<string, unknown>[], actual: string[], targetType: string): ClassificationMetrics {
  const classes = model.forest.classes;
  const labels = classes.slice();
  const index = new Map(labels.map((c, i) => [c, i]));
  const asBoolean = targetType === 'boolean' ? new Map(classes.map((c, i) => [parseBoolean(c), i])) : undefined;
  const actualIndex = actual.map((label) => {
    const truth = asBoolean ? parseBoolean(label) : undefined;
    // A boolean target spelled otherwise than in training (`true` for `Yes`) is the same class.
    let i = index.get(label) ?? (truth !== undefined ? asBoolean!.get(truth) : undefined);
    if (i === undefined) {
      // A class this bundle never saw: its rows count as mistakes, with no probability.
      i = labels.length;
      labels.push(label);
      index.set(label, i);
    }
    return i;
  });
  const outputs = model.predictFeaturized(model.featurizeRows(records));
  const byValue = new Map<unknown, number>(labelValues(classes, model.manifest.target.type).map((v, i) => [v, i]));
  const k = labels.length;
  const proba = new Float64Array(records.length * k);
  const predicted = outputs.map((o, r) => {
    classes.forEach((c, j) => {
      proba[r * k + j] = ownValue(o.probabilities ?? {}, c) ?? 0;
    });
    return byValue.get(o.prediction) ?? -1;
  });
  return classificationMetrics(actualIndex, predicted, labels, proba);
}

function scoreRegressor(model: Predictor, records: Record<string, unknown>[], actual: number[]): RegressionMetrics {
  const outputs = model.predictFeaturized(model.featurizeRows(records));
  return regressionMetrics(actual, outputs.map((o) => o.prediction as number));
}

/**
 * Scores `candidate` and `baseline` on the same rows of a source and gates on one metric: the source is
 * loaded once, reading each column with the type the candidate was trained with (declared types in
 * `load.types` win); each bundle validates and featurizes the rows as `predict` does (a column whose
 * type differs in the baseline is read through its text). Rows with a missing target, and rows either
 * bundle cannot read, are left out of both and counted. The bundles must have the same task and target
 * column.
 *
 * @throws ConfigError (different tasks or targets, a metric of the other task, no row to score),
 *   DataError (the source has no target column), and what loading the bundles and the source throws.
 */
export async function compareBundles(options: CompareOptions): Promise<CompareResult> {
  const requested = options.metric === undefined ? undefined : metricName(options.metric);
  const maxDrop = options.maxDrop ?? 0;
  if (!(maxDrop >= 0) || !Number.isFinite(maxDrop)) throw new ConfigError(`--max-drop: must be a number ≥ 0, got ${maxDrop}`);
  const loadOptions = { featurizers: options.featurizers ?? [] };
  const candidate = await loadPredictor(options.candidate, options.artifacts, loadOptions);
  const baseline = await loadPredictor(options.baseline, options.artifacts, loadOptions);
  const c = candidate.manifest;
  const b = baseline.manifest;
  if (c.task !== b.task) throw new ConfigError(`${candidate.ref} is a ${c.task} model and ${baseline.ref} a ${b.task} model; compare bundles of one task`);
  if (c.target.name !== b.target.name) {
    throw new ConfigError(`${candidate.ref} predicts "${c.target.name}" and ${baseline.ref} predicts "${b.target.name}"; compare bundles of one target`);
  }
  const task = c.task;
  const metric = requested ?? DEFAULT_METRIC[task];
  const better = ownValue(COMPARE_METRICS[task], metric);
  if (better === undefined) throw new ConfigError(`--metric: ${metric} is not a ${task} metric (${Object.keys(COMPARE_METRICS[task]).join(', ')})`);

  // Every column read as the candidate was trained to read it; the user's --types win.
  const types = dict<DeclaredType>();
  types[c.target.name] = c.target.type;
  for (const input of candidate.transformer.pipeline.inputs) types[input.name] = declaredType(input);
  const userTypes = options.load.types ?? {};
  for (const [name, type] of Object.entries(userTypes)) types[name] = type;
  const loaded = await loadSource({ ...options.load, types, typesMayBeAbsent: true });
  const columns = loaded.table.columns;
  for (const name of Object.keys(userTypes)) {
    if (!findColumn(loaded.table, name)) {
      throw new DataError({ source: options.sourceLabel, column: name }, `a type is declared for this column but the source has no such column (columns: ${columns.map((col) => col.name).join(', ')})`);
    }
  }
  const targetColumn = findColumn(loaded.table, c.target.name);
  if (!targetColumn) {
    throw new DataError(
      { source: options.sourceLabel },
      `no column "${c.target.name}" (the target of ${candidate.ref} and ${baseline.ref}): the evaluation rows need their true values; columns: ${columns.map((col) => col.name).join(', ')}`,
    );
  }
  const rowCount = loaded.table.rowCount;
  const target = targetCells(targetColumn);
  const fromCandidate = recordsFor(candidate, columns, rowCount);
  const fromBaseline = recordsFor(baseline, columns, rowCount);
  const kept: number[] = [];
  let missingTarget = 0;
  let unreadable = 0;
  let firstUnreadable: UnscoredRow | undefined;
  for (let i = 0; i < rowCount; i++) {
    if (target[i] === null) {
      missingTarget++;
      continue;
    }
    const refused = fromCandidate.problems.has(i) ? { model: candidate, details: fromCandidate.problems.get(i)! } : fromBaseline.problems.has(i) ? { model: baseline, details: fromBaseline.problems.get(i)! } : undefined;
    if (refused) {
      unreadable++;
      firstUnreadable ??= { row: i + 1, bundle: refused.model.ref, error: refused.details.map((d) => `${d.path || '(record)'}: ${d.message}`).join('; ') };
      continue;
    }
    kept.push(i);
  }
  if (kept.length === 0) {
    const why = [missingTarget ? `${missingTarget} with a missing target` : '', unreadable ? `${unreadable} the bundles cannot read (first: row ${firstUnreadable!.row}: ${firstUnreadable!.error})` : ''].filter(Boolean).join(', ');
    throw new ConfigError(`${options.sourceLabel}: no row to score (${rowCount} rows${why ? `: ${why}` : ''})`);
  }
  const pick = (records: Record<string, unknown>[]) => kept.map((i) => records[i]!);
  let scoredC: ClassificationMetrics | RegressionMetrics;
  let scoredB: ClassificationMetrics | RegressionMetrics;
  if (task === 'classification') {
    const actual = kept.map((i) => String(target[i]));
    scoredC = scoreClassifier(candidate, pick(fromCandidate.records), actual, c.target.type);
    scoredB = scoreClassifier(baseline, pick(fromBaseline.records), actual, b.target.type);
  } else {
    const actual = kept.map((i) => target[i] as number);
    scoredC = scoreRegressor(candidate, pick(fromCandidate.records), actual);
    scoredB = scoreRegressor(baseline, pick(fromBaseline.records), actual);
  }
  const value = (m: unknown, key: string): number | null => {
    const v = (m as Record<string, unknown>)[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const metrics = Object.entries(COMPARE_METRICS[task]).map(([key, dir]) => {
    const x = value(scoredC, key);
    const y = value(scoredB, key);
    return { metric: key, better: dir, candidate: x, baseline: y, difference: x === null || y === null ? null : x - y };
  });
  const gc = value(scoredC, metric);
  const gb = value(scoredB, metric);
  if (gc === null || gb === null) throw new ConfigError(`--metric: ${metric} is undefined on these ${kept.length} rows (e.g. ROC AUC with one class present); choose another metric`);
  const drop = better === 'higher' ? gb - gc : gc - gb;
  // Rounding of sums must not decide a tie: a drop within 1e-9 (relative) of the allowance passes.
  const tolerance = 1e-9 * Math.max(1, Math.abs(gc), Math.abs(gb));
  return {
    source: options.sourceLabel,
    task,
    target: c.target.name,
    candidate: { ref: candidate.ref, given: options.candidate, dir: candidate.dir, metrics: scoredC },
    baseline: { ref: baseline.ref, given: options.baseline, dir: baseline.dir, metrics: scoredB },
    rowsRead: rowCount,
    rows: kept.length,
    missingTarget,
    unreadable,
    ...(firstUnreadable ? { firstUnreadable } : {}),
    loaderSkipped: loaded.skipped.count,
    metrics,
    gate: { metric, better, candidate: gc, baseline: gb, difference: gc - gb, drop, maxDrop, passed: drop <= maxDrop + tolerance },
  };
}
