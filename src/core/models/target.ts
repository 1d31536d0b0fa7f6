import { ConfigError } from '../errors.js';
import { type Column, cellAt } from '../table.js';
import type { ColumnType } from '../values.js';
import type { Task } from './forest-format.js';

/** An integer target with at most this many distinct values is a classification target. */
export const MAX_INTEGER_CLASSES = 20;

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

/** Class labels of a target, sorted: numerically for numeric targets, by code point otherwise. */
export function classLabels(type: ColumnType, values: readonly (string | number | boolean | null)[]): string[] {
  const distinct = [...new Set(values.filter((v) => v !== null).map(String))];
  if (type === 'number' || type === 'integer') return distinct.sort((a, b) => Number(a) - Number(b));
  return distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Target values of a column as plain cells (null when missing). */
export function targetCells(column: Column): (string | number | boolean | null)[] {
  return Array.from({ length: column.values.length }, (_, i) => cellAt(column, i));
}

/**
 * Turns a class label back into the target's own JSON type for output: numbers for numeric
 * targets, booleans for boolean targets, the label string otherwise.
 */
export function labelValue(label: string, type: ColumnType): string | number | boolean {
  if (type === 'number' || type === 'integer') {
    const n = Number(label);
    return Number.isFinite(n) ? n : label;
  }
  if (type === 'boolean') return label === 'true';
  return label;
}
