import { ConfigError, ValidationError } from '../errors.js';
import { type Table, cellAt, findColumn } from '../table.js';
import { CellError, type ColumnType, toCell } from '../values.js';
import { countMissing } from './impute.js';
import { ParamError } from './params.js';
import { getKind } from './registry.js';
import type { DroppedColumn, FeaturizerKind, FitContext, FittedPipeline, FittedStep, InputColumn, Json } from './types.js';

/** One planned step: which featurizer kind to fit on which column, with which parameters. */
export interface StepPlan {
  column: string;
  kind: string;
  params?: Record<string, unknown>;
  /** Config path that asked for this step, for error messages (`features.columns.age`). */
  path?: string;
  /** Line of that config entry, for error messages. */
  line?: number;
}

/** What to fit: the steps, and the columns left out with their reasons. */
export interface FeaturePlan {
  steps: StepPlan[];
  dropped: DroppedColumn[];
}

/** Escapes a property name for a JSON Pointer (RFC 6901). */
export function pointerToken(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Fits every planned step on the table. Steps are independent: each sees only its own column (and,
 * for kinds that learn from it, the target in `context`). Throws ConfigError (with the config path,
 * down to the parameter: `features.columns.age.impute`) for an unknown column, a kind that does not
 * accept the column's type, a kind that needs the target when none is given, or bad parameters.
 *
 * The training matrix of the returned pipeline must come from {@link fitTransform}, not from
 * `transformTable` on the same rows: see `needsTarget` in types.ts.
 */
export function fitPipeline(table: Table, plan: FeaturePlan, context: FitContext = {}): FittedPipeline {
  const steps: FittedStep[] = [];
  const inputs = new Map<string, InputColumn>();
  const used = new Set<string>();
  for (const stepPlan of plan.steps) {
    const path = stepPlan.path ?? `features.columns.${stepPlan.column}`;
    const at = stepPlan.line !== undefined ? ` (line ${stepPlan.line})` : '';
    const column = findColumn(table, stepPlan.column);
    if (!column) {
      throw new ConfigError(`${path}: no column "${stepPlan.column}" in the dataset (columns: ${table.columns.map((c) => c.name).join(', ')})${at}`);
    }
    const kind = getKind(stepPlan.kind, `${path}.kind`);
    if (!kind.accepts.includes(column.type)) {
      throw new ConfigError(`${path}.kind: featurizer "${kind.kind}" does not accept a ${column.type} column (it takes ${kind.accepts.join(', ')})${at}`);
    }
    if (kind.needsTarget && !context.target) {
      throw new ConfigError(`${path}.kind: featurizer "${kind.kind}" learns from the target, and no target was given${at}`);
    }
    let params: Record<string, Json>;
    let state: Json;
    try {
      params = kind.params(stepPlan.params ?? {});
      state = kind.fit(column, params, context);
    } catch (err) {
      if (err instanceof ParamError) throw new ConfigError(`${path}.${err.param}: ${err.problem}${at}`, [{ path: `${path}.${err.param}`, message: err.problem }]);
      throw err;
    }
    const outputs = kind.outputs(column.name, params, state).map((name) => uniqueName(name, used));
    steps.push({ column: column.name, type: column.type, kind: kind.kind, params, state, outputs });
    if (!inputs.has(column.name)) inputs.set(column.name, { name: column.name, type: column.type, nullable: countMissing(column) > 0 });
  }
  return {
    format: 'mlpipe.featurizer',
    formatVersion: 1,
    inputs: [...inputs.values()],
    steps,
    dropped: plan.dropped,
    featureNames: steps.flatMap((s) => s.outputs),
  };
}

/** A fitted pipeline, its transformer, and the training matrix of the rows it was fitted on. */
export interface FitTransformResult {
  pipeline: FittedPipeline;
  transformer: FeatureTransformer;
  /** Row-major `rows × width`: what a model trains on. */
  matrix: Float64Array;
}

/**
 * Fits the pipeline on a table and featurizes that same table for training: every step through its
 * `transform`, except steps whose kind learns from the target, whose columns are their out-of-fold
 * encodings (`outOfFold`), so that no training row's features depend on its own target. Use it for
 * every training matrix; use `transformTable`/`transformRecord` for rows the fit did not see.
 */
export function fitTransform(table: Table, plan: FeaturePlan, context: FitContext = {}): FitTransformResult {
  const pipeline = fitPipeline(table, plan, context);
  const transformer = new FeatureTransformer(pipeline);
  const matrix = transformer.transformTable(table);
  transformer.writeOutOfFold(table, context, matrix);
  return { pipeline, transformer, matrix };
}

function uniqueName(name: string, used: Set<string>): string {
  let out = name;
  for (let k = 2; used.has(out); k++) out = `${name}#${k}`;
  used.add(out);
  return out;
}

interface ResolvedStep {
  step: FittedStep;
  kind: FeaturizerKind;
  offset: number;
  pointer: string;
}

/**
 * A fitted pipeline ready to transform: kinds resolved and output offsets computed once. Batch
 * ({@link transformTable}) and single-record ({@link transformRecord}) transforms both normalize each
 * value with the shared `toCell` and call the kind's own `transform`: there is one code path.
 */
export class FeatureTransformer {
  readonly pipeline: FittedPipeline;
  readonly width: number;
  private readonly resolved: ResolvedStep[];

  /** Checks a saved pipeline (e.g. from a bundle) and prepares it; throws ConfigError when malformed. */
  constructor(pipeline: FittedPipeline) {
    if (pipeline?.format !== 'mlpipe.featurizer' || pipeline.formatVersion !== 1 || !Array.isArray(pipeline.steps)) {
      throw new ConfigError('featurizer.json: not an mlpipe featurizer (format mlpipe.featurizer, version 1)');
    }
    this.pipeline = pipeline;
    let offset = 0;
    this.resolved = pipeline.steps.map((step, i) => {
      const kind = getKind(step.kind, `featurizer.json: steps[${i}].kind`);
      // A step without fitted state (transform before fit) or with state of another shape is refused
      // here, with its column named, rather than failing inside transform.
      let expected: string[] | undefined;
      try {
        expected = step.state === null || typeof step.state !== 'object' ? undefined : kind.outputs(step.column, step.params as never, step.state as never);
      } catch {
        expected = undefined;
      }
      if (!expected || !Array.isArray(step.outputs) || expected.length !== step.outputs.length) {
        throw new ConfigError(`featurizer.json: steps[${i}] (column ${JSON.stringify(step.column)}, ${step.kind}) is not fitted: fit it before transforming`);
      }
      const r = { step, kind, offset, pointer: `/${pointerToken(step.column)}` };
      offset += step.outputs.length;
      return r;
    });
    this.width = offset;
    if (this.width !== pipeline.featureNames.length) {
      throw new ConfigError(`featurizer.json: steps produce ${this.width} features but featureNames lists ${pipeline.featureNames.length}`);
    }
  }

  /**
   * Featurizes one record (a plain object; absent and null properties are missing values) into
   * `out` (allocated when not given). Throws ValidationError listing every field that cannot be read
   * as its column's type, each with its JSON path under `pathPrefix` (e.g. `/records/3`).
   */
  transformRecord(record: Record<string, unknown>, out: Float64Array = new Float64Array(this.width), pathPrefix = ''): Float64Array {
    let details: { path: string; message: string }[] | undefined;
    for (const r of this.resolved) {
      const raw = Object.hasOwn(record, r.step.column) ? record[r.step.column] : undefined;
      let cell;
      try {
        cell = toCell(r.step.type, raw);
      } catch (err) {
        if (!(err instanceof CellError)) throw err;
        (details ??= []).push({ path: `${pathPrefix}${r.pointer}`, message: err.message });
        continue;
      }
      r.kind.transform(r.step.state, cell, out, r.offset);
    }
    if (details) throw new ValidationError(`invalid record: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
    return out;
  }

  /**
   * Featurizes a whole table into a row-major matrix (`rows × width`). Each value goes through the
   * same `toCell` + `transform` as {@link transformRecord}. Throws ValidationError naming the row and
   * column of a value that cannot be read, and ConfigError for a missing column.
   */
  transformTable(table: Table): Float64Array {
    const matrix = new Float64Array(table.rowCount * this.width);
    for (const r of this.resolved) {
      const column = findColumn(table, r.step.column);
      if (!column) throw new ConfigError(`the data has no column "${r.step.column}", which the featurizer needs`);
      const type: ColumnType = r.step.type;
      for (let i = 0; i < table.rowCount; i++) {
        let cell;
        try {
          cell = toCell(type, cellAt(column, i));
        } catch (err) {
          if (!(err instanceof CellError)) throw err;
          throw new ValidationError(`row ${i + 1}, column ${JSON.stringify(r.step.column)}: ${err.message}`, [
            { path: `/${i}${r.pointer}`, message: err.message },
          ]);
        }
        r.kind.transform(r.step.state, cell, matrix, i * this.width + r.offset);
      }
    }
    return matrix;
  }

  /**
   * Overwrites, in a matrix from {@link transformTable} of the training table, the columns of steps
   * whose kind learns from the target with their out-of-fold encodings. Only {@link fitTransform}
   * calls it, with the table and context the pipeline was fitted on.
   */
  writeOutOfFold(table: Table, context: FitContext, matrix: Float64Array): void {
    for (const r of this.resolved) {
      if (!r.kind.outOfFold) continue;
      const column = findColumn(table, r.step.column);
      if (!column) throw new ConfigError(`the data has no column "${r.step.column}", which the featurizer needs`);
      r.kind.outOfFold(column, r.step.params, context, matrix, this.width, r.offset);
    }
  }

  /** One line per step: `column (type) → kind: summary`. */
  describe(): string[] {
    return this.resolved.map((r) => `${r.step.column} (${r.step.type}) → ${r.kind.kind}: ${r.kind.summary(r.step.params, r.step.state)}`);
  }
}
