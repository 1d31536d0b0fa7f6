/**
 * Derived columns (`features.derive` in pipeline.yaml): new numeric columns computed from a record's
 * input columns by a small expression language (expression/), e.g. `ratio: "income / (debt + 1)"`.
 *
 * Values: numbers and integers as they are, booleans as 1/0, datetimes as days since 1970-01-01 UTC
 * (fractional). A derived value is missing when a column it reads is missing, and when any step gives
 * a number that is not finite (division by zero, `log(0)`, `sqrt(-1)`).
 *
 * A fitted featurizer stores the expressions as text (featurizer format 2), backtick quotes included,
 * re-parsed on load by this same code: a bundle stays data, and the same text gives the same values in
 * `featurize`, `predict` and `serve`. (An mlpipe without backtick quoting refuses such a bundle at load
 * with a syntax error; it can never compute something else from it.)
 */
import { suggest } from '../suggest.js';
import type { Cell, ColumnType } from '../values.js';
import { evaluate } from './expression/evaluate.js';
import { type ExprNode, ExpressionError, type ParsedExpression, RESERVED } from './expression/language.js';
import { isReferenceableName, referenceOf } from './expression/names.js';
import { parseExpression } from './expression/parse.js';

/** One derived column as written in a config and saved in `featurizer.json`. */
export interface DeriveSpec {
  /** The derived column's name (an identifier). */
  name: string;
  /** The expression, as written. */
  expression: string;
}

/** Column types an expression can read. */
const DERIVE_INPUT_TYPES: readonly ColumnType[] = ['number', 'integer', 'boolean', 'datetime'];

const MS_PER_DAY = 86_400_000;

/** A cell of a readable column as an expression value: booleans 1/0, datetimes in days; NaN when missing. */
function cellNumber(type: ColumnType, cell: Cell): number {
  if (cell === null) return Number.NaN;
  if (type === 'boolean') return cell === true ? 1 : 0;
  if (type === 'datetime') return (cell as number) / MS_PER_DAY;
  return typeof cell === 'number' ? cell : Number.NaN;
}

/** A problem with derived column `index` of a list; callers add the config path or file. */
export class DeriveError extends Error {
  readonly index: number;
  readonly problem: string;
  constructor(index: number, problem: string) {
    super(problem);
    this.index = index;
    this.problem = problem;
  }
}

/** An input column an expression reads. */
export interface DeriveInput {
  name: string;
  type: ColumnType;
}

interface Bound {
  spec: DeriveSpec;
  root: ExprNode;
  /** Slots of the values it reads: if any is missing, so is the result. */
  reads: number[];
}

/**
 * Checks a list of derived columns without the data (at config read time): names, syntax, the
 * functions used, no use of itself or of a later derived column. Throws DeriveError for the first
 * problem. Names that are neither derived nor functions are assumed to be input columns, checked
 * once the data is known ({@link Deriver}).
 */
export function checkDerivations(specs: readonly DeriveSpec[]): void {
  bind(specs, undefined);
}

function parseAt(spec: DeriveSpec, i: number): ParsedExpression {
  try {
    return parseExpression(spec.expression);
  } catch (err) {
    if (err instanceof ExpressionError) throw new DeriveError(i, `${err.problem}${err.position !== undefined ? ` at character ${err.position} of ${JSON.stringify(spec.expression)}` : ` in ${JSON.stringify(spec.expression)}`}`);
    throw err;
  }
}

