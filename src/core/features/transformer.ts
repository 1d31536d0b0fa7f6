import { ConfigError, ValidationError, VerificationError, invalidInput } from '../errors.js';
import { type Column, type Table, cellAt, findColumn } from '../table.js';
import { type Cell, CellError, type ColumnType, DATE_ORDERS, type DateOrder, dateOrderPattern, describeRawValue, toCell } from '../values.js';
import { DeriveError, type DeriveSpec, Deriver } from './derive.js';
import { builtinKind, customKind } from './registry.js';
import type { CustomStepOrigin, FeaturizerKind, FitContext, FittedPipeline, FittedStep } from './types.js';

/**
 * The table with its derived columns appended (computed row by row through the same
 * `toCell` + {@link Deriver.derive} as one record at serving). Throws ValidationError naming the row
 * and column of a value that cannot be read, and ConfigError for a missing input column.
 */
export function deriveColumns(table: Table, deriver: Deriver): Table {
  const inputs = deriver.inputs.map((input) => {
    const column = findColumn(table, input.name);
    if (!column) throw new ConfigError(`the data has no column "${input.name}", which the derived columns need`);
    return { input, column, pointer: `/${pointerToken(input.name)}` };
  });
  const derived = deriver.names.map((name): Column => ({ name, type: 'number', values: new Float64Array(table.rowCount) }));
  const cells: Cell[] = new Array<Cell>(inputs.length).fill(null);
  const out = new Float64Array(derived.length);
  for (let i = 0; i < table.rowCount; i++) {
    for (let k = 0; k < inputs.length; k++) {
      const { input, column, pointer } = inputs[k]!;
      try {
        cells[k] = toCell(input.type, cellAt(column, i));
      } catch (err) {
        if (!(err instanceof CellError)) throw err;
        throw new ValidationError(`row ${i + 1}, column ${JSON.stringify(input.name)}: ${err.message}`, [{ path: `/${i}${pointer}`, message: err.message }]);
      }
    }
    deriver.derive(cells, out);
    for (let j = 0; j < derived.length; j++) derived[j]!.values[i] = out[j] as number;
  }
  const names = new Set(deriver.names);
  return { columns: [...table.columns.filter((c) => !names.has(c.name)), ...derived], rowCount: table.rowCount };
}

