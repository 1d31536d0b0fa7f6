import type { Column } from '../table.js';
import type { Cell, ColumnType, DateOrder } from '../values.js';

// What a custom featurizer module needs besides the types below (README: "Custom featurizers").
export type { Cell, Column, ColumnType };

/** JSON-serializable value: what fitted state and parameters are made of. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The training target, for the kinds that learn from it (`needsTarget`). One value per row of the
 * column being fitted, in the same order; rows without a target were removed before fitting.
 */
export interface FitTarget {
  task: 'classification' | 'regression';
  /** Regression: the target value. Classification: the class index into `classes` (0 … k − 1). */
  values: Float64Array;
  /** Class labels in index order (classification only). */
  classes?: readonly string[];
}

/** What a fit may know beyond its column and parameters. */
export interface FitContext {
  /** The training target; given to every kind, read only by kinds with `needsTarget`. */
  target?: FitTarget;
  /** Seed of every random choice a fit makes (out-of-fold splits); default 0. */
  seed?: number;
}

/**
 * A featurizer kind: a pair of pure functions, `fit(column) → state` and
 * `transform(state, cell) → numbers`. Training (batch over a table) and serving (one record) call
 * the same `transform`; the state is plain JSON, so a fitted featurizer is data, never code.
 *
 * A kind reads one input column. It never mutates its params or its column.
 *
 * **Kinds that learn from the target** (`needsTarget`, e.g. `target` encoding) get the training
 * target in `fit`'s `context`. Their `fit` returns the state used at serving, learnt on every
 * training row. Encoding the *training* rows with that state would leak each row's own target into
 * its feature (the model then trusts the encoding far more than it deserves on new data). So such a
 * kind also has {@link FeaturizerKind.outOfFold}: it splits the training rows into seeded folds, fits
 * on all folds but one, and encodes the held-out fold with that fit — a training row's features never
 * depend on its own target. The pipeline's `fitTransform` (pipeline.ts) is the one
 * place that builds a training matrix: `transform` (full state) for every other kind, `outOfFold` for
 * these. `transform` of the full state is what held-out rows, `mlpipe predict` and the server see.
 * This is scikit-learn's `TargetEncoder` contract: `fit_transform(X, y)` ≠ `fit(X, y).transform(X)`.
 * Kinds without `needsTarget` must not read `context.target` (a test feeds them a target and checks
 * that nothing changes).
 */
export interface FeaturizerKind<P extends Record<string, Json> = Record<string, Json>, S extends Json = Json> {
  /** Name used in configs and fitted state (`numeric`, `one-hot`, ...). */
  readonly kind: string;
  /** One line for `--help` and the README. */
  readonly description: string;
  /** Column types this kind accepts. */
  readonly accepts: readonly ColumnType[];
  /** True when `fit` needs `context.target`; such a kind also implements `outOfFold`. */
  readonly needsTarget?: boolean;
  /**
   * Fills in defaults and checks parameter values; throws a ParamError (params.ts) naming the
   * parameter, with the allowed values, when one is invalid or unknown.
   */
  params(raw: Record<string, unknown>): P;
  /**
   * Learns state from the column (missing values are `null`/NaN in it). May throw a ParamError when
   * the data rules a parameter choice out (e.g. `log1p` of negative values with `negative: error`).
   */
  fit(column: Column, params: P, context?: FitContext): S;
  /**
   * Only for `needsTarget` kinds: writes the out-of-fold outputs of every row of `column` (the rows
   * `fit` saw, with the same context) into `out[i * stride + offset …]`. Row i's outputs come from
   * a fit that did not see row i's target.
   */
  outOfFold?(column: Column, params: P, context: FitContext, out: Float64Array, stride: number, offset: number): void;
  /** Output feature names, in order, e.g. `["age", "age__missing"]`. */
  outputs(column: string, params: P, state: S): string[];
  /**
   * Writes this kind's outputs for one normalized cell (`null` when missing) into
   * `out[offset .. offset + outputs.length)`. Allocates nothing (lookup tables a state needs are
   * built once per state object and cached, never per call).
   */
  transform(state: S, cell: Cell, out: Float64Array, offset: number): void;
  /** Human description of what was fitted, e.g. `median 44.5 + missing indicator`. */
  summary(params: P, state: S): string;
}

/**
 * Where a custom featurizer kind came from (custom.ts): never its code, only what identifies it. A
 * step with this record is resolved only among the custom kinds loaded in this process, and only when
 * the loaded module's sha256 is this one.
 */
export interface CustomStepOrigin {
  /** sha256 (hex) of the module file's bytes when the step was fitted. */
  sha256: string;
  /** The module's file name, without its folder (the bundle never names a path to import). */
  module: string;
  /** The kind's `summary` at fit time, so the step can be described without loading the module. */
  summary: string;
}

/** A fitted step: one featurizer kind applied to one input column. */
export interface FittedStep {
  column: string;
  /** The column's type at fit time; serving coerces input values to it. */
  type: ColumnType;
  kind: string;
  params: Record<string, Json>;
  state: Json;
  outputs: string[];
  /** Only for a custom kind (a module named in `features.custom`). */
  custom?: CustomStepOrigin;
}

/** An input column the pipeline does not use, and why. */
export interface DroppedColumn {
  column: string;
  type: ColumnType;
  reason: string;
}

/** Description of one input column of the fitted pipeline (feeds the input JSON Schema). */
export interface InputColumn {
  name: string;
  type: ColumnType;
  /**
   * True when the training data had missing values in this column. Informational since every input
   * became optional at prediction time: the input schema accepts a missing value in every column but
   * a {@link required} one (bundles written before keep the schema they recorded, where a column
   * without missing values is required).
   */
  nullable: boolean;
  /**
   * The config marks this column required (`features.required`): a record without a value here is
   * refused. Absent (never `false`) otherwise, so that featurizer.json files stay as they were.
   */
  required?: true;
  /**
   * A datetime column's day/month order (learned at load or declared): serving reads numeric dates
   * with the year last (`03/05/2024`) in it. Absent: such dates are refused, as before (format 1, 2).
   */
  dateOrder?: DateOrder;
}

/**
 * The whole fitted feature pipeline, as saved in `featurizer.json`. Format version 1 has no derived
 * columns; version 2 adds `derive` (written only when there are derived columns, so that an older
 * mlpipe refuses such a file instead of predicting without them). Both load. A step of a custom kind
 * (with `custom`) needs no new version: an mlpipe without custom featurizers already refuses it, as a
 * step of a kind it does not know. Version 3 is written when an input has a `dateOrder`: an older
 * mlpipe would load such a file and then refuse, record by record, the very dates it was trained on
 * (it never reads `03/05/2024`), so it is made to refuse the file instead. All three load.
 */
export interface FittedPipeline {
  format: 'mlpipe.featurizer';
  formatVersion: 1 | 2 | 3;
  /** Real input columns: those steps read and those derived columns read (never a derived column). */
  inputs: InputColumn[];
  /**
   * Derived columns (version 2 and later), in order: the expressions as text, re-parsed on load. Steps name
   * a derived column like any other; its value is computed from the record, never read from it.
   */
  derive?: { name: string; expression: string }[];
  steps: FittedStep[];
  dropped: DroppedColumn[];
  featureNames: string[];
}
