import { ConfigError, messageOf } from '../errors.js';
import { type Column, type Table, findColumn } from '../table.js';
import type { ColumnType } from '../values.js';
import { suggest } from '../suggest.js';
import { DeriveError, type DeriveSpec, Deriver } from './derive.js';
import { countMissing } from './impute.js';
import { ParamError } from './params.js';
import { customKind, getKind } from './registry.js';
import { FeatureTransformer, deriveColumns } from './transformer.js';
import type { CustomStepOrigin, DroppedColumn, FitContext, FittedPipeline, FittedStep, InputColumn, Json } from './types.js';

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

/** A derived column to compute before fitting, with where the config asked for it. */
export interface DerivePlan extends DeriveSpec {
  /** Config path, for error messages (`features.derive.ratio`). */
  path?: string;
  line?: number;
}

/** An input column a record must have (`features.required`), with where the config named it. */
export interface RequiredPlan {
  column: string;
  /** Config path, for error messages (`features.required[0]`). */
  path?: string;
  line?: number;
}

/** What to fit: the derived columns, the steps, the columns left out with their reasons, and the required inputs. */
export interface FeaturePlan {
  /** Derived columns (`features.derive`), computed in order; steps may name them like input columns. */
  derive?: DerivePlan[];
  steps: StepPlan[];
  dropped: DroppedColumn[];
  /**
   * Input columns a record must have at prediction time (`features.required`). Every other input is
   * optional: a missing value is imputed from the statistics its step fitted.
   */
  required?: RequiredPlan[];
}

/**
 * Builds a {@link Deriver} over a table's columns; a problem becomes a ConfigError at the derived
 * column's config path and line (`features.derive.ratio: … (line 7)`).
 */
