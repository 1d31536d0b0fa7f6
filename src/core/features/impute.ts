import { type Column, cellAt } from '../table.js';
import { ParamError, param } from './params.js';
import { meanOf, modeSorted, quantileSorted, sortedPresent } from './stats.js';

/** Strategies for filling a missing number. */
const NUMERIC_IMPUTE = ['median', 'mean', 'most_frequent', 'constant'] as const;

/**
 * Imputation parameters shared by every numeric kind (`numeric`, `standard-scale`, `min-max`, …).
 * The fill is learnt on the raw values at fit; a kind then transforms the filled value like any other.
 */
export type NumericImputeParams = {
  /** How a missing value is filled: the training median (default), mean, most frequent value (ties → smallest), or `fillValue`. */
  impute: (typeof NUMERIC_IMPUTE)[number];
  /**
   * The fill for `impute: constant` (default 0); null with another `impute`. Giving `fillValue` alone
   * implies `impute: constant`; beside another `impute` it is ignored.
   */
  fillValue: number | null;
  /** Add a `<column>__missing` 0/1 feature: always, never, or (`auto`, default) when the training data had missing values. */
  indicator: boolean | 'auto';
};

/** The parameter names of {@link NumericImputeParams}. */
export const NUMERIC_IMPUTE_KEYS = ['impute', 'fillValue', 'indicator'] as const;

/** The learnt part of numeric imputation: the fill (in the column's own units) and whether the indicator is written. */
export type NumericFill = { fill: number; indicator: boolean };

/**
 * Reads and checks {@link NumericImputeParams}; throws ParamError. `fillValue` alone implies
 * `impute: constant`; beside another `impute` it is ignored (read as null) rather than refused, so
 * that parameters saved by earlier versions (which always held a `fillValue`) still read back.
 */
export function numericImputeParams(raw: Record<string, unknown>): NumericImputeParams {
  const given = raw.fillValue === null ? undefined : raw.fillValue;
  const impute = param.oneOf(raw, 'impute', NUMERIC_IMPUTE, given !== undefined ? 'constant' : 'median');
  const fillValue = param.number({ fillValue: given }, 'fillValue', 0);
  return { impute, fillValue: impute === 'constant' ? fillValue : null, indicator: param.autoBoolean(raw, 'indicator') };
}

/** Counts missing values (NaN or null) in a column. */
export function countMissing(column: Column): number {
  let n = 0;
  for (let i = 0; i < column.values.length; i++) {
    const v = column.values[i];
    if (v === null || (typeof v === 'number' && Number.isNaN(v))) n++;
  }
  return n;
}

/** Learns the fill of a numeric column (from its present values, `sorted` when the caller has them already). */
export function fitNumericFill(column: Column, params: NumericImputeParams, sorted?: Float64Array): NumericFill {
  const values = column.values as Float64Array;
  let fill: number;
  switch (params.impute) {
    case 'mean':
      fill = meanOf(values);
      break;
    case 'median':
      fill = quantileSorted(sorted ?? sortedPresent(values), 0.5);
      break;
    case 'most_frequent':
      fill = modeSorted(sorted ?? sortedPresent(values));
      break;
    default:
      fill = params.fillValue ?? 0;
  }
  const indicator = params.indicator === 'auto' ? countMissing(column) > 0 : params.indicator;
  return { fill, indicator };
}

/** Output names of a one-output numeric kind: `name` (default: the column), then `<column>__missing` with the indicator. */
export function imputedOutputs(column: string, state: NumericFill, name = column): string[] {
  return state.indicator ? [name, `${column}__missing`] : [name];
}

/** `missing → median 44.5 + missing indicator`: the imputation part of a summary. */
export function imputeSummary(params: NumericImputeParams, state: NumericFill): string {
  const fill = params.impute === 'constant' ? `constant ${state.fill}` : `${params.impute} ${round(state.fill)}`;
  return `missing → ${fill}${state.indicator ? ' + missing indicator' : ''}`;
}

/** Rounds for display (6 significant digits). */
export function round(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
}

/** Strategies for a missing category: its own slot (default), the most frequent value, or `fillValue`. */
const CATEGORY_IMPUTE = ['missing', 'most_frequent', 'constant'] as const;

/** Imputation parameters shared by the categorical kinds (`one-hot`, `ordinal`, `frequency`, `target`). */
export type CategoryImputeParams = {
  /**
   * `missing` (default): a missing value is its own category (its own slot or code); `most_frequent`:
   * it is read as the most frequent training value; `constant`: it is read as `fillValue`.
   */
  impute: (typeof CATEGORY_IMPUTE)[number];
  /** The value a missing one is read as with `impute: constant` (null otherwise). Giving `fillValue` alone implies `impute: constant`. */
  fillValue: string | null;
};

/** The parameter names of {@link CategoryImputeParams}. */
export const CATEGORY_IMPUTE_KEYS = ['impute', 'fillValue'] as const;

/**
 * Reads and checks {@link CategoryImputeParams}; throws ParamError. `fillValue` alone implies
 * `impute: constant`, which needs it; beside another `impute` it is ignored (and read as null).
 */
export function categoryImputeParams(raw: Record<string, unknown>): CategoryImputeParams {
  const given = param.category(raw, 'fillValue');
  const impute = param.oneOf(raw, 'impute', CATEGORY_IMPUTE, given !== undefined ? 'constant' : 'missing');
  if (impute === 'constant' && given === undefined) throw new ParamError('fillValue', 'is required with impute: constant (the value a missing one is read as)');
  return { impute, fillValue: impute === 'constant' ? (given as string) : null };
}

/** Value counts of a categorical column, after imputation. */
export interface CategoryCounts {
  /** Count of each value (as text), missing values included under `missingAs` when it is set. */
  counts: Map<string, number>;
  /** Rows whose value was missing. */
  missing: number;
  /** What a missing value is read as (`most_frequent` / `constant`), or undefined (`missing`: its own slot). */
  missingAs: string | undefined;
}

/** Orders values by count (descending), ties by value (code-point order). */
export function byFrequency(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/**
 * Counts the values of a categorical column (rows restricted to `rows` when given) and applies the
 * imputation: with `most_frequent` the mode is taken over the present values (ties → first by value)
 * and the missing rows are counted as it; with `constant` they are counted as `fillValue`.
 */
export function countCategories(column: Column, params: CategoryImputeParams, rows?: ArrayLike<number>): CategoryCounts {
  const counts = new Map<string, number>();
  let missing = 0;
  const n = rows ? rows.length : column.values.length;
  for (let r = 0; r < n; r++) {
    const cell = cellAt(column, rows ? (rows[r] as number) : r);
    if (cell === null) missing++;
    else {
      const key = String(cell);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  let missingAs: string | undefined;
  if (params.impute === 'constant') missingAs = params.fillValue ?? '';
  else if (params.impute === 'most_frequent') missingAs = [...counts.entries()].sort(byFrequency)[0]?.[0];
  if (missingAs !== undefined && missing > 0) counts.set(missingAs, (counts.get(missingAs) ?? 0) + missing);
  return { counts, missing, missingAs };
}