function bind(specs: readonly DeriveSpec[], columns: ReadonlyMap<string, ColumnType> | undefined): { bound: Bound[]; inputs: DeriveInput[] } {
  const inputs: DeriveInput[] = [];
  const inputSlot = new Map<string, number>();
  const derivedAt = new Map(specs.map((s, i) => [s.name, i]));
  const parsed: ParsedExpression[] = [];
  specs.forEach((spec, i) => {
    if (!isReferenceableName(spec.name)) {
      throw new DeriveError(i, RESERVED.has(spec.name) ? `"${spec.name}" is a function or operator name; choose another name` : 'a derived column name is letters, digits and _ (not starting with a digit), so that expressions can use it');
    }
    if (columns?.has(spec.name)) throw new DeriveError(i, `"${spec.name}" is already a column of the data; give the derived column another name`);
    if (derivedAt.get(spec.name) !== i) throw new DeriveError(i, `"${spec.name}" is derived twice`);
    const p = parseAt(spec, i);
    for (const name of p.names) {
      const at = derivedAt.get(name);
      if (at === i) throw new DeriveError(i, `uses itself ("${name}")`);
      if (at !== undefined && at > i) throw new DeriveError(i, `uses "${name}", which is derived after it; a derived column may only use columns derived before it (move "${name}" up)`);
      if (at !== undefined || columns === undefined) continue;
      const type = columns.get(name);
      if (type === undefined) {
        const hint = suggest(name, [...columns.keys(), ...specs.slice(0, i).map((s) => s.name)]);
        // A name that needs backticks is suggested as it must be written.
        const written = hint === undefined ? '' : isReferenceableName(hint) ? ` (did you mean "${hint}"?)` : ` (did you mean ${referenceOf(hint)}?)`;
        throw new DeriveError(i, `no column "${name}" in the dataset${written}`);
      }
      if (!DERIVE_INPUT_TYPES.includes(type)) throw new DeriveError(i, `"${name}" is a ${type} column; expressions read number, integer, boolean and datetime columns`);
      if (!inputSlot.has(name)) {
        inputSlot.set(name, inputs.length);
        inputs.push({ name, type });
      }
    }
    parsed.push(p);
  });
  // Slots: the inputs first, then the derived columns in order.
  const slotOf = (name: string) => inputSlot.get(name) ?? inputs.length + (derivedAt.get(name) ?? 0);
  const bound = parsed.map((p, i) => {
    const assign = (n: ExprNode): void => {
      if (n.t === 'var') n.slot = slotOf(n.name);
      else if (n.t === 'un') assign(n.a);
      else if (n.t === 'bin' || n.t === 'and' || n.t === 'or') {
        assign(n.a);
        assign(n.b);
      } else if (n.t === 'if') {
        assign(n.c);
        assign(n.a);
        assign(n.b);
      } else if (n.t === 'min' || n.t === 'max') n.args.forEach(assign);
    };
    assign(p.root);
    return { spec: specs[i]!, root: p.root, reads: p.names.map(slotOf) };
  });
  return { bound, inputs };
}

/**
 * Computes derived columns from input cells: the one code path of training (over a table), featurize,
 * `mlpipe predict` and the server (one record). Built from the expressions' text, parsed once.
 */
export class Deriver {
  readonly specs: readonly DeriveSpec[];
  /** The input columns read, in order of first use, with their types. */
  readonly inputs: readonly DeriveInput[];
  /** Derived column names, in order. */
  readonly names: readonly string[];
  private readonly bound: Bound[];
  private readonly env: Float64Array;

  /**
   * Parses and checks the expressions against the input columns' types. Throws DeriveError naming
   * the derived column (index) for an unknown name (with a suggestion), a name clash, an unreadable
   * column type, a syntax error or a forward reference.
   */
  constructor(specs: readonly DeriveSpec[], columns: ReadonlyMap<string, ColumnType>) {
    const { bound, inputs } = bind(specs, columns);
    this.specs = specs;
    this.bound = bound;
    this.inputs = inputs;
    this.names = specs.map((s) => s.name);
    this.env = new Float64Array(inputs.length + specs.length);
  }

  /**
   * Writes the derived values (NaN when missing) into `out[0 .. names.length)`, from the normalized
   * cells of {@link inputs} in order (`cells[k]` belongs to `inputs[k]`).
   */
  derive(cells: readonly Cell[], out: Float64Array): void {
    const env = this.env;
    const n = this.inputs.length;
    for (let k = 0; k < n; k++) env[k] = cellNumber(this.inputs[k]!.type, cells[k] ?? null);
    for (let j = 0; j < this.bound.length; j++) {
      const b = this.bound[j]!;
      let v = Number.NaN;
      if (!b.reads.some((slot) => Number.isNaN(env[slot] as number))) v = evaluate(b.root, env);
      // -0 and 0 are the same feature value; keep matrices and JSON identical.
      if (v === 0) v = 0;
      env[n + j] = v;
      out[j] = v;
    }
  }
}
