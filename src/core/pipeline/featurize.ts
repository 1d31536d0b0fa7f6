import { throwIfAborted } from '../abort.js';
import type { LoadResult } from '../data/load.js';
import { ConfigError } from '../errors.js';
import { type ColumnChoice, type ColumnSelector, planFeatures } from '../features/auto.js';
import { type CustomModuleSpec, customRequirements, loadCustomKind } from '../features/custom.js';
import { customKind } from '../features/registry.js';
import { inputSchema } from '../features/input-schema.js';
import { type DerivePlan, type FeaturePlan, fitTransform } from '../features/fit-pipeline.js';
import type { FitTarget, FittedPipeline } from '../features/types.js';
import type { Task } from '../models/forest-format.js';
import { classLabels, inferTask, targetCells } from '../models/task.js';
import { suggest } from '../suggest.js';
import { type Table, findColumn, selectRows } from '../table.js';
import { FEATURES_FILES, type FeaturesInfo, writeFeaturesDir } from './features-dir.js';

/** Feature choices from a config or the command line. */
export interface FeatureOptions {
  /** Columns to leave out: names, `{type}` or `{pattern}` selectors. */
  drop?: ColumnSelector[];
  columns?: Record<string, ColumnChoice>;
  /** Config lines of the entries (`features.drop[0]`, `features.columns.age`), for error messages. */
  lines?: Record<string, number>;
  /** Derived columns (`features.derive`), in order. */
  derive?: DerivePlan[];
  /** Custom featurizer modules (`features.custom`); those the columns name are loaded (their code runs). */
  custom?: CustomModuleSpec[];
  /** Input columns a record must have at prediction time (`features.required`); every other one is optional. */
  required?: string[];
}

/** Options of {@link featurize}. */
export interface FeaturizeOptions {
  /** The loaded data. */
  data: LoadResult;
  target: string;
  /** The features folder to write. */
  out: string;
  features?: FeatureOptions;
  /** Overrides the task implied by the target. */
  task?: Task;
  configSha256?: string;
  /** Seed of the featurizers' random choices (target encoding's out-of-fold split); default 0. */
  seed?: number;
  /** Stops between steps (an InterruptedError); a features folder is written whole or not at all. */
  signal?: AbortSignal;
}

/** What {@link featurize} did. */
export interface FeaturizeResult {
  out: string;
  info: FeaturesInfo;
  pipeline: FittedPipeline;
}

/** The plan a fitted pipeline was made from: same columns, kinds and parameters. */
export function planOf(pipeline: FittedPipeline): FeaturePlan {
  return {
    ...(pipeline.derive ? { derive: pipeline.derive.map((d) => ({ name: d.name, expression: d.expression })) } : {}),
    steps: pipeline.steps.map((s) => ({ column: s.column, kind: s.kind, params: s.params })),
    dropped: pipeline.dropped,
    ...(pipeline.inputs.some((c) => c.required) ? { required: pipeline.inputs.filter((c) => c.required).map((c) => ({ column: c.name })) } : {}),
  };
}

/**
 * {@link resolveTarget}, and the rows whose target is present (the rows featurize and train use);
 * ConfigError when there are none.
 */
export function rowsWithTarget(all: Table, target: string, task: Task | undefined): { resolved: ReturnType<typeof resolveTarget>; table: Table } {
  const resolved = resolveTarget(all, target, task);
  const keep: number[] = [];
  resolved.cells.forEach((v, i) => {
    if (v !== null) keep.push(i);
  });
  if (keep.length === 0) throw new ConfigError(`target: every row's "${target}" is missing; nothing to train on`);
  return { resolved, table: keep.length === all.rowCount ? all : selectRows(all, keep) };
}

/**
 * Most classes a classification target may have: a forest
 * keeps a class distribution in every node, so memory grows with trees × nodes × classes.
 */
export const MAX_CLASSES = 1000;

/** Checks the target column and decides the task and class labels. */
export function resolveTarget(table: Table, target: string, task: Task | undefined) {
  const column = findColumn(table, target);
  if (!column) {
    const names = table.columns.map((c) => c.name);
    const hint = suggest(target, names);
    throw new ConfigError(`target: no column "${target}" in the data${hint ? ` (did you mean "${hint}"?)` : ''}; columns: ${names.join(', ')}`);
  }
  const cells = targetCells(column);
  const present = cells.filter((v) => v !== null);
  const resolvedTask = task ?? inferTask(column.type, present);
  if (resolvedTask === 'regression' && column.type !== 'number' && column.type !== 'integer') {
    throw new ConfigError(`task: regression needs a numeric target, but "${target}" is a ${column.type} column`);
  }
  if (resolvedTask === 'classification' && (column.type === 'datetime' || column.type === 'text')) {
    throw new ConfigError(`task: a ${column.type} column cannot be a classification target`);
  }
  const classes = resolvedTask === 'classification' ? classLabels(column.type, present) : undefined;
  if (classes && classes.length < 2) throw new ConfigError(`target: "${target}" has ${classes.length} class${classes.length === 1 ? '' : 'es'}; classification needs at least 2`);
  if (classes && classes.length > MAX_CLASSES) {
    const identifier = classes.length >= 0.5 * present.length;
    throw new ConfigError(
      `target: "${target}" has ${classes.length.toLocaleString('en-US')} classes in ${present.length.toLocaleString('en-US')} rows; mlpipe classifies into at most ${MAX_CLASSES.toLocaleString('en-US')} ` +
        `(every node of every tree keeps a probability for each class)${identifier ? '. Nearly every row has its own value: it looks like an identifier, not something to predict' : ''}; ` +
        `predict a coarser column${column.type === 'integer' ? ', or the number itself with --task regression' : ''}`,
    );
  }
  return { column, cells, task: resolvedTask, classes };
}