/** Escapes a property name for a JSON Pointer (RFC 6901). */
export function pointerToken(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

interface ResolvedStep {
  step: FittedStep;
  kind: FeaturizerKind;
  offset: number;
  pointer: string;
  /** For a step on a derived column: its index among the derived columns. */
  derived?: number;
  /** The step's column's day/month order (a datetime input with one). */
  dateOrder?: DateOrder;
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
  /** Derived columns, re-parsed from the saved expressions' text (never saved code). */
  private readonly deriver: Deriver | undefined;
  private readonly deriveCells: Cell[];
  private readonly derivedValues: Float64Array;
  /** The day/month order of each derived column input, when it has one. */
  private readonly deriveOrders: (DateOrder | undefined)[];

  /**
   * Checks a saved pipeline (e.g. from a bundle) and prepares it; throws ConfigError when malformed.
   * A step of a custom kind needs that kind loaded in this process from a module with the sha256 the
   * step records (ConfigError when it is not loaded, VerificationError when the hash differs), unless
   * `unloadedCustom: 'describe'`: then such a step can be described and counted, not transformed.
   */
  constructor(pipeline: FittedPipeline, options: { unloadedCustom?: 'refuse' | 'describe' } = {}) {
    if (pipeline?.format !== 'mlpipe.featurizer' || (pipeline.formatVersion !== 1 && pipeline.formatVersion !== 2 && pipeline.formatVersion !== 3) || !Array.isArray(pipeline.steps)) {
      throw new ConfigError('featurizer.json: not an mlpipe featurizer (format mlpipe.featurizer, version 1, 2 or 3)');
    }
    this.pipeline = pipeline;
    const orders = savedDateOrders(pipeline);
    this.deriver = savedDeriver(pipeline);
    this.deriveOrders = (this.deriver?.inputs ?? []).map((input) => orders.get(input.name));
    this.deriveCells = new Array<Cell>(this.deriver?.inputs.length ?? 0).fill(null);
    this.derivedValues = new Float64Array(this.deriver?.names.length ?? 0);
    const derivedIndex = new Map((this.deriver?.names ?? []).map((name, j) => [name, j]));
    let offset = 0;
    this.resolved = pipeline.steps.map((step, i) => {
      const kind = step.custom !== undefined ? customStepKind(step, i, options.unloadedCustom ?? 'refuse') : builtinKind(step.kind, `featurizer.json: steps[${i}].kind`);
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
      const j = derivedIndex.get(step.column);
      const dateOrder = j === undefined && step.type === 'datetime' ? orders.get(step.column) : undefined;
      const r: ResolvedStep = { step, kind, offset, pointer: `/${pointerToken(step.column)}`, ...(j !== undefined ? { derived: j } : {}), ...(dateOrder ? { dateOrder } : {}) };
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
   * as its column's type, each with its JSON path under `pathPrefix` (e.g. `/records/3`). `at`: where
   * in `out` the record's features start (a row of a matrix, without a view per row).
   */
  transformRecord(record: Record<string, unknown>, out: Float64Array = new Float64Array(this.width), pathPrefix = '', at = 0): Float64Array {
    let details: { path: string; message: string }[] | undefined;
    const report = (path: string, message: string) => {
      if (!details?.some((d) => d.path === path)) (details ??= []).push({ path, message });
    };
    if (this.deriver) {
      // Derived values come from the record's input columns; a field named like a derived column is ignored.
      const inputs = this.deriver.inputs;
      for (let k = 0; k < inputs.length; k++) {
        const name = inputs[k]!.name;
        const raw = Object.hasOwn(record, name) ? record[name] : undefined;
        const order = this.deriveOrders[k];
        try {
          this.deriveCells[k] = toCell(inputs[k]!.type, raw, order);
        } catch (err) {
          if (!(err instanceof CellError)) throw err;
          report(`${pathPrefix}/${pointerToken(name)}`, order ? notDateInOrder(order, raw) : err.message);
          this.deriveCells[k] = null;
        }
      }
      this.deriver.derive(this.deriveCells, this.derivedValues);
    }
    for (const r of this.resolved) {
      if (r.derived !== undefined) {
        const v = this.derivedValues[r.derived] as number;
        r.kind.transform(r.step.state, Number.isNaN(v) ? null : v, out, at + r.offset);
        continue;
      }
      const raw = Object.hasOwn(record, r.step.column) ? record[r.step.column] : undefined;
      let cell;
      try {
        cell = toCell(r.step.type, raw, r.dateOrder);
      } catch (err) {
        if (!(err instanceof CellError)) throw err;
        report(`${pathPrefix}${r.pointer}`, r.dateOrder ? notDateInOrder(r.dateOrder, raw) : err.message);
        continue;
      }
      r.kind.transform(r.step.state, cell, out, at + r.offset);
    }
    if (details) throw invalidInput(details);
    return out;
  }

  /**
   * Featurizes a whole table into a row-major matrix (`rows × width`). Each value goes through the
   * same `toCell` + `transform` as {@link transformRecord}. Throws ValidationError naming the row and
   * column of a value that cannot be read, and ConfigError for a missing column.
   */
  transformTable(input: Table): Float64Array {
    const table = this.deriver ? deriveColumns(input, this.deriver) : input;
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
  writeOutOfFold(input: Table, context: FitContext, matrix: Float64Array): void {
    if (!this.resolved.some((r) => r.kind.outOfFold)) return;
    const table = this.deriver ? deriveColumns(input, this.deriver) : input;
    for (const r of this.resolved) {
      if (!r.kind.outOfFold) continue;
      const column = findColumn(table, r.step.column);
      if (!column) throw new ConfigError(`the data has no column "${r.step.column}", which the featurizer needs`);
      r.kind.outOfFold(column, r.step.params, context, matrix, this.width, r.offset);
    }
  }

  /** One line per step: `column (type) → kind: summary`. */
  describe(): string[] {
    return this.resolved.map((r) => {
      const what = r.derived !== undefined ? `derived: ${this.deriver!.specs[r.derived]!.expression}` : r.dateOrder ? `${r.step.type} ${dateOrderPattern(r.dateOrder)}` : r.step.type;
      return `${r.step.column} (${what}) → ${r.kind.kind}: ${r.kind.summary(r.step.params, r.step.state)}`;
    });
  }
}

/**
 * The loaded custom kind a saved step names, when its module's sha256 is the one the step records.
 * The step's record only ever selects among kinds already loaded from paths the user gave.
 */
function customStepKind(step: FittedStep, i: number, unloaded: 'refuse' | 'describe'): FeaturizerKind {
  const origin: unknown = step.custom;
  const o = origin as Partial<CustomStepOrigin> | null;
  if (o === null || typeof o !== 'object' || typeof o.sha256 !== 'string' || typeof o.module !== 'string') {
    throw new ConfigError(`featurizer.json: steps[${i}].custom: must be {sha256, module, summary} (a custom featurizer's record)`);
  }
  const what = `featurizer.json: steps[${i}] (column ${JSON.stringify(step.column)}, custom featurizer "${step.kind}")`;
  const loaded = customKind(step.kind);
  if (!loaded) {
    if (unloaded === 'describe') return describeOnly(step, o as CustomStepOrigin);
    throw new ConfigError(
      `${what} needs its module ${o.module} (sha256 ${o.sha256}), which is not loaded; a bundle never contains code: give the module's path (serve and predict: --featurizer-module ${step.kind}=PATH)`,
    );
  }
  if (loaded.sha256 !== o.sha256) {
    throw new VerificationError(loaded.path, `${what} was fitted with ${o.module} of sha256 ${o.sha256}, but the loaded ${loaded.path} has sha256 ${loaded.sha256}: refusing to use a different module`);
  }
  return loaded.kind;
}

/** A stand-in for a custom kind that is not loaded: it has the step's outputs and summary, and transforms nothing. */
function describeOnly(step: FittedStep, origin: CustomStepOrigin): FeaturizerKind {
  const refuse = (): never => {
    throw new ConfigError(`custom featurizer "${step.kind}" (${origin.module}, sha256 ${origin.sha256}) is not loaded: give its module's path (--featurizer-module ${step.kind}=PATH)`);
  };
  return {
    kind: step.kind,
    description: `custom featurizer from ${origin.module} (not loaded)`,
    accepts: [step.type],
    params: refuse,
    fit: refuse,
    outputs: () => (Array.isArray(step.outputs) ? step.outputs : refuse()),
    transform: refuse,
    summary: () => (typeof origin.summary === 'string' ? origin.summary : `custom featurizer from ${origin.module}`),
  };
}

/**
 * Why a record's value is not a date of a column with a day/month order: the order it was trained
 * with, and that ISO dates are accepted too.
 */
function notDateInOrder(order: DateOrder, raw: unknown): string {
  return `must be a date (${dateOrderPattern(order)}, as in training, or ISO like 2024-03-05), got ${describeRawValue(raw)}`;
}

/** The day/month order of each saved input that has one; ConfigError for a malformed one. */
function savedDateOrders(pipeline: FittedPipeline): Map<string, DateOrder> {
  const orders = new Map<string, DateOrder>();
  (Array.isArray(pipeline.inputs) ? pipeline.inputs : []).forEach((input, i) => {
    const order: unknown = input?.dateOrder;
    if (order === undefined) return;
    if (input.type !== 'datetime' || !(DATE_ORDERS as readonly unknown[]).includes(order)) {
      throw new ConfigError(`featurizer.json: inputs[${i}].dateOrder: must be ${DATE_ORDERS.join(' or ')} on a datetime input (the day/month order of its dates), got ${JSON.stringify(order)}`);
    }
    orders.set(input.name, order as DateOrder);
  });
  return orders;
}

/** The Deriver of a saved pipeline's `derive` list (types of its inputs from `inputs`); ConfigError when malformed. */
function savedDeriver(pipeline: FittedPipeline): Deriver | undefined {
  const derive: unknown = pipeline.derive;
  if (derive === undefined) return undefined;
  if (pipeline.formatVersion === 1 || !Array.isArray(derive) || !derive.every((d) => typeof d?.name === 'string' && typeof d?.expression === 'string')) {
    throw new ConfigError('featurizer.json: derive must be a list of {name, expression} strings (format version 2)');
  }
  const columns = new Map((pipeline.inputs ?? []).map((c) => [c.name, c.type]));
  try {
    return new Deriver(derive as DeriveSpec[], columns);
  } catch (err) {
    if (!(err instanceof DeriveError)) throw err;
    const d = derive[err.index] as DeriveSpec;
    throw new ConfigError(`featurizer.json: derive[${err.index}] (${JSON.stringify(d.name)}): ${err.problem}`);
  }
}
