import type { TruthSpellings } from './spellings.js';
import { type Cell, type ColumnType, type DateOrder, dateOrderPattern } from './values.js';
import { dict } from './records/dict.js';

/**
 * An in-memory typed column. Numeric and datetime columns keep their values in a Float64Array with
 * NaN for a missing value (datetimes as epoch milliseconds, UTC); the others keep an array with
 * `null` for a missing value. A datetime column may carry the day/month order its numeric dates
 * were written in (learned at load or declared), which serving reads them with; a boolean column
 * may carry how its source spelled its values (`Yes`/`No`), which a prediction of it answers in.
 */
export type Column =
  | { name: string; type: 'number' | 'integer'; values: Float64Array; dateOrder?: undefined; truthSpellings?: undefined }
  | { name: string; type: 'datetime'; values: Float64Array; dateOrder?: DateOrder; truthSpellings?: undefined }
  | { name: string; type: 'boolean'; values: (boolean | null)[]; dateOrder?: undefined; truthSpellings?: TruthSpellings }
  | { name: string; type: 'category' | 'text'; values: (string | null)[]; dateOrder?: undefined; truthSpellings?: undefined };

/** What a column knows of its source beyond its type: a datetime's day/month order, a boolean's spellings. */
export interface ColumnFacts {
  dateOrder?: DateOrder | undefined;
  truthSpellings?: TruthSpellings | undefined;
}

/**
 * A column's type as people read it, with what it learned from its values: `datetime DD/MM/YYYY`,
 * `boolean Yes/No` (the spellings, true first), else the type.
 */
export function columnTypeLabel(c: { type: ColumnType } & ColumnFacts): string {
  if (c.type === 'datetime' && c.dateOrder) return `${c.type} ${dateOrderPattern(c.dateOrder)}`;
  if (c.type === 'boolean' && c.truthSpellings) return `${c.type} ${c.truthSpellings.true}/${c.truthSpellings.false}`;
  return c.type;
}

/** A typed table: the in-memory form of a dataset. */
export interface Table {
  columns: Column[];
  rowCount: number;
}

/** The cell at row `i` of a column, with missing values as `null`. */
export function cellAt(column: Column, i: number): Cell {
  const v = column.values[i];
  if (v === undefined) return null;
  if (typeof v === 'number' && Number.isNaN(v)) return null;
  return v;
}

/** Finds a column by exact name. */
export function findColumn(table: Table, name: string): Column | undefined {
  return table.columns.find((c) => c.name === name);
}

/**
 * Creates an empty column of a type, sized for `length` rows (a datetime column with its `dateOrder`,
 * a boolean column with its `truthSpellings`, when `facts` has them; other facts are ignored).
 */
export function emptyColumn(name: string, type: ColumnType, length: number, facts: ColumnFacts = {}): Column {
  const { dateOrder, truthSpellings } = facts;
  switch (type) {
    case 'number':
    case 'integer':
      return { name, type, values: new Float64Array(length).fill(Number.NaN) };
    case 'datetime':
      return { name, type, values: new Float64Array(length).fill(Number.NaN), ...(dateOrder !== undefined ? { dateOrder } : {}) };
    case 'boolean':
      return { name, type, values: new Array<boolean | null>(length).fill(null), ...(truthSpellings !== undefined ? { truthSpellings } : {}) };
    case 'category':
    case 'text':
      return { name, type, values: new Array<string | null>(length).fill(null) };
  }
}

/** Writes a normalized cell (of the column's own type) into row `i`. */
export function setCell(column: Column, i: number, cell: Cell): void {
  switch (column.type) {
    case 'number':
    case 'integer':
    case 'datetime':
      column.values[i] = cell === null ? Number.NaN : (cell as number);
      return;
    case 'boolean':
      column.values[i] = cell as boolean | null;
      return;
    case 'category':
    case 'text':
      column.values[i] = cell as string | null;
      return;
  }
}

/** Keeps only the rows whose index is in `rows`, in that order. */
export function selectRows(table: Table, rows: ArrayLike<number>): Table {
  const columns = table.columns.map((col): Column => {
    const out = emptyColumn(col.name, col.type, rows.length, col);
    for (let i = 0; i < rows.length; i++) setCell(out, i, cellAt(col, rows[i] as number));
    return out;
  });
  return { columns, rowCount: rows.length };
}

/** The row at index `i` as a plain record (missing values as null, datetimes as epoch ms). */
export function recordAt(table: Table, i: number): Record<string, Cell> {
  const rec = dict<Cell>(); // keyed by column names, which are data
  for (const col of table.columns) rec[col.name] = cellAt(col, i);
  return rec;
}
