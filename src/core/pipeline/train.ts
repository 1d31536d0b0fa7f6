import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { FeatureTransformer, fitPipeline } from '../features/pipeline.js';
import { prettyJson, tempPathBeside, writeFileAtomic } from '../fs-util.js';
import { CompiledForest } from '../models/compiled-forest.js';
import type { ForestParams, SavedForest, Task } from '../models/forest-format.js';
import { MODEL_FILES, type MetricsReport, type TrainingInfo } from '../models/model-dir.js';
import { classificationMetrics, regressionMetrics } from '../models/metrics.js';
import { checkForestParams, defaultForestParams, trainForest } from '../models/random-forest.js';
import { randomSeed } from '../models/rng.js';
import { classLabels } from '../models/target.js';
import { holdoutSplit } from '../models/split.js';
import { selectRows } from '../table.js';
import { mlpipeVersion } from '../version.js';
import { FEATURES_FILES, type FeaturesDir, readFeaturesDir, replaceDir } from './features-dir.js';
import { planOf } from './featurize.js';

/** Options of {@link train}. */
export interface TrainOptions {
  /** The features folder written by `featurize`. */
  features: string;
  /** The model folder to write. */
  out: string;
  /** Overrides the task recorded by `featurize`. */
  task?: Task;
  /** Forest parameters; unset ones take {@link defaultForestParams}; no seed → a random one (recorded). */
  params?: Partial<ForestParams>;
  /** Fraction of rows held out for evaluation (default 0.2; 0 = none). */
  holdout?: number;
  /** Called at the start of each stage, for progress output. */
  onStage?: (stage: string) => void;
}

/** What {@link train} did. */
export interface TrainResult {
  out: string;
  model: SavedForest;
  metrics: MetricsReport;
  training: TrainingInfo;
}

/** Below this many rows no holdout is taken: the metrics would be noise. */
export const MIN_ROWS_FOR_HOLDOUT = 10;

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

function majority(y: Float64Array, rows: number[], k: number): number {
  const counts = new Array<number>(k).fill(0);
  for (const i of rows) counts[y[i] as number]! += 1;
  let best = 0;
  for (let c = 1; c < k; c++) if ((counts[c] as number) > (counts[best] as number)) best = c;
  return best;
}

function evaluate(dir: FeaturesDir, y: Float64Array, task: Task, classes: string[] | undefined, params: ForestParams, fraction: number): MetricsReport['holdout'] {
  const rows = dir.data.rows;
  if (fraction <= 0 || rows < MIN_ROWS_FOR_HOLDOUT) return null;
  const stratified = task === 'classification';
  const split = holdoutSplit(rows, fraction, params.seed, stratified ? y : undefined);
  // Honest evaluation: featurizers are fitted again on the training rows only.
  const plan = planOf(dir.pipeline);
  const trainTable = selectRows(dir.table, split.train);
  const testTable = selectRows(dir.table, split.test);
  const transformer = new FeatureTransformer(fitPipeline(trainTable, plan));
  const xTrain = transformer.transformTable(trainTable);
  const xTest = transformer.transformTable(testTable);
  const yTrain = Float64Array.from(split.train, (i) => y[i] as number);
  const yTest = Float64Array.from(split.test, (i) => y[i] as number);
  const model = trainForest(
    { matrix: xTrain, rows: split.train.length, featureNames: transformer.pipeline.featureNames, y: yTrain, task, classes },
    params,
  );
  const predicted = new CompiledForest(model).predictMatrix(xTest, split.test.length);
  const common = { fraction, trainRows: split.train.length, testRows: split.test.length, stratified, featurizersFittedOn: 'training rows' as const };
  if (task === 'classification') {
    const labels = classes ?? [];
    const top = majority(y, split.train, labels.length);
    return {
      ...common,
      model: classificationMetrics(yTest, predicted, labels),
      baseline: { ...classificationMetrics(yTest, new Float64Array(yTest.length).fill(top), labels), strategy: 'majority class' },
    };
  }
  const mean = yTrain.reduce((s, v) => s + v, 0) / yTrain.length;
  return {
    ...common,
    model: regressionMetrics(yTest, predicted),
    baseline: { ...regressionMetrics(yTest, new Float64Array(yTest.length).fill(mean)), strategy: 'mean of the training target' },
  };
}

