import { ConfigError } from '../errors.js';
import { spell } from '../spellings.js';
import { type Column, cellAt } from '../table.js';
import { type ColumnType, parseBoolean } from '../values.js';
import type { Task } from './forest-format.js';

/** An integer target with at most this many distinct values is a classification target. */
const MAX_INTEGER_CLASSES = 20;

/**
 * The task a target column implies: categories and booleans are classification; integers with few
 * distinct values (≤ 20, and fewer than half the rows) are classification; other numbers regression.
 * Dates and free text cannot be targets.
 */
export function inferTask(type: ColumnType, values: readonly (string | number | boolean | null)[]): Task {
  switch (type) {
    case 'category':
    case 'boolean':
      return 'classification';
    case 'integer': {
      const distinct = new Set(values.filter((v) => v !== null)).size;
      return distinct <= MAX_INTEGER_CLASSES && distinct < Math.max(3, values.length / 2) ? 'classification' : 'regression';
    }
    case 'number':
      return 'regression';
    default:
      throw new ConfigError(`target: a ${type} column cannot be predicted; choose a category, boolean or numeric column`);
  }
}

/**
 * Class labels of a target, sorted: numerically for numeric targets, false before true for boolean
 * targets (however spelled: `No` before `Yes`, `no` before `YES`, so the second class is the true
 * one), by code point otherwise.
 */
export function classLabels(type: ColumnType, values: readonly (string | number | boolean | null)[]): string[] {
  const distinct = [...new Set(values.filter((v) => v !== null).map(String))];
  if (type === 'number' || type === 'integer') return distinct.sort((a, b) => Number(a) - Number(b));
  const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  if (type === 'boolean') return distinct.sort((a, b) => Number(parseBoolean(a) ?? 2) - Number(parseBoolean(b) ?? 2) || byCodePoint(a, b));
  return distinct.sort(byCodePoint);
}

/**
 * Target values of a column as plain cells (null when missing). A boolean column whose source spelled
 * its values (`Yes`/`No`) gives those spellings, so its class labels are the user's values.
 */
export function targetCells(column: Column): (string | number | boolean | null)[] {
  const spellings = column.type === 'boolean' ? column.truthSpellings : undefined;
  return Array.from({ length: column.values.length }, (_, i) => {
    const cell = cellAt(column, i);
    return typeof cell === 'boolean' ? spell(cell, spellings) : cell;
  });
}

/**
 * Turns class labels back into the target's own JSON values for output: numbers for numeric
 * targets; for a boolean target booleans when its labels are `true`/`false` (old bundles, columns
 * written true/false, JSON and SQL booleans), else the labels as the source spelled them (`Yes`,
 * `No`: see {@link targetCells}) — never a mix of the two; the label strings otherwise.
 */
export function labelValues(labels: readonly string[], type: ColumnType): (string | number | boolean)[] {
  if (type === 'number' || type === 'integer') {
    return labels.map((label) => {
      const n = Number(label);
      return Number.isFinite(n) ? n : label;
    });
  }
  if (type === 'boolean' && labels.every((label) => label === 'true' || label === 'false')) return labels.map((label) => label === 'true');
  return labels.slice();
}
