/**
 * How mlpipe reads one cell, shared by loading (type inference, dataset writing) and by featurizers at
 * training and serving time. Keeping this in one module is what makes "the same value means the same
 * thing in training and in serving" true: a CSV cell, a JSON value and a dataset value all pass through
 * {@link toCell}.
 */

import { parseBoolean } from './values/boolean.js';
import { type Cell, type ColumnType, type DateOrder, dateOrderPattern } from './values/column-types.js';
import { parseDatetime } from './values/date.js';
import { isMissing } from './values/missing.js';
import { parseNumber } from './values/number.js';

// The readers of each kind of value live in values/ (one file a kind); this module is the one door to
// them, so that every caller reads a cell the same way, and it holds the conversion they serve.
export * from './values/boolean.js';
export * from './values/column-types.js';
export { isSpace } from './values/chars.js';
export * from './values/date.js';
export * from './values/missing.js';
export * from './values/number.js';
export * from './values/numeric-date.js';

/** Why {@link toCell} refused a value, e.g. `expected a number, got "abc"`. */
export class CellError extends Error {}

/** A raw value for a message: a string quoted (cut at 40 characters), `an array`, `an object`, or as written. */
export function describeRawValue(raw: unknown): string {
  return describe(raw);
}

function describe(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
  if (Array.isArray(raw)) return 'an array';
  if (raw !== null && typeof raw === 'object') return 'an object';
  return String(raw);
}

/**
 * Normalizes one raw value (a CSV string, a JSON value, a dataset value) to a {@link Cell} of the given
 * column type. Missing values become `null`. Throws {@link CellError} when the value cannot be of that
 * type; the caller adds file/row/column or the JSON path. A datetime column's `dateOrder` (learned or
 * declared) says how its numeric dates with the year last (`03/05/2024`) read; without one they are
 * refused, as ambiguous.
 */
export function toCell(type: ColumnType, raw: unknown, dateOrder?: DateOrder): Cell {
  if (isMissing(raw)) return null;
  switch (type) {
    case 'number':
    case 'integer': {
      if (typeof raw === 'number') {
        if (!Number.isFinite(raw)) throw new CellError(`expected a finite number, got ${describe(raw)}`);
        return raw;
      }
      if (typeof raw === 'string') {
        const n = parseNumber(raw);
        if (Number.isNaN(n)) throw new CellError(`expected a number, got ${describe(raw)}`);
        return n;
      }
      // A database's 64-bit integer: a float64 like every number (beyond 2^53 it is rounded).
      if (typeof raw === 'bigint') return Number(raw);
      throw new CellError(`expected a number, got ${describe(raw)}`);
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string') {
        const b = parseBoolean(raw);
        if (b === undefined) throw new CellError(`expected a boolean (true/false), got ${describe(raw)}`);
        return b;
      }
      throw new CellError(`expected a boolean (true/false), got ${describe(raw)}`);
    }
    case 'datetime': {
      if (typeof raw === 'number') {
        if (!Number.isFinite(raw)) throw new CellError(`expected a date, got ${describe(raw)}`);
        return raw;
      }
      if (raw instanceof Date) {
        const t = raw.getTime();
        if (Number.isNaN(t)) throw new CellError('expected a date, got an invalid Date');
        return t;
      }
      if (typeof raw === 'string') {
        const t = parseDatetime(raw, dateOrder);
        if (Number.isNaN(t)) {
          if (dateOrder !== undefined) throw new CellError(`expected a date as ${dateOrderPattern(dateOrder)} (the column's order) or like 2024-03-05, got ${describe(raw)}`);
          throw new CellError(`expected a date like 2024-03-05, 2024-03-05T14:30:00Z or Mar 5 2024, got ${describe(raw)}`);
        }
        return t;
      }
      throw new CellError(`expected a date, got ${describe(raw)}`);
    }
    case 'category':
    case 'text': {
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') return String(raw);
      // A spreadsheet's or database's date in a column with other values: its ISO text, as inference counted it.
      if (raw instanceof Date && !Number.isNaN(raw.getTime())) return raw.toISOString();
      throw new CellError(`expected a string, got ${describe(raw)}`);
    }
  }
}