/**
 * Fits feature extractors on a loaded table and writes a features folder: fitted featurizer (plain
 * JSON), input JSON Schema, feature matrix with the target, the training rows and a summary.
 * Rows whose target is missing are left out. Columns are featurized automatically unless the options
 * say otherwise; every choice and every dropped column is reported in `info.summary`.
 */
export async function featurize(options: FeaturizeOptions): Promise<FeaturizeResult> {
  const { data, target } = options;
  await loadCustomModules(options.features);
  const { resolved, table } = rowsWithTarget(data.table, target, options.task);
  const plan = planFeatures(table, { target, drop: options.features?.drop, columns: options.features?.columns, lines: options.features?.lines, derive: options.features?.derive, required: options.features?.required });
  const targetColumn = findColumn(table, target)!;
  const targetValues = targetCells(targetColumn).map((v) => (typeof v === 'number' ? v : String(v)));
  // Target-learning featurizers (target encoding) fit on these; the matrix gets their out-of-fold values.
  const fitTarget = featureTarget(targetValues, resolved.task, resolved.classes);
  throwIfAborted(options.signal);
  const { pipeline, transformer, matrix } = fitTransform(table, plan, { target: fitTarget, seed: options.seed ?? 0 });
  throwIfAborted(options.signal);
  if (transformer.width === 0) {
    const why = pipeline.dropped.map((d) => `${d.column} (${d.reason})`).join('; ');
    const first = pipeline.dropped.find((d) => d.type === 'number' || d.type === 'integer') ?? pipeline.dropped[0];
    throw new ConfigError(
      `features: no features to train on: every column but the target was dropped${why ? `: ${why}` : ''}` +
        (first ? `; to keep one, choose its featurizer in the config (features: {columns: {${JSON.stringify(first.column)}: {kind: ${first.type === 'text' ? 'tfidf' : first.type === 'category' ? 'one-hot' : 'numeric'}}}})` : ''),
    );
  }
  const info: FeaturesInfo = {
    format: 'mlpipe.features',
    formatVersion: 1,
    target: { name: target, type: targetColumn.type, task: resolved.task, ...(resolved.classes ? { classes: resolved.classes } : {}) },
    rows: table.rowCount,
    rowsWithoutTarget: data.table.rowCount - table.rowCount,
    featureCount: transformer.width,
    summary: { steps: transformer.describe(), dropped: pipeline.dropped.map((d) => ({ column: d.column, reason: d.reason })) },
    profile: data.profile,
    lineage: data.lineage,
    ...(options.configSha256 ? { configSha256: options.configSha256 } : {}),
    ...customFeaturizersOf(pipeline),
  };
  await writeFeaturesDir(options.out, {
    info,
    pipeline,
    inputSchema: inputSchema(pipeline, `input record of a model predicting ${target}`),
    data: { matrix, rows: table.rowCount, featureNames: pipeline.featureNames, target: targetValues },
    table,
  }, options.signal);
  return { out: options.out, info, pipeline };
}

/**
 * Loads the custom featurizer modules that `features.columns` names, registering their kinds for this
 * process (their code runs: the config named them); a module no column uses is not loaded.
 */
export async function loadCustomModules(features: FeatureOptions | undefined): Promise<void> {
  const used = new Set(Object.values(features?.columns ?? {}).map((c) => (c !== 'drop' && typeof c.kind === 'string' ? c.kind : '')));
  for (const spec of features?.custom ?? []) if (used.has(spec.name)) await loadCustomKind(spec);
}

/** `customFeaturizers` of features.json: the modules the fitted steps use, and where they were loaded from. */
function customFeaturizersOf(pipeline: FittedPipeline): Pick<FeaturesInfo, 'customFeaturizers'> {
  const used = customRequirements(pipeline).map((r) => ({ name: r.name, path: customKind(r.name)?.path ?? r.module, sha256: r.sha256 }));
  return used.length > 0 ? { customFeaturizers: used } : {};
}

/**
 * The target as featurizers see it: regression values, or class indices into `classes`. A regression
 * value that is not a number (a task forced onto a non-numeric target is refused earlier) is NaN.
 */
export function featureTarget(values: readonly (number | string)[], task: Task, classes: readonly string[] | undefined): FitTarget {
  if (task === 'regression') return { task, values: Float64Array.from(values, (v) => (typeof v === 'number' ? v : Number(v))) };
  const index = new Map((classes ?? []).map((c, i) => [c, i]));
  return { task, values: Float64Array.from(values, (v) => index.get(String(v)) ?? -1), classes: classes ?? [] };
}

export { FEATURES_FILES };
