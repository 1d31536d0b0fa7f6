import { ConfigError } from '../errors.js';
import { suggest } from '../suggest.js';
import { type Column, type Table, cellAt } from '../table.js';
import type { FeaturePlan, StepPlan } from './pipeline.js';
import type { DroppedColumn } from './types.js';

/** A per-column choice in a config: a featurizer (kind + parameters) or `drop`. */
export type ColumnChoice = 'drop' | { kind?: string; [param: string]: unknown };

/** Options of {@link planFeatures}. */
export interface PlanOptions {
  /** The target column: never a feature. */
  target: string;
  /** Columns to leave out. */
  drop?: string[];
  /** Per-column choices that replace the automatic one. */
  columns?: Record<string, ColumnChoice>;
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
  return max - min + 1 === s.present;
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
      return { drop: 'free text: no text featurizer is available yet (drop it or declare it a category)' };
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

/**
 * Plans the featurizers for every column but the target: the automatic choice, unless the options
 * drop the column or name a featurizer for it. Unknown column names in the options are ConfigErrors
 * with a suggestion.
 */
export function planFeatures(table: Table, options: PlanOptions): FeaturePlan {
  const names = table.columns.map((c) => c.name);
  const checkName = (name: string, path: string) => {
    if (!names.includes(name)) {
      const hint = suggest(name, names);
      throw new ConfigError(`${path}: no column "${name}" in the dataset${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
  };
  const drop = new Set(options.drop ?? []);
  for (const name of drop) checkName(name, 'features.drop');
  const choices = options.columns ?? {};
  for (const name of Object.keys(choices)) {
    checkName(name, `features.columns.${name}`);
    if (name === options.target) throw new ConfigError(`features.columns.${name}: "${name}" is the target; it cannot also be a feature`);
  }
  const steps: StepPlan[] = [];
  const dropped: DroppedColumn[] = [];
  for (const column of table.columns) {
    if (column.name === options.target) continue;
    const choice = choices[column.name];
    if (drop.has(column.name) || choice === 'drop') {
      dropped.push({ column: column.name, type: column.type, reason: 'dropped by the config' });
      continue;
    }
    if (choice !== undefined) {
      const { kind, ...params } = choice;
      const path = `features.columns.${column.name}`;
      if (kind !== undefined && typeof kind !== 'string') throw new ConfigError(`${path}.kind: must be a featurizer name`);
      const chosen = kind ?? autoChoice(column);
      if (typeof chosen === 'string') {
        steps.push({ column: column.name, kind: chosen, params, path });
        continue;
      }
      if ('drop' in chosen) throw new ConfigError(`${path}: parameters are given but the column would be dropped (${chosen.drop}); name a "kind"`);
      steps.push({ column: column.name, kind: chosen.kind, params, path });
      continue;
    }
    const auto = autoChoice(column);
    if ('drop' in auto) dropped.push({ column: column.name, type: column.type, reason: auto.drop });
    else steps.push({ column: column.name, kind: auto.kind });
  }
  return { steps, dropped };
}
