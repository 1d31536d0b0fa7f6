/**
 * Shared by test/accuracy.test.ts and bench/accuracy/reference.ts: the public tables mlpipe's
 * accuracy is checked on, the committed scikit-learn reference (bench/accuracy/reference.json), the
 * seeded holdout split both sides score, and one `mlpipe run` with automatic featurizers and defaults.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSource } from '../core/data/load.js';
import type { Task } from '../core/models/forest-format.js';
import { type Split, holdoutSplit } from '../core/models/split.js';
import { readPipelineConfig } from '../core/pipeline/config.js';
import { resolveTarget } from '../core/pipeline/featurize.js';
import { runPipeline } from '../core/pipeline/run.js';
import { ROOT } from './fixtures.js';

/** Where vega-datasets (a devDependency) keeps its tables. */
export const VEGA_DATA = join(ROOT, 'node_modules', 'vega-datasets', 'data');
/** The committed reference: scikit-learn's scores on mlpipe's splits. */
export const REFERENCE_FILE = join(ROOT, 'bench', 'accuracy', 'reference.json');
/** `mlpipe train`'s default holdout fraction (src/core/pipeline/train.ts). */
export const HOLDOUT = 0.2;

/** A table of the accuracy check: a file of vega-datasets and the column to predict. */
export interface AccuracyDataset {
  id: string;
  /** File name under node_modules/vega-datasets/data. */
  file: string;
  target: string;
  /** Split seeds: each is one `mlpipe run --seed N` in the test, and one split scikit-learn scores. */
  seeds: number[];
  /** Date columns and their format for pandas' `to_datetime` (mlpipe recognizes them itself). */
  dates: Record<string, string>;
  /** What the table exercises, for the README. */
  covers: string;
}

/** One seed of one table in the reference. */
export interface ReferenceSplit {
  seed: number;
  trainRows: number;
  testRows: number;
  /** sha256 of the JSON array of the test rows' numbers (0-based, in the file): the split both sides scored. */
  testSha256: string;
  /** scikit-learn's holdout score with each forest seed, their mean and sample std. */
  sklearn: { scores: number[]; mean: number; std: number; features: number };
}

/** One table in the reference. */
export interface ReferenceDataset extends AccuracyDataset {
  task: Task;
  metric: 'accuracy' | 'r2';
  /** Rows in the file, and rows with a target (what mlpipe trains and scores on). */
  rows: number;
  rowsWithTarget: number;
  /** The columns scikit-learn's side featurized, by role, and the ones it dropped. */
  sklearnPlan: { numeric: string[]; categories: string[]; dates: string[]; dropped: [string, string][] };
  splits: ReferenceSplit[];
  /** Mean over the splits of the per-split means. */
  sklearnMean: number;
}

/** bench/accuracy/reference.json. */
export interface Reference {
  about: string;
  command: string;
  generated: string;
  versions: { python: string; sklearn: string; numpy: string; pandas: string; vegaDatasets: string; mlpipeCommit: string };
  holdout: number;
  trees: number;
  forestSeeds: number[];
  datasets: ReferenceDataset[];
}

export async function readReference(): Promise<Reference> {
  return JSON.parse(await readFile(REFERENCE_FILE, 'utf8')) as Reference;
}

/** The SHA-256 of a list of row numbers, as recorded in the reference. */
export function rowsSha256(rows: readonly number[]): string {
  return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
}

/** A table as mlpipe loads it, with the rows that have a target and its task. */
export interface LoadedTable {
  rows: number;
  /** Row numbers (in the file) whose target is present: the rows featurize and train keep, in order. */
  withTarget: number[];
  task: Task;
  /** Class index of each row of `withTarget` (classification): what train.ts stratifies on. */
  labels?: Float64Array;
  /** The target of every row of the file, NaN where missing (regression). */
  values?: Float64Array;
}

/** Loads a table with mlpipe's loader and finds its task and labels as `featurize` does. */
export async function loadTable(dataset: AccuracyDataset): Promise<LoadedTable> {
  const { table } = await loadSource({ source: join(VEGA_DATA, dataset.file) });
  const { cells, task, classes } = resolveTarget(table, dataset.target, undefined);
  const withTarget = cells.flatMap((v, i) => (v === null ? [] : [i]));
  const index = new Map((classes ?? []).map((c, i) => [c, i]));
  const labels = classes ? Float64Array.from(withTarget, (i) => index.get(String(cells[i]))!) : undefined;
  const values = task === 'regression' ? Float64Array.from(cells, (v) => (v === null ? Number.NaN : Number(v))) : undefined;
  return { rows: table.rowCount, withTarget, task, ...(labels ? { labels } : {}), ...(values ? { values } : {}) };
}

/**
 * The holdout split `mlpipe train --seed <seed>` makes (train.ts: holdoutSplit over the rows with a
 * target, stratified by class index for classification), as row numbers in the file.
 */
export function mlpipeSplit(table: LoadedTable, seed: number): Split {
  const s = holdoutSplit(table.withTarget.length, HOLDOUT, seed, table.labels);
  return { train: s.train.map((i) => table.withTarget[i]!), test: s.test.map((i) => table.withTarget[i]!) };
}

/** What one `mlpipe run` scored on its holdout. */
export interface MlpipeScore {
  score: number;
  trainRows: number;
  testRows: number;
  task: Task;
  featureCount: number;
  /** RMSE of the baseline (the training rows' mean) on the test rows (regression): it pins down which rows were which. */
  baselineRmse?: number;
}

/** RMSE on `test` of predicting the mean of `train`: mlpipe's regression baseline for that split. */
export function baselineRmse(values: Float64Array, split: Split): number {
  const mean = split.train.reduce((a, i) => a + values[i]!, 0) / split.train.length;
  return Math.sqrt(split.test.reduce((a, i) => a + (values[i]! - mean) ** 2, 0) / split.test.length);
}

/**
 * Runs `mlpipe run pipeline.yaml` in process (load → featurize → train → package) on a table with
 * automatic featurizers and default model parameters; the config sets only the seed and skips
 * permutation importance (it is computed after the holdout score and does not change it).
 */
export async function mlpipeHoldoutScore(dataset: AccuracyDataset, seed: number, workDir: string): Promise<MlpipeScore> {
  const config = join(workDir, `${dataset.id}-${seed}.yaml`);
  const yaml = [
    `name: accuracy-${dataset.id}`,
    `source: ${JSON.stringify(join(VEGA_DATA, dataset.file))}`,
    `target: ${JSON.stringify(dataset.target)}`,
    `seed: ${seed}`,
    'evaluation: {permutationRepeats: 0}',
    '',
  ].join('\n');
  await writeFile(config, yaml);
  const result = await runPipeline({ config: await readPipelineConfig(config), defaultArtifacts: join(workDir, 'artifacts') });
  const { holdout, task } = result.train.metrics;
  if (!holdout) throw new Error(`${dataset.id}: mlpipe made no holdout`);
  const m = holdout.model as { accuracy?: number; r2?: number };
  const score = task === 'classification' ? m.accuracy : m.r2;
  if (score === undefined) throw new Error(`${dataset.id}: no ${task === 'classification' ? 'accuracy' : 'r2'} in the holdout metrics`);
  const baselineRmse = (holdout.baseline as { rmse?: number }).rmse;
  return {
    score,
    trainRows: holdout.trainRows,
    testRows: holdout.testRows,
    task,
    featureCount: result.featurize.info.featureCount,
    ...(baselineRmse !== undefined ? { baselineRmse } : {}),
  };
}
