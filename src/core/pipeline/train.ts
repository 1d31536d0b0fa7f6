import { mkdir, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { GOLDEN_INPUTS_FILE, chooseGoldenRows, goldenInputs } from '../bundle/golden.js';
import { prettyJson, tempPathBeside, writeFileAtomic } from '../fs-util.js';
import { summarize } from '../models/cv.js';
import type { Engine, ForestParams, Task } from '../models/forest-format.js';
import { type FoldSummary, type Importance, MODEL_FILES, type MetricsReport, type SearchTrial, type TrainingInfo } from '../models/model-dir.js';
import { checkForestParams, trainForest } from '../models/random-forest.js';
import { defaultForestParams } from '../models/params.js';
import { Rng, randomSeed } from '../models/rng.js';
import { holdoutSplit } from '../models/split.js';
import { classLabels } from '../models/task.js';
import { type DetailsInput, reportDetails, writeModelReport } from '../report/data.js';
import { mlpipeVersion } from '../version.js';
import { FEATURES_FILES, type FeaturesDir, loadFeaturesModules, readFeaturesDir, replaceDir } from './features-dir.js';
import { type Context, crossValidate, fitAndScore, permutationReport, primary } from './train-evaluate.js';

/** A progress event: a stage, and trees done of total while a forest grows. */
export interface TrainProgress {
  stage: string;
  done: number;
  total: number;
}

/** A hyperparameter search: random draws or the full grid of a small space, scored by k-fold CV. */
export interface SearchOptions {
  strategy: 'random' | 'grid';
  /** Random search: how many draws (default 10). */
  trials?: number;
  /** Folds (default: `cv`, else 3). */
  folds?: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** The features folder written by `featurize`. */
  features: string;
  /** The model folder to write. */
  out: string;
  /** Overrides the task recorded by `featurize`. */
  task?: Task;
  /** Training engine: `hist` (mlpipe's, default) or `mljs` (ml-random-forest). */
  engine?: Engine;
  /** Worker threads for engine hist (default: all cores). */
  jobs?: number;
  /** Forest parameters; unset ones take {@link defaultForestParams}; no seed → a random one (recorded). */
  params?: Partial<ForestParams>;
  /** Fraction of rows held out for evaluation (default 0.2; 0 = none). */
  holdout?: number;
  /** k-fold cross-validation on all rows (0 or undefined: none). */
  cv?: number;
  /** Out-of-bag score of the final model (engine hist). */
  oob?: boolean;
  /** Hyperparameter search before the holdout evaluation. */
  search?: SearchOptions;
  /** Permutation-importance repeats on the holdout (default 5; 0 = skip). */
  permutationRepeats?: number;
  /** Called at the start of each stage and after every tree. */
  onProgress?: (p: TrainProgress) => void;
}

/** What {@link train} did. */
export interface TrainResult {
  out: string;
  metrics: MetricsReport;
  training: TrainingInfo;
}

/** Below this many rows no holdout is taken: the metrics would be noise. */
const MIN_ROWS_FOR_HOLDOUT = 10;

/** The space a search explores: values that matter most for a random forest. */
const SEARCH_SPACE: { [K in 'maxFeatures' | 'maxDepth' | 'minSamplesLeaf']: ForestParams[K][] } = {
  maxFeatures: ['sqrt', 'log2', 0.5, 'all'],
  maxDepth: [null, 20, 10],
  minSamplesLeaf: [1, 3, 10],
};

function encodeTarget(values: (number | string)[], task: Task, classes: string[] | undefined, name: string): Float64Array {
  if (task === 'regression') {
    return Float64Array.from(values, (v, i) => {
      const n = typeof v === 'number' ? v : Number(v);
      if (!Number.isFinite(n)) throw new ConfigError(`task: regression needs numeric targets; row ${i + 1} of "${name}" is ${JSON.stringify(v)}`);
      return n;
    });
  }
  const index = new Map((classes ?? []).map((c, i) => [c, i]));
  return Float64Array.from(values, (v) => index.get(String(v)) ?? -1);
}
function searchCandidates(search: SearchOptions, seed: number): Partial<ForestParams>[] {
  const grid: Partial<ForestParams>[] = [];
  for (const maxFeatures of SEARCH_SPACE.maxFeatures)
    for (const maxDepth of SEARCH_SPACE.maxDepth) for (const minSamplesLeaf of SEARCH_SPACE.minSamplesLeaf) grid.push({ maxFeatures, maxDepth, minSamplesLeaf });
  if (search.strategy === 'grid') return grid;
  const trials = search.trials ?? 10;
  if (!Number.isInteger(trials) || trials < 1) throw new ConfigError(`evaluation.search.trials: must be a whole number ≥ 1, got ${trials}`);
  return new Rng(seed ^ 0x5eed).shuffle(grid).slice(0, Math.min(trials, grid.length));
}

/**
 * Trains a random forest on a features folder. Evaluation is honest: every model that is scored was
 * trained with featurizers re-fitted on its own training rows. In order: an optional hyperparameter
 * search (k-fold CV on the holdout's training part), optional k-fold cross-validation on all rows, a
 * seeded holdout (stratified for classification) with a baseline and permutation importance, then the
 * final model on all rows (with its out-of-bag score when asked). Writes a model folder: model.json,
 * model.bin, featurizer.json, input-schema.json, metrics.json, training.json, golden-inputs.json
 * (about 20 holdout rows as input records, for package's golden records), report.json and report.html
 * (built beside the target, renamed into place).
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const started = Date.now();
  const dir = await readFeaturesDir(options.features);
  // Custom featurizers are re-fitted in every fold: their modules, as featurize recorded them.
  await loadFeaturesModules(options.features, dir.info);
  const task = options.task ?? dir.info.target.task;
  const targetType = dir.info.target.type;
  const engine = options.engine ?? 'hist';
  if (task === 'regression' && targetType !== 'number' && targetType !== 'integer') {
    throw new ConfigError(`task: regression needs a numeric target, but "${dir.info.target.name}" is a ${targetType} column`);
  }
  let classes = dir.info.target.classes;
  if (task === 'classification' && (!classes || options.task !== undefined)) classes = classLabels(targetType, dir.data.target);
  if (task === 'regression') classes = undefined;
  let params: ForestParams = { ...defaultForestParams(task, engine), seed: randomSeed(), ...stripUndefined(options.params ?? {}) };
  checkForestParams(params, engine);
  const fraction = options.holdout ?? 0.2;
  if (!(fraction >= 0 && fraction <= 0.9)) throw new ConfigError(`evaluation.holdout: must be a fraction from 0 to 0.9, got ${fraction}`);
  if (options.cv !== undefined && options.cv !== 0 && (!Number.isInteger(options.cv) || options.cv < 2)) {
    throw new ConfigError(`evaluation.cv: must be a whole number of folds ≥ 2 (or 0 for none), got ${options.cv}`);
  }
  checkModelSize(params, dir.data.rows, classes?.length ?? 0);
  const y = encodeTarget(dir.data.target, task, classes, dir.info.target.name);
  const ctx: Context = {
    dir,
    y,
    task,
    classes,
    engine,
    jobs: options.jobs,
    progress: (stage) => {
      options.onProgress?.({ stage, done: 0, total: params.trees });
      return (done, total) => options.onProgress?.({ stage, done, total });
    },
  };
  const rows = dir.data.rows;
  const all = Array.from({ length: rows }, (_, i) => i);
  const split = fraction > 0 && rows >= MIN_ROWS_FOR_HOLDOUT ? holdoutSplit(rows, fraction, params.seed, task === 'classification' ? y : undefined) : undefined;

  // 1. Hyperparameter search, on rows the holdout will not judge.
  let search: MetricsReport['search'] = null;
  if (options.search) {
    const folds = options.search.folds ?? (options.cv && options.cv >= 2 ? options.cv : 3);
    const searchRows = split ? split.train : all;
    const trials: SearchTrial[] = [];
    const candidates = searchCandidates(options.search, params.seed);
    for (let t = 0; t < candidates.length; t++) {
      const candidate = { ...params, ...candidates[t] };
      checkForestParams(candidate, engine);
      const { perFold } = await crossValidate(ctx, searchRows, folds, candidate, `search trial ${t + 1}/${candidates.length}`);
      const scores = perFold.map((m) => primary(task, m));
      const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
      const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, scores.length - 1));
      trials.push({ params: candidates[t]!, mean, std });
    }
    const best = trials.reduce((a, b) => (b.mean > a.mean ? b : a));
    params = { ...params, ...best.params };
    search = { strategy: options.search.strategy, folds, metric: task === 'classification' ? 'accuracy' : 'r2', trials, best: best.params };
  }

  // 2. k-fold cross-validation on all rows.
  let crossValidation: MetricsReport['crossValidation'] = null;
  if (options.cv && options.cv >= 2) {
    const { perFold, baselines } = await crossValidate(ctx, all, options.cv, params, 'cross-validation');
    crossValidation = {
      folds: options.cv,
      stratified: task === 'classification',
      perFold,
      summary: summarize(perFold) as FoldSummary,
      baselineSummary: summarize(baselines) as FoldSummary,
    };
  }

  // 3. Holdout, with the baseline and permutation importance.
  let holdout: MetricsReport['holdout'] = null;
  let holdoutPredictions: DetailsInput['holdout'];
  if (split) {
    const r = await fitAndScore(ctx, split.train, split.test, params, 'holdout model');
    holdoutPredictions = { actual: r.yTest, predicted: r.predicted, ...(r.proba ? { proba: r.proba } : {}) };
    holdout = {
      fraction,
      trainRows: split.train.length,
      testRows: split.test.length,
      stratified: task === 'classification',
      featurizersFittedOn: 'training rows',
      model: r.metrics,
      baseline: r.baseline,
    };
    const repeats = options.permutationRepeats ?? 5;
    if (repeats > 0) {
      options.onProgress?.({ stage: 'permutation importance', done: 0, total: 0 });
      holdout.permutationImportance = permutationReport(r, task, repeats, params.seed);
    }
  }

  // 4. The final model, on all rows.
  const final = await trainForest(
    { matrix: dir.data.matrix, rows, featureNames: dir.data.featureNames, y, task, classes },
    params,
    { engine, jobs: options.jobs, oob: options.oob, onTree: ctx.progress(`final model (${rows} rows)`) },
  );
  const featureImportances = final.header.featureNames
    .map((feature, i) => ({ feature, importance: final.header.featureImportances[i] ?? 0 }))
    .sort((a, b) => b.importance - a.importance);
  const metrics: MetricsReport = {
    task,
    holdout,
    crossValidation,
    search,
    ...(options.oob ? { oobScore: final.oobScore ?? null } : {}),
    featureImportances,
    columnImportances: byColumn(dir, final.header.featureImportances),
  };
  const training: TrainingInfo = {
    format: 'mlpipe.training',
    formatVersion: 1,
    target: { name: dir.info.target.name, type: targetType },
    task,
    ...(classes ? { classes } : {}),
    model: { type: 'random-forest', engine, params },
    featureCount: dir.data.featureNames.length,
    rows,
    ...(dir.info.lineage ? { lineage: dir.info.lineage } : {}),
    ...(dir.info.configSha256 ? { configSha256: dir.info.configSha256 } : {}),
    trainedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    mlpipeVersion: mlpipeVersion(),
    node: process.version,
  };
  const compiled = final.compiled.toBinary();
  if (compiled.byteLength > MAX_MODEL_BYTES) {
    throw new ConfigError(`model: the trained forest is ${gib(compiled.byteLength)}; a bundle file holds at most ${gib(MAX_MODEL_BYTES)}. ${SMALLER_MODEL}`);
  }
  const tmp = tempPathBeside(options.out);
  await mkdir(tmp, { recursive: true });
  try {
    await final.writeModelJson(join(tmp, MODEL_FILES.model));
    await writeFileAtomic(join(tmp, MODEL_FILES.compiled), compiled);
    await writeFileAtomic(join(tmp, MODEL_FILES.featurizer), prettyJson(dir.pipeline));
    await writeFileAtomic(join(tmp, MODEL_FILES.inputSchema), prettyJson(dir.inputSchema));
    await writeFileAtomic(join(tmp, MODEL_FILES.metrics), prettyJson(metrics));
    await writeFileAtomic(join(tmp, MODEL_FILES.training), prettyJson(training));
    // Golden records for package (the skew gate): holdout rows as a client would send them, or any rows without a holdout.
    const goldenRows = chooseGoldenRows(split ? split.test : all, params.seed, task === 'classification' ? y : undefined);
    await writeFileAtomic(join(tmp, GOLDEN_INPUTS_FILE), prettyJson(goldenInputs(dir.table, dir.pipeline, goldenRows, split ? 'holdout' : 'training rows')));
    options.onProgress?.({ stage: 'report', done: 0, total: 0 });
    const details = reportDetails({
      task,
      ...(classes ? { classes } : {}),
      profile: dir.info.profile,
      featurizers: dir.info.summary,
      y,
      columns: dir.table.columns.filter((c) => c.name !== dir.info.target.name),
      ...(holdoutPredictions ? { holdout: holdoutPredictions } : {}),
      seed: params.seed,
    });
    await writeModelReport(tmp, details, { title: basename(resolve(options.out)), path: resolve(options.out) });
    await replaceDir(tmp, options.out);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { out: options.out, metrics, training };
}

/** model.bin is read whole (by package, predict and serve); Node reads at most 2 GiB into one buffer. */
const MAX_MODEL_BYTES = 2 ** 31 - 1;
/** A forest whose nodes' class distributions may take more than this is refused before training. */
const MAX_ESTIMATED_BYTES = 16 * 2 ** 30;
const SMALLER_MODEL = 'Grow smaller trees (--min-samples-leaf, --max-depth), fewer trees (--trees), or predict a target with fewer classes';

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/**
 * Refuses, before any tree grows, a classification forest whose class distributions alone would
 * certainly not fit a bundle: every node of a tree keeps one number per class, and a fully grown
 * tree has up to 2 × (rows ÷ minSamplesLeaf) nodes (or 2^(maxDepth+1)). The bound is loose, so only
 * many-class targets meet it; the size of the trained forest is checked exactly after training.
 */
function checkModelSize(params: ForestParams, rows: number, classes: number): void {
  if (classes <= 2) return;
  const drawn = params.maxSamples === null ? rows : params.maxSamples <= 1 ? Math.max(1, Math.round(params.maxSamples * rows)) : params.maxSamples;
  let nodes = 2 * Math.ceil(drawn / params.minSamplesLeaf);
  if (params.maxDepth !== null) nodes = Math.min(nodes, 2 ** (params.maxDepth + 1));
  const bytes = params.trees * nodes * classes * 8;
  if (bytes > MAX_ESTIMATED_BYTES) {
    throw new ConfigError(
      `model: ${params.trees} trees over ${rows.toLocaleString('en-US')} rows and ${classes.toLocaleString('en-US')} classes may keep up to ${gib(bytes)} of class probabilities; a bundle file holds at most ${gib(MAX_MODEL_BYTES)}. ${SMALLER_MODEL}`,
    );
  }
}

/** Feature importances summed per input column (all the features its featurizer produced), largest first. */
function byColumn(dir: FeaturesDir, importances: number[]): Importance[] {
  let j = 0;
  return dir.pipeline.steps
    .map((step) => {
      let sum = 0;
      for (let o = 0; o < step.outputs.length; o++) sum += importances[j++] ?? 0;
      return { name: step.column, importance: sum };
    })
    .sort((a, b) => b.importance - a.importance);
}


function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export { FEATURES_FILES, MODEL_FILES };
export type { MetricsReport, TrainingInfo };
