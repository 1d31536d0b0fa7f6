import { basename, join, resolve } from 'node:path';
import { MANIFEST_FILE } from '../bundle/manifest.js';
import { resolveRef } from '../bundle/store.js';
import { readVerifiedFile, verifyBundle } from '../bundle/verify.js';
import type { DatasetProfile } from '../data/profile.js';
import { ConfigError, NotFoundError } from '../errors.js';
import { pathExists, prettyJson, readJsonFile, writeFileAtomic } from '../fs-util.js';
import { type Histogram, type PrCurve, type RocCurve, histogram, prCurve, rocCurve, thinCurve } from '../models/curves.js';
import type { Task } from '../models/forest-format.js';
import { MODEL_FILES, type MetricsReport, type TrainingInfo } from '../models/model-dir.js';
import { Rng } from '../models/rng.js';
import type { Column } from '../table.js';
import { mlpipeVersion } from '../version.js';
import { spell } from '../spellings.js';

/** Files of the report, in a model folder and in a bundle. */
export const REPORT_FILES = {
  /** What the report shows beyond metrics.json and training.json: profile, featurizers, curves, samples. */
  data: 'report.json',
  /** The report itself: one self-contained HTML file. */
  html: 'report.html',
} as const;

/** Points kept of a ROC or precision–recall curve, and holdout rows kept for the regression plots. */
const CURVE_MAX_POINTS = 300;
const SAMPLE_MAX_ROWS = 2000;
/** Number and date columns drawn as small histograms in the data section; bins of each. */
const MAX_DISTRIBUTIONS = 24;
const DISTRIBUTION_BINS = 20;

/**
 * The training profile of the input columns that serving compares live inputs with (drift): this many
 * columns at most, and this many values counted per category column (the most frequent; the rest as
 * one count).
 */
const PROFILE_MAX_COLUMNS = 1000;
const PROFILE_MAX_VALUES = 100;

/** One input column over the training rows: what `serve` compares its live values with (drift, PSI). */
export interface InputProfile {
  name: string;
  type: Column['type'];
  /** Training rows, and how many of them had no value. */
  rows: number;
  missing: number;
  /** Number, integer and date columns (dates in epoch ms): {@link DISTRIBUTION_BINS} equal-width bins. */
  histogram?: Histogram;
  /** Category and boolean columns (booleans in the source's spellings): the most frequent values with their counts. */
  values?: { value: string; count: number }[];
  /** Rows whose value is not among `values`. */
  otherCount?: number;
}

/** Longest text report.json keeps (a column name, a top value, a label, a featurizer line): longer ones end in "…". */
export const REPORT_TEXT_MAX = 200;
/** Most classes whose counts report.json keeps (the most frequent ones). */
const REPORT_MAX_CLASSES = 1000;

/** `text` cut to {@link REPORT_TEXT_MAX} characters with an ellipsis (never splitting a surrogate pair). */
export function capText(text: string, max = REPORT_TEXT_MAX): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** A profile with every text in it capped: a 10 MB cell or column name is not copied into the report. */
function capProfile(profile: DatasetProfile): DatasetProfile {
  return {
    ...profile,
    columns: profile.columns.map((c) => ({
      ...c,
      name: capText(c.name),
      ...(typeof c.min === 'string' ? { min: capText(c.min) } : {}),
      ...(typeof c.max === 'string' ? { max: capText(c.max) } : {}),
      ...(c.top ? { top: c.top.slice(0, 5).map((t) => ({ value: capText(t.value), count: t.count })) } : {}),
    })),
  };
}

