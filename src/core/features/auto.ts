import { ConfigError } from '../errors.js';
import { suggest } from '../suggest.js';
import { type Column, type Table, cellAt } from '../table.js';
import type { ColumnType } from '../values.js';
import { parseExpression } from './expression/parse.js';
import { type DerivePlan, type FeaturePlan, type StepPlan, planDeriver } from './fit-pipeline.js';
import type { DroppedColumn } from './types.js';
import { ownValue } from '../records/dict.js';

/** A per-column choice in a config: a featurizer (kind + parameters) or `drop`. */
export type ColumnChoice = 'drop' | { kind?: string; [param: string]: unknown };

/**
 * An item of `features.drop`: a column name, every column of a type (`{type: text}`), or every
 * column whose name matches a regular expression (`{pattern: "^id_"}`, JavaScript syntax, searched
 * anywhere in the name: anchor it to match whole names).
 */
export type ColumnSelector = string | { type: ColumnType } | { pattern: string };

/** Options of {@link planFeatures}. */
export interface PlanOptions {
  /** The target column: never a feature. */
  target: string;
  /** Columns to leave out: names, types or name patterns. A column named in `columns` is kept even when a type or pattern matches it. */
  drop?: ColumnSelector[];
  /** Per-column choices that replace the automatic one. */
  columns?: Record<string, ColumnChoice>;
  /** Config lines of the entries (`features.drop[0]`, `features.columns.age`), added to error messages. */
  lines?: Record<string, number>;
  /** Derived columns (`features.derive`): numeric columns featurized with `numeric` unless `columns` says otherwise. */
  derive?: DerivePlan[];
  /** Input columns a record must have at prediction time (`features.required`); checked when the pipeline is fitted. */
  required?: string[];
}

/** A category with at least this share of distinct values (over enough rows) is treated as id-like. */
const NEAR_ID_SHARE = 0.95;
const NEAR_ID_MIN_ROWS = 20;

const ID_NAME = /(^|[\s_.-])id$|^id([\s_.-]|$)|[a-z]Id$|^(uuid|guid|index|row)$/i;

interface ColumnStats {
  present: number;
  distinct: number;
}

function stats(column: Column): ColumnStats {
  const seen = new Set<string | number | boolean>();
  let present = 0;
  for (let i = 0; i < column.values.length; i++) {
    const cell = cellAt(column, i);
    if (cell === null) continue;
    present++;
    seen.add(cell);
  }
  return { present, distinct: seen.size };
}

