import type { Lineage } from '../lineage.js';
import type { ColumnType } from '../values.js';
import type { Engine, ForestParams, Task } from './forest-format.js';
import type { ClassificationMetrics, RegressionMetrics } from './metrics.js';

/**
 * The model folder written by `mlpipe train` and read by `mlpipe package`: file names and the shapes
 * of its JSON files.
 */
/** File names inside a model folder (the output of `mlpipe train`). */
export const MODEL_FILES = {
  /** ml-random-forest's model JSON, wrapped (loads in ml-random-forest itself). */
  model: 'model.json',
  /** The same forest compiled to flat arrays: what serving loads. */
  compiled: 'model.bin',
  featurizer: 'featurizer.json',
  inputSchema: 'input-schema.json',
  metrics: 'metrics.json',
  training: 'training.json',
} as const;

/** Metrics of a model (or a baseline) on held-out rows. */
export type TaskMetrics = ClassificationMetrics | RegressionMetrics;

/** Importance of something (a feature or an input column). */
export interface Importance {
  name: string;
  importance: number;
}

/** Permutation importance: how much the holdout score drops when a feature or a column is shuffled. */
export interface PermutationReport {
  /** accuracy (classification) or r2 (regression) */
  metric: string;
  repeats: number;
  /** Holdout rows used (a seeded sample when the holdout is large). */
  rows: number;
  byColumn: { name: string; mean: number; std: number }[];
  byFeature: { name: string; mean: number; std: number }[];
}

/** Metric summary across folds. */
export type FoldSummary = Record<string, { mean: number; std: number; values: number[] }>;

/** One hyperparameter trial of a search. */
export interface SearchTrial {
  params: Partial<ForestParams>;
  mean: number;
  std: number;
}

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
    permutationImportance?: PermutationReport;
  } | null;
  /** k-fold cross-validation on all rows (featurizers re-fitted in every fold), when asked for. */
  crossValidation?: {
    folds: number;
    stratified: boolean;
    perFold: TaskMetrics[];
    summary: FoldSummary;
    baselineSummary: FoldSummary;
  } | null;
  /** Hyperparameter search, run on the training part of the holdout (or all rows without one). */
  search?: {
    strategy: 'random' | 'grid';
    folds: number;
    metric: string;
    trials: SearchTrial[];
    best: Partial<ForestParams>;
  } | null;
  /** Out-of-bag accuracy or R² of the final model, when asked for. */
  oobScore?: number | null;
  /** Impurity importance of the final model's features, largest first. */
  featureImportances: { feature: string; importance: number }[];
  /** The same summed over the features each input column produced, largest first. */
  columnImportances?: Importance[];
}

/** `training.json`: how the model was trained and from what. */
export interface TrainingInfo {
  format: 'mlpipe.training';
  formatVersion: 1;
  target: { name: string; type: ColumnType };
  task: Task;
  classes?: string[];
  model: { type: 'random-forest'; engine: Engine; params: ForestParams };
  featureCount: number;
  rows: number;
  lineage?: Lineage;
  configSha256?: string;
  trainedAt: string;
  durationMs: number;
  mlpipeVersion: string;
  node: string;
}
