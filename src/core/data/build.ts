import { DataError } from '../errors.js';
import { SpellingCounter, type TruthSpellings } from '../spellings.js';
import { type Column, type Table, emptyColumn, setCell } from '../table.js';
import { CellError, type ColumnType, type DateOrder, type DeclaredType, splitDeclaredType, toCell } from '../values.js';
import { TypeInferrer } from './infer.js';
import type { RawTable } from './files.js';
import { ownValue } from '../records/dict.js';

/** Options of {@link buildTable}. */
export interface BuildOptions {
  /** Declared column types that replace inference (`{zip: 'category'}`, `{day: 'datetime:dmy'}`). */
  types?: Record<string, DeclaredType>;
}

/**
 * Types raw rows: infers each column's type over all its values (unless declared) and converts every
 * value with the shared {@link toCell}; a boolean column keeps the spellings of its values. A value that contradicts a declared type is a
 * {@link DataError} naming source, row, line and column.
 */
export function buildTable(raw: RawTable, options: BuildOptions = {}): Table {
  const declared = options.types ?? {};
  const present = new Set(raw.columnNames);
  for (const name of Object.keys(declared)) {
    if (!present.has(name)) {
      throw new DataError({ source: raw.source, column: name }, `a type is declared for this column but the source has no such column (columns: ${raw.columnNames.join(', ')})`);
    }
  }
  const columns: Column[] = raw.columnNames.map((name, j) => {
    const declaredType = ownValue(declared, name);
    const given = declaredType === undefined ? undefined : splitDeclaredType(declaredType);
    let type: ColumnType | undefined = given?.type;
    let dateOrder: DateOrder | undefined = given?.dateOrder;
    // A plain `datetime` learns the day/month order of its numeric dates as an undeclared column does.
    if (type === undefined || (type === 'datetime' && dateOrder === undefined)) {
      const inferrer = new TypeInferrer();
      for (const row of raw.rows) inferrer.add(row[j]);
      type ??= inferrer.result();
      if (type === 'datetime') dateOrder = inferrer.dateOrder();
    }
    let truthSpellings: TruthSpellings | undefined;
    if (type === 'boolean') {
      const counter = new SpellingCounter();
      for (const row of raw.rows) counter.add(row[j]);
      truthSpellings = counter.result().spellings;
    }
    const column = emptyColumn(name, type, raw.rows.length, { dateOrder, truthSpellings });
    for (let i = 0; i < raw.rows.length; i++) {
      try {
        setCell(column, i, toCell(type, raw.rows[i]?.[j], dateOrder));
      } catch (err) {
        if (!(err instanceof CellError)) throw err;
        throw new DataError({ source: raw.source, row: i + 1, line: raw.lines?.[i], column: name }, `${err.message} (column type ${type})`);
      }
    }
    return column;
  });
  return { columns, rowCount: raw.rows.length };
}