/** `report.json`: the numbers the report draws that the other files of a model folder do not hold. */
export interface ReportDetails {
  format: 'mlpipe.report-data';
  formatVersion: 1;
  /** Profile of the dataset as loaded (rows without a target included), as `load` computed it. */
  profile: DatasetProfile;
  /** One line per featurizer step, and the dropped columns with why. */
  featurizers: { steps: string[]; dropped: { column: string; reason: string }[] };
  /** The target over all training rows: class counts, or a histogram of a numeric target. */
  target: { classCounts?: { label: string; count: number }[]; histogram?: Histogram };
  /**
   * Histograms of the training rows' number and date columns (the first {@link MAX_DISTRIBUTIONS};
   * dates in epoch milliseconds). Absent in reports written before it existed.
   */
  distributions?: { name: string; type: 'number' | 'integer' | 'datetime'; histogram: Histogram }[];
  /**
   * Every input column over the training rows (the first {@link PROFILE_MAX_COLUMNS}): what serving's
   * drift statistics compare live inputs with. Absent in reports written before it existed.
   */
  inputs?: InputProfile[];
  /** Curves and samples of the holdout predictions; null without a holdout. */
  holdout: {
    /** Binary classification: ROC and precision–recall of the second class (`classes[1]`). */
    roc?: RocCurve | null;
    pr?: PrCurve | null;
    /** Regression: actual and predicted values of up to SAMPLE_MAX_ROWS holdout rows (a seeded sample). */
    sample?: { actual: number[]; predicted: number[]; of: number };
  } | null;
}

/** Everything the report shows: what `mlpipe report --json` prints. */
export interface ReportData {
  format: 'mlpipe.report';
  formatVersion: 1;
  /** `name@version` for a bundle, the folder name for a model folder. */
  title: string;
  kind: 'bundle' | 'model folder';
  path: string;
  /** Bundle creation time, when the report is of a bundle. */
  createdAt?: string;
  training: TrainingInfo;
  metrics: MetricsReport;
  /** Null for a model trained by an mlpipe without reports: the report then shows metrics only. */
  details: ReportDetails | null;
  generatedAt: string;
  generatedBy: string;
}

/** What {@link reportDetails} needs from a training run. */
export interface DetailsInput {
  task: Task;
  classes?: string[];
  profile: DatasetProfile;
  featurizers: ReportDetails['featurizers'];
  /** Encoded target of all training rows: class indices or numbers. */
  y: ArrayLike<number>;
  /** The training rows' input columns (the target excluded): number and date ones get a histogram. */
  columns?: readonly Column[];
  /** Holdout predictions: class indices or numbers, with class probabilities (row-major) for a classifier. */
  holdout?: { actual: ArrayLike<number>; predicted: ArrayLike<number>; proba?: ArrayLike<number> };
  seed: number;
}

/** Builds `report.json` from a training run: target distribution, curves or a prediction sample. */
export function reportDetails(input: DetailsInput): ReportDetails {
  const { task, classes, y } = input;
  const target: ReportDetails['target'] = {};
  if (task === 'classification') {
    const counts = new Array<number>(classes?.length ?? 0).fill(0);
    for (let i = 0; i < y.length; i++) counts[y[i] as number] = (counts[y[i] as number] ?? 0) + 1;
    target.classCounts = (classes ?? []).map((label, c) => ({ label: capText(label), count: counts[c] ?? 0 }));
    if (target.classCounts.length > REPORT_MAX_CLASSES) target.classCounts = target.classCounts.sort((a, b) => b.count - a.count).slice(0, REPORT_MAX_CLASSES);
  } else {
    target.histogram = histogram(y);
  }
  let holdout: ReportDetails['holdout'] = null;
  const h = input.holdout;
  if (h) {
    holdout = {};
    if (task === 'classification' && classes?.length === 2 && h.proba) {
      const isPositive = Array.from(h.actual, (a) => a === 1);
      const scores = Array.from({ length: h.actual.length }, (_, i) => h.proba![i * 2 + 1] as number);
      const roc = rocCurve(isPositive, scores, classes[1]!);
      const pr = prCurve(isPositive, scores, classes[1]!);
      holdout.roc = roc && { ...thinCurve(roc, ['fpr', 'tpr', 'thresholds'], CURVE_MAX_POINTS), positive: capText(roc.positive) };
      holdout.pr = pr && { ...thinCurve(pr, ['precision', 'recall', 'thresholds'], CURVE_MAX_POINTS), positive: capText(pr.positive) };
    }
    if (task === 'regression') {
      let rows = Array.from({ length: h.actual.length }, (_, i) => i);
      if (rows.length > SAMPLE_MAX_ROWS) rows = new Rng(input.seed).shuffle(rows).slice(0, SAMPLE_MAX_ROWS).sort((a, b) => a - b);
      holdout.sample = { actual: rows.map((i) => h.actual[i] as number), predicted: rows.map((i) => h.predicted[i] as number), of: h.actual.length };
    }
  }
  const distributions = (input.columns ?? [])
    .filter((c): c is Extract<Column, { values: Float64Array }> => c.type === 'number' || c.type === 'integer' || c.type === 'datetime')
    .slice(0, MAX_DISTRIBUTIONS)
    .map((c) => ({ name: capText(c.name), type: c.type, histogram: histogram(c.values, DISTRIBUTION_BINS) }))
    .filter((d) => d.histogram.counts.length > 0);
  const inputs = (input.columns ?? []).slice(0, PROFILE_MAX_COLUMNS).map(inputProfile);
  const featurizers = {
    steps: input.featurizers.steps.map((s) => capText(s, 4 * REPORT_TEXT_MAX)),
    dropped: input.featurizers.dropped.map((d) => ({ column: capText(d.column), reason: capText(d.reason, 4 * REPORT_TEXT_MAX) })),
  };
  return { format: 'mlpipe.report-data', formatVersion: 1, profile: capProfile(input.profile), featurizers, target, distributions, inputs, holdout };
}