/** True when a fully distinct integer column is a row number or key rather than a measurement. */
function integerLooksLikeId(column: Column, s: ColumnStats): boolean {
  if (s.distinct !== s.present || s.present < 2) return false;
  if (ID_NAME.test(column.name)) return true;
  let min = Infinity;
  let max = -Infinity;
  for (const v of column.values as Float64Array) {
    if (Number.isNaN(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  // Consecutive integers are a row number when they count from 0 or 1; from elsewhere (1880…2016)
  // they are more likely a measurement, such as a year.
  return max - min + 1 === s.present && (min === 0 || min === 1);
}

/**
 * The automatic choice for one column, or why it is dropped:
 * numbers → `numeric` (median imputation + missing indicator when values are missing);
 * categories → `one-hot` of the frequent values + `<other>`; booleans → `boolean`;
 * datetimes → `datetime-parts`; free text, id-like columns (every value distinct, or ≥ 95% of them
 * over 20 or more rows, for categories), constant and
 * empty columns are dropped with the reason.
 */
export function autoChoice(column: Column): { kind: string } | { drop: string } {
  const s = stats(column);
  if (s.present === 0) return { drop: 'no values: every row is missing' };
  if (s.distinct === 1) return { drop: 'constant: a single value in every row' };
  switch (column.type) {
    case 'text':
      // tfidf and hashing exist, but each adds dozens to hundreds of columns: a choice to make, not a default.
      return { drop: 'free text: not featurized automatically (choose kind: tfidf or hashing for it in features.columns, or declare it a category)' };
    case 'category':
      if (s.distinct === s.present && s.present >= 2) return { drop: 'id-like: every value is distinct' };
      // Titles, names, free-form codes: a handful of repeats among thousands of values is noise.
      if (s.present >= NEAR_ID_MIN_ROWS && s.distinct >= NEAR_ID_SHARE * s.present) {
        return { drop: `id-like: ${Math.round((100 * s.distinct) / s.present)}% of the values are distinct` };
      }
      return { kind: 'one-hot' };
    case 'integer':
      if (integerLooksLikeId(column, s)) return { drop: 'id-like: every value is distinct (a row number or key)' };
      return { kind: 'numeric' };
    case 'number':
      return { kind: 'numeric' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'datetime':
      return { kind: 'datetime-parts' };
  }
}

/** Describes a selector for messages and drop reasons: `type text`, `pattern ^id_`. */
function selectorText(selector: Exclude<ColumnSelector, string>): string {
  return 'type' in selector ? `type ${selector.type}` : `pattern ${selector.pattern}`;
}

/**
 * Plans the featurizers for every column but the target: the automatic choice, unless the options
 * drop the column or name a featurizer for it. Unknown column names in the options are ConfigErrors
 * with a suggestion (and the config line when known); a type or pattern that matches no column is not
 * an error (the same config may serve several tables).
 */
export function planFeatures(table: Table, options: PlanOptions): FeaturePlan {
  const derive = options.derive ?? [];
  // Unknown names (with a suggestion), clashes and unreadable column types, at the derived column's path and line.
  const derived: Column[] = derive.length > 0 ? planDeriver(derive, new Map(table.columns.map((c) => [c.name, c.type]))).names.map((name) => ({ name, type: 'number', values: new Float64Array(0) })) : [];
  for (const d of derive) {
    if (parseExpression(d.expression).names.includes(options.target)) {
      const path = d.path ?? `features.derive.${d.name}`;
      throw new ConfigError(`${path}: uses the target "${options.target}", which is unknown when predicting${d.line !== undefined ? ` (line ${d.line})` : ''}`);
    }
  }
  const names = [...table.columns.map((c) => c.name), ...derived.map((c) => c.name)];
  const lines = options.lines ?? {};
  const at = (path: string) => (ownValue(lines, path) !== undefined ? ` (line ${lines[path]})` : '');
  const checkName = (name: string, path: string, linePath = path) => {
    if (!names.includes(name)) {
      const hint = suggest(name, names);
      throw new ConfigError(`${path}: no column "${name}" in the dataset${hint ? ` (did you mean "${hint}"?)` : ''}${at(linePath)}`);
    }
  };
  const drop = new Set<string>();
  const selectors: { selector: Exclude<ColumnSelector, string>; path: string; test: (column: Column) => boolean }[] = [];
  (options.drop ?? []).forEach((item, i) => {
    const path = `features.drop[${i}]`;
    if (typeof item === 'string') {
      checkName(item, 'features.drop', path);
      drop.add(item);
    } else if ('type' in item) {
      selectors.push({ selector: item, path, test: (c) => c.type === item.type });
    } else {
      let re: RegExp;
      try {
        re = new RegExp(item.pattern, 'u');
      } catch (err) {
        throw new ConfigError(`${path}.pattern: not a valid regular expression (${(err as Error).message})${at(path)}`);
      }
      selectors.push({ selector: item, path, test: (c) => re.test(c.name) });
    }
  });
  const choices = options.columns ?? {};
  for (const name of Object.keys(choices)) {
    const path = `features.columns.${name}`;
    checkName(name, path);
    if (name === options.target) throw new ConfigError(`${path}: "${name}" is the target; it cannot also be a feature${at(path)}`);
  }
  const steps: StepPlan[] = [];
  const dropped: DroppedColumn[] = [];
  const isDerived = new Set(derived.map((c) => c.name));
  // A derived column was asked for by name: `numeric` unless the config chooses (its values are not known yet).
  const auto = (column: Column) => (isDerived.has(column.name) ? { kind: 'numeric' } : autoChoice(column));
  for (const column of [...table.columns, ...derived]) {
    if (column.name === options.target) continue;
    const choice = ownValue(choices, column.name);
    if (drop.has(column.name) || choice === 'drop') {
      dropped.push({ column: column.name, type: column.type, reason: 'dropped by the config' });
      continue;
    }
    // A column the config names in features.columns is wanted: a broad type or pattern does not drop it.
    const selected = choice !== undefined ? undefined : selectors.find((s) => s.test(column));
    if (selected) {
      dropped.push({ column: column.name, type: column.type, reason: `dropped by the config (${selected.path}: ${selectorText(selected.selector)})` });
      continue;
    }
    if (choice !== undefined) {
      const { kind, ...params } = choice;
      const path = `features.columns.${column.name}`;
      const line = ownValue(lines, path);
      const withLine = line !== undefined ? { line } : {};
      if (kind !== undefined && typeof kind !== 'string') throw new ConfigError(`${path}.kind: must be a featurizer name${at(path)}`);
      const chosen = kind ?? auto(column);
      if (typeof chosen === 'string') {
        steps.push({ column: column.name, kind: chosen, params, path, ...withLine });
        continue;
      }
      if ('drop' in chosen) throw new ConfigError(`${path}: parameters are given but the column would be dropped (${chosen.drop}); name a "kind"${at(path)}`);
      steps.push({ column: column.name, kind: chosen.kind, params, path, ...withLine });
      continue;
    }
    const automatic = auto(column);
    if ('drop' in automatic) dropped.push({ column: column.name, type: column.type, reason: automatic.drop });
    else steps.push({ column: column.name, kind: automatic.kind });
  }
  const required = (options.required ?? []).map((column, i) => {
    const path = `features.required[${i}]`;
    return { column, path, ...(lines[path] !== undefined ? { line: lines[path] } : {}) };
  });
  return { ...(derive.length > 0 ? { derive } : {}), steps, dropped, ...(required.length > 0 ? { required } : {}) };
}