/**
 * Trains a random forest on a features folder: evaluates it on a seeded (stratified, for
 * classification) holdout with featurizers re-fitted on the training rows only, reports the model's
 * and a baseline's metrics, then refits on all rows. Writes a model folder: model.json,
 * featurizer.json, input-schema.json, metrics.json, training.json (built beside the target, renamed
 * into place).
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const started = Date.now();
  const dir = await readFeaturesDir(options.features);
  const task = options.task ?? dir.info.target.task;
  const targetType = dir.info.target.type;
  if (task === 'regression' && targetType !== 'number' && targetType !== 'integer') {
    throw new ConfigError(`task: regression needs a numeric target, but "${dir.info.target.name}" is a ${targetType} column`);
  }
  let classes = dir.info.target.classes;
  if (task === 'classification' && (!classes || options.task !== undefined)) classes = classLabels(targetType, dir.data.target);
  if (task === 'regression') classes = undefined;
  const params: ForestParams = { ...defaultForestParams(task), seed: randomSeed(), ...stripUndefined(options.params ?? {}) };
  checkForestParams(params);
  const fraction = options.holdout ?? 0.2;
  if (!(fraction >= 0 && fraction < 1)) throw new ConfigError(`evaluation.holdout: must be a fraction from 0 to 0.9, got ${fraction}`);
  const y = encodeTarget(dir.data.target, task, classes, dir.info.target.name);

  options.onStage?.(`evaluating on a ${Math.round(fraction * 100)}% holdout`);
  const holdout = evaluate(dir, y, task, classes, params, fraction);

  options.onStage?.(`training ${params.trees} trees on all ${dir.data.rows} rows`);
  const model = trainForest({ matrix: dir.data.matrix, rows: dir.data.rows, featureNames: dir.data.featureNames, y, task, classes }, params);

  const metrics: MetricsReport = {
    task,
    holdout,
    featureImportances: model.featureNames
      .map((feature, i) => ({ feature, importance: model.featureImportances[i] ?? 0 }))
      .sort((a, b) => b.importance - a.importance),
  };
  const training: TrainingInfo = {
    format: 'mlpipe.training',
    formatVersion: 1,
    target: { name: dir.info.target.name, type: targetType },
    task,
    ...(classes ? { classes } : {}),
    model: { type: 'random-forest', engine: 'mljs', params },
    featureCount: dir.data.featureNames.length,
    rows: dir.data.rows,
    ...(dir.info.lineage ? { lineage: dir.info.lineage } : {}),
    ...(dir.info.configSha256 ? { configSha256: dir.info.configSha256 } : {}),
    trainedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    mlpipeVersion: mlpipeVersion(),
    node: process.version,
  };
  const tmp = tempPathBeside(options.out);
  await mkdir(tmp, { recursive: true });
  try {
    await writeFileAtomic(join(tmp, MODEL_FILES.model), JSON.stringify(model));
    await writeFileAtomic(join(tmp, MODEL_FILES.featurizer), prettyJson(dir.pipeline));
    await writeFileAtomic(join(tmp, MODEL_FILES.inputSchema), prettyJson(dir.inputSchema));
    await writeFileAtomic(join(tmp, MODEL_FILES.metrics), prettyJson(metrics));
    await writeFileAtomic(join(tmp, MODEL_FILES.training), prettyJson(training));
    await replaceDir(tmp, options.out);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { out: options.out, model, metrics, training };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export { FEATURES_FILES, MODEL_FILES };
export type { MetricsReport, TrainingInfo };