/** {@link InputProfile} of one training column. */
function inputProfile(c: Column): InputProfile {
  const rows = c.values.length;
  if (c.type === 'number' || c.type === 'integer' || c.type === 'datetime') {
    let missing = 0;
    for (let i = 0; i < rows; i++) if (!Number.isFinite(c.values[i] as number)) missing++;
    const h = histogram(c.values, DISTRIBUTION_BINS);
    return { name: capText(c.name), type: c.type, rows, missing, ...(h.counts.length > 0 ? { histogram: h } : {}) };
  }
  const counts = new Map<string, number>();
  let missing = 0;
  for (const v of c.values) {
    if (v === null) {
      missing++;
      continue;
    }
    const key = typeof v === 'boolean' ? String(spell(v, c.truthSpellings)) : String(v);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (c.type === 'text') return { name: capText(c.name), type: c.type, rows, missing };
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const values = sorted.slice(0, PROFILE_MAX_VALUES).map(([value, count]) => ({ value: capText(value), count }));
  const otherCount = sorted.slice(PROFILE_MAX_VALUES).reduce((n, [, count]) => n + count, 0);
  return { name: capText(c.name), type: c.type, rows, missing, values, otherCount };
}

/** The fields of a report that say what made it and when. */
export function reportHeader(at = new Date().toISOString()): Pick<ReportData, 'format' | 'formatVersion' | 'generatedAt' | 'generatedBy'> {
  return { format: 'mlpipe.report', formatVersion: 1, generatedAt: at, generatedBy: `mlpipe ${mlpipeVersion()}` };
}

/** Reads a model folder's report.json; null when it has none (trained by an mlpipe without reports). */
export async function readDetails(dir: string): Promise<ReportDetails | null> {
  const file = join(dir, REPORT_FILES.data);
  if (!(await pathExists(file))) return null;
  return checkDetails(await readJsonFile<ReportDetails>(file), file);
}

function checkDetails(details: ReportDetails, file: string): ReportDetails {
  if (details?.format !== 'mlpipe.report-data') throw new ConfigError(`${file}: not an mlpipe report data file`);
  if (details.formatVersion !== 1) throw new ConfigError(`${file}: report data format version ${String(details.formatVersion)}; this mlpipe reads version 1`);
  return details;
}

/**
 * The report's data for a bundle folder (its manifest is checked; the files it reads are checked
 * against their sha256) or a model folder written by `mlpipe train`.
 *
 * @throws NotFoundError when `dir` is neither; ConfigError/VerificationError for damaged files.
 */
export async function readReportData(dir: string, as: { title?: string; path?: string } = {}): Promise<ReportData> {
  const base = reportHeader();
  if (await pathExists(join(dir, MANIFEST_FILE))) {
    const manifest = await verifyBundle(dir);
    const json = async <T>(file: string): Promise<T> => {
      const bytes = await readVerifiedFile(dir, manifest, file);
      try {
        return JSON.parse(bytes.toString('utf8')) as T;
      } catch (err) {
        throw new ConfigError(`${join(dir, file)}: not JSON (${(err as Error).message})`);
      }
    };
    const training = await json<TrainingInfo>(MODEL_FILES.training);
    const details = manifest.files[REPORT_FILES.data] ? checkDetails(await json<ReportDetails>(REPORT_FILES.data), join(dir, REPORT_FILES.data)) : null;
    return { ...base, title: as.title ?? `${manifest.name}@${manifest.version}`, kind: 'bundle', path: as.path ?? dir, createdAt: manifest.createdAt, training, metrics: manifest.metrics, details };
  }
  if (!(await pathExists(join(dir, MODEL_FILES.training)))) {
    throw new NotFoundError(`${dir}: neither a bundle (no ${MANIFEST_FILE}) nor a model folder (no ${MODEL_FILES.training}); run mlpipe train or package first`);
  }
  const training = await readJsonFile<TrainingInfo>(join(dir, MODEL_FILES.training));
  if (training.format !== 'mlpipe.training') throw new ConfigError(`${join(dir, MODEL_FILES.training)}: not an mlpipe model folder`);
  const metrics = await readJsonFile<MetricsReport>(join(dir, MODEL_FILES.metrics));
  return { ...base, title: as.title ?? basename(dir), kind: 'model folder', path: as.path ?? dir, training, metrics, details: await readDetails(dir) };
}

/**
 * Writes report.json and report.html into a model folder that already holds training.json and
 * metrics.json. `as` names the folder where it will end up (train builds it in a temporary folder).
 */
export async function writeModelReport(dir: string, details: ReportDetails, as: { title: string; path: string }): Promise<void> {
  await writeFileAtomic(join(dir, REPORT_FILES.data), prettyJson(details));
  const { renderReportHtml } = await import('./html.js');
  await writeFileAtomic(join(dir, REPORT_FILES.html), await renderReportHtml(await readReportData(dir, as)));
}

/** Options of {@link report}. */
export interface ReportOptions {
  /** A bundle reference (folder, name, name@1.2.0, name@alias) or a model folder written by `train`. */
  ref: string;
  /** The bundle store. */
  artifacts: string;
  /** Render the report again, with this mlpipe, into this file (a bundle is never changed). */
  out?: string;
}

/** What {@link report} found or wrote. */
export interface ReportResult {
  data: ReportData;
  /** The report file: the one stored beside the model, or `out` when rendered. */
  file: string;
  rendered: boolean;
}

/**
 * Finds the report of a bundle or model folder, or renders it again into `out`.
 *
 * @throws NotFoundError for an unknown reference, or a model without report.html and no `out`.
 */
export async function report(options: ReportOptions): Promise<ReportResult> {
  let dir: string;
  const asFolder = resolve(options.ref);
  if (!options.ref.includes('@') && (await pathExists(join(asFolder, MODEL_FILES.training))) && !(await pathExists(join(asFolder, MANIFEST_FILE)))) {
    dir = asFolder;
  } else {
    dir = (await resolveRef(options.ref, options.artifacts)).dir;
  }
  const data = await readReportData(dir);
  if (options.out !== undefined) {
    const { renderReportHtml } = await import('./html.js');
    const out = resolve(options.out);
    await writeFileAtomic(out, await renderReportHtml(data));
    return { data, file: out, rendered: true };
  }
  const file = join(dir, REPORT_FILES.html);
  if (!(await pathExists(file))) {
    throw new NotFoundError(`${dir}: has no ${REPORT_FILES.html} (trained or packaged by an mlpipe without reports); render one with --out FILE`);
  }
  return { data, file, rendered: false };
}
