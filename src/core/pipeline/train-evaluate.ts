import { ConfigError } from '../errors.js';
import { fitTransform } from '../features/fit-pipeline.js';
import { kFoldSplit } from '../models/cv.js';
import type { Engine, ForestParams, Task } from '../models/forest-format.js';
import { classificationMetrics, regressionMetrics } from '../models/metrics.js';
import type { PermutationReport, TaskMetrics } from '../models/model-dir.js';
import { permutationImportance } from '../models/permutation.js';
import { trainForest } from '../models/random-forest.js';
import { Rng } from '../models/rng.js';
import { type Table, selectRows } from '../table.js';
import type { FeaturesDir } from './features-dir.js';
import { planOf } from './featurize.js';

// How train.ts scores a forest honestly: featurizers re-fitted on each model's own training rows,
// the model scored on the rows it did not see, beside a baseline; k-fold CV; permutation importance.
/** Permutation importance looks at no more than this many holdout rows (a seeded sample). */
const PERMUTATION_MAX_ROWS = 5000;

/** The context every evaluation step shares. */
export interface Context {
  dir: FeaturesDir;
  y: Float64Array;
  task: Task;
  classes: string[] | undefined;
  engine: Engine;
  jobs: number | undefined;
  progress: (stage: string) => (done: number, total: number) => void;
}

/** A model trained on some rows (featurizers re-fitted on them) and scored on others. */
export async function fitAndScore(ctx: Context, train: number[], test: number[], params: ForestParams, stage: string) {
  const plan = planOf(ctx.dir.pipeline);
  const trainTable = selectRows(ctx.dir.table, train);
  const yTrain = Float64Array.from(train, (i) => ctx.y[i]!);
  const yTest = Float64Array.from(test, (i) => ctx.y[i]!);
  // Featurizers that learn from the target see only the training rows' targets, and encode the
  // training rows out of fold; the test rows go through the fitted state, as at serving time.
  const target = { task: ctx.task, values: yTrain, ...(ctx.classes ? { classes: ctx.classes } : {}) };
  const { transformer, matrix: xTrain } = fitTransform(trainTable, plan, { target, seed: params.seed });
  const testTable: Table = selectRows(ctx.dir.table, test);
  const xTest = transformer.transformTable(testTable);
  const model = await trainForest(
    { matrix: xTrain, rows: train.length, featureNames: transformer.pipeline.featureNames, y: yTrain, task: ctx.task, classes: ctx.classes },
    params,
    { engine: ctx.engine, jobs: ctx.jobs, onTree: ctx.progress(stage) },
  );
  const k = ctx.classes?.length ?? 0;
  const proba = k > 0 ? new Float64Array(test.length * k) : undefined;
  const predicted = model.compiled.predictMatrix(xTest, test.length, proba);
  const metrics: TaskMetrics = ctx.task === 'classification' ? classificationMetrics(yTest, predicted, ctx.classes ?? [], proba) : regressionMetrics(yTest, predicted);
  return { metrics, baseline: baselineMetrics(ctx, yTrain, yTest), model, transformer, xTest, yTest, predicted, proba };
}

function baselineMetrics(ctx: Context, yTrain: Float64Array, yTest: Float64Array): TaskMetrics & { strategy: 'majority class' | 'mean of the training target' } {
  if (ctx.task === 'classification') {
    const labels = ctx.classes ?? [];
    const counts = new Array<number>(labels.length).fill(0);
    for (const v of yTrain) counts[v]! += 1;
    let top = 0;
    for (let c = 1; c < labels.length; c++) if (counts[c]! > counts[top]!) top = c;
    // The baseline's probabilities are the training class frequencies.
    const proba = new Float64Array(yTest.length * labels.length);
    for (let i = 0; i < yTest.length; i++) for (let c = 0; c < labels.length; c++) proba[i * labels.length + c] = counts[c]! / yTrain.length;
    return { ...classificationMetrics(yTest, new Float64Array(yTest.length).fill(top), labels, proba), strategy: 'majority class' };
  }
  const mean = yTrain.reduce((s, v) => s + v, 0) / yTrain.length;
  return { ...regressionMetrics(yTest, new Float64Array(yTest.length).fill(mean)), strategy: 'mean of the training target' };
}

/** The score a search or permutation importance maximizes: accuracy or R². */
export function primary(task: Task, m: TaskMetrics): number {
  return task === 'classification' ? (m as { accuracy: number }).accuracy : (m as { r2: number }).r2;
}

export async function crossValidate(ctx: Context, rows: number[], folds: number, params: ForestParams, stage: string): Promise<{ perFold: TaskMetrics[]; baselines: TaskMetrics[] }> {
  const labels = ctx.task === 'classification' ? Float64Array.from(rows, (i) => ctx.y[i]!) : undefined;
  let splits;
  try {
    splits = kFoldSplit(rows.length, folds, params.seed, labels);
  } catch (err) {
    throw new ConfigError(`evaluation.cv: ${(err as Error).message.replace(/^kFoldSplit: /, '')}`);
  }
  const perFold: TaskMetrics[] = [];
  const baselines: TaskMetrics[] = [];
  for (let f = 0; f < splits.length; f++) {
    const split = splits[f]!;
    const r = await fitAndScore(ctx, split.train.map((i) => rows[i]!), split.test.map((i) => rows[i]!), params, `${stage} fold ${f + 1}/${folds}`);
    perFold.push(r.metrics);
    baselines.push(r.baseline);
  }
  return { perFold, baselines };
}

export function permutationReport(r: Awaited<ReturnType<typeof fitAndScore>>, task: Task, repeats: number, seed: number): PermutationReport {
  const width = r.transformer.width;
  let rowsIdx = Array.from({ length: r.yTest.length }, (_, i) => i);
  if (rowsIdx.length > PERMUTATION_MAX_ROWS) rowsIdx = new Rng(seed).shuffle(rowsIdx).slice(0, PERMUTATION_MAX_ROWS).sort((a, b) => a - b);
  const matrix = new Float64Array(rowsIdx.length * width);
  rowsIdx.forEach((i, n) => matrix.set(r.xTest.subarray(i * width, (i + 1) * width), n * width));
  const yt = Float64Array.from(rowsIdx, (i) => r.yTest[i]!);
  const score = (m: Float64Array) => {
    const p = r.model.compiled.predictMatrix(m, rowsIdx.length);
    if (task === 'classification') {
      let ok = 0;
      for (let i = 0; i < p.length; i++) if (p[i] === yt[i]) ok++;
      return ok / p.length;
    }
    return regressionMetrics(yt, p).r2;
  };
  const names = r.transformer.pipeline.featureNames;
  const groups: number[][] = [];
  let j = 0;
  for (const step of r.transformer.pipeline.steps) {
    groups.push(step.outputs.map(() => j++));
  }
  const perFeature = permutationImportance({ matrix, rows: rowsIdx.length, width, score, seed, repeats });
  const perColumn = permutationImportance({ matrix, rows: rowsIdx.length, width, score, seed, repeats, groups });
  const sortDesc = <T extends { mean: number }>(a: T[]) => a.sort((x, y) => y.mean - x.mean);
  return {
    metric: task === 'classification' ? 'accuracy' : 'r2',
    repeats,
    rows: rowsIdx.length,
    byColumn: sortDesc(r.transformer.pipeline.steps.map((s, i) => ({ name: s.column, mean: perColumn.mean[i]!, std: perColumn.std[i]! }))),
    byFeature: sortDesc(names.map((name, i) => ({ name, mean: perFeature.mean[i]!, std: perFeature.std[i]! }))),
  };
}
