import type { Lineage } from '../lineage.js';
import type { ColumnType } from '../values.js';
import type { ForestParams, Task } from './forest-format.js';
import type { ClassificationMetrics, RegressionMetrics } from './metrics.js';

/**
 * The model folder written by `mlpipe train` and read by `mlpipe package`: file names and the shapes
 * of its JSON files.
 */
/** File names inside a model folder (the output of `mlpipe train`). */
export const MODEL_FILES = {
  model: 'model.json',
  featurizer: 'featurizer.json',
  inputSchema: 'input-schema.json',
  metrics: 'metrics.json',
  training: 'training.json',
} as const;

/** Metrics of the model and of the baseline on the holdout rows. */
export type TaskMetrics = ClassificationMetrics | RegressionMetrics;

/** `metrics.json`. */
export interface MetricsReport {
  task: Task;
  /** Null when there was no holdout (`--holdout 0` or too few rows). */
  holdout: {
    fraction: number;
    trainRows: number;
    testRows: number;
    stratified: boolean;
    /** Featurizers were re-fitted on the training rows only: the test rows influenced nothing. */
    featurizersFittedOn: 'training rows';
    model: TaskMetrics;
    baseline: TaskMetrics & { strategy: 'majority class' | 'mean of the training target' };
  } | null;
  /** Impurity importance of the final model's features, largest first. */
  featureImportances: { feature: string; importance: number }[];
}

/** `training.json`: how the model was trained and from what. */
export interface TrainingInfo {
  format: 'mlpipe.training';
  formatVersion: 1;
  target: { name: string; type: ColumnType };
  task: Task;
  classes?: string[];
  model: { type: 'random-forest'; engine: 'mljs'; params: ForestParams };
  featureCount: number;
  rows: number;
  lineage?: Lineage;
  configSha256?: string;
  trainedAt: string;
  durationMs: number;
  mlpipeVersion: string;
  node: string;
}