export function planDeriver(derive: readonly DerivePlan[], columns: ReadonlyMap<string, ColumnType>): Deriver {
  try {
    return new Deriver(derive.map((d) => ({ name: d.name, expression: d.expression })), columns);
  } catch (err) {
    if (!(err instanceof DeriveError)) throw err;
    const d = derive[err.index]!;
    const path = d.path ?? `features.derive.${d.name}`;
    const at = d.line !== undefined ? ` (line ${d.line})` : '';
    throw new ConfigError(`${path}: ${err.problem}${at}`, [{ path, message: `${err.problem}${at}` }]);
  }
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
export function fitPipeline(input: Table, plan: FeaturePlan, context: FitContext = {}): FittedPipeline {
  const steps: FittedStep[] = [];
  const inputs = new Map<string, InputColumn>();
  const used = new Set<string>();
  const derive = plan.derive ?? [];
  const deriver = derive.length > 0 ? planDeriver(derive, new Map(input.columns.map((c) => [c.name, c.type]))) : undefined;
  const derivedNames = new Set(deriver?.names ?? []);
  const table = deriver ? deriveColumns(input, deriver) : input;
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
    const custom = customKind(kind.kind);
    let params: Record<string, Json>;
    let state: Json;
    let origin: CustomStepOrigin | undefined;
    let names: string[];
    try {
      params = kind.params(stepPlan.params ?? {});
      state = kind.fit(column, params, context);
      if (custom) {
        // What serving will read is the JSON of featurizer.json: the training matrix is made from
        // exactly that, so a custom kind whose state is not plain JSON cannot make them differ.
        params = jsonCopy(params, 'its parameters');
        state = jsonCopy(state, 'its fitted state');
        origin = { sha256: custom.sha256, module: custom.module, summary: kind.summary(params, state) };
      }
      names = kind.outputs(column.name, params, state);
      if (custom && (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string'))) throw new Error('outputs must return a non-empty list of feature names');
    } catch (err) {
      if (err instanceof ParamError) throw new ConfigError(`${path}.${err.param}: ${err.problem}${at}`, [{ path: `${path}.${err.param}`, message: err.problem }]);
      // A custom module cannot throw mlpipe's own ParamError (it runs on its own copy of mlpipe, if any).
      if (custom) throw new ConfigError(`${path}: custom featurizer "${kind.kind}" (${custom.module}): ${messageOf(err)}${at}`, [{ path, message: messageOf(err) }]);
      throw err;
    }
    const outputs = names.map((name) => uniqueName(name, used));
    steps.push({ column: column.name, type: column.type, kind: kind.kind, params, state, outputs, ...(origin ? { custom: origin } : {}) });
    if (!inputs.has(column.name) && !derivedNames.has(column.name)) inputs.set(column.name, inputColumn(column));
  }
  for (const read of deriver?.inputs ?? []) {
    if (!inputs.has(read.name)) inputs.set(read.name, inputColumn(findColumn(input, read.name)!));
  }
  markRequired(plan, inputs, derivedNames, table.columns.map((c) => c.name));
  const dateOrders = [...inputs.values()].some((c) => c.dateOrder !== undefined);
  return {
    format: 'mlpipe.featurizer',
    // Version 2 only when there are derived columns, 3 only with a day/month order: older files stay byte-identical.
    formatVersion: dateOrders ? 3 : deriver ? 2 : 1,
    inputs: [...inputs.values()],
    ...(deriver ? { derive: derive.map((d) => ({ name: d.name, expression: d.expression })) } : {}),
    steps,
    dropped: plan.dropped,
    featureNames: steps.flatMap((s) => s.outputs),
  };
}

/**
 * Marks the planned required columns in `inputs`; ConfigError at `features.required[i]` for a name
 * that is not an input column (not in the data, dropped, derived, or read by no step).
 */
function markRequired(plan: FeaturePlan, inputs: Map<string, InputColumn>, derived: ReadonlySet<string>, columns: readonly string[]): void {
  (plan.required ?? []).forEach((r, i) => {
    const input = inputs.get(r.column);
    if (input) {
      input.required = true;
      return;
    }
    const path = r.path ?? `features.required[${i}]`;
    const at = r.line !== undefined ? ` (line ${r.line})` : '';
    const dropped = plan.dropped.find((d) => d.column === r.column);
    const hint = suggest(r.column, [...inputs.keys()]);
    const why = derived.has(r.column)
      ? 'it is a derived column (features.derive), computed from other columns: require those instead'
      : dropped
        ? `it is dropped (${dropped.reason})`
        : columns.includes(r.column)
          ? 'no featurizer reads it (the target is never an input)'
          : `the data has no such column${hint ? ` (did you mean "${hint}"?)` : ''}`;
    const names = [...inputs.keys()];
    const list = names.length === 0 ? '(none)' : names.length > 20 ? `${names.slice(0, 20).join(', ')}, … (${names.length})` : names.join(', ');
    const problem = `"${r.column}" is not an input column of the model: ${why}; input columns: ${list}${at}`;
    throw new ConfigError(`${path}: ${problem}`, [{ path, message: problem }]);
  });
}

/** What serving needs to know of a training column: its type, whether it had missing values, a datetime's day/month order. */
function inputColumn(column: Column): InputColumn {
  const input: InputColumn = { name: column.name, type: column.type, nullable: countMissing(column) > 0 };
  if (column.dateOrder !== undefined) input.dateOrder = column.dateOrder;
  return input;
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

/** A value as it reads back from JSON; throws when it has no JSON form (a function, a BigInt, a cycle). */
function jsonCopy<T extends Json>(value: T, what: string): T {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new Error(`${what} cannot be saved as JSON (${messageOf(err)})`);
  }
  if (text === undefined) throw new Error(`${what} cannot be saved as JSON (got ${typeof value})`);
  return JSON.parse(text) as T;
}

function uniqueName(name: string, used: Set<string>): string {
  let out = name;
  for (let k = 2; used.has(out); k++) out = `${name}#${k}`;
  used.add(out);
  return out;
}
