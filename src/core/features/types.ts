import type { Column } from '../table.js';
import type { Cell, ColumnType } from '../values.js';

/** JSON-serializable value: what fitted state and parameters are made of. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A featurizer kind: a pair of pure functions, `fit(column) → state` and
 * `transform(state, cell) → numbers`. Training (batch over a table) and serving (one record) call
 * the same `transform`; the state is plain JSON, so a fitted featurizer is data, never code.
 *
 * A kind reads one input column. It never mutates its params, and `fit` never looks at anything but
 * the column it is given (no target leakage).
 */
export interface FeaturizerKind<P extends Record<string, Json> = Record<string, Json>, S extends Json = Json> {
  /** Name used in configs and fitted state (`numeric`, `one-hot`, ...). */
  readonly kind: string;
  /** One line for `--help` and the README. */
  readonly description: string;
  /** Column types this kind accepts. */
  readonly accepts: readonly ColumnType[];
  /** Fills in defaults and checks parameter values; throws Error with a readable message when invalid. */
  params(raw: Record<string, unknown>): P;
  /** Learns state from the column (missing values are `null`/NaN in it). */
  fit(column: Column, params: P): S;
  /** Output feature names, in order, e.g. `["age", "age__missing"]`. */
  outputs(column: string, params: P, state: S): string[];
  /**
   * Writes this kind's outputs for one normalized cell (`null` when missing) into
   * `out[offset .. offset + outputs.length)`. Allocates nothing.
   */
  transform(state: S, cell: Cell, out: Float64Array, offset: number): void;
  /** Human description of what was fitted, e.g. `median 44.5 + missing indicator`. */
  summary(params: P, state: S): string;
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
  /** True when the training data had missing values in this column. */
  nullable: boolean;
}

/** The whole fitted feature pipeline, as saved in `featurizer.json`. */
export interface FittedPipeline {
  format: 'mlpipe.featurizer';
  formatVersion: 1;
  inputs: InputColumn[];
  steps: FittedStep[];
  dropped: DroppedColumn[];
  featureNames: string[];
}
