import type { Column } from '../table.js';
import { type DateOrder, isMissing, isMissingSpan, parseDatetime } from '../values.js';
import type { RawValue, TextRows } from './sources/types.js';
import { type SpoolChunk, type SpoolColumn, spooledValue } from './spool.js';
import type { DatasetSchema } from './table-sinks.js';

// Pass 2's shortcut (see streamLoad in type-chunks.ts): a spooled chunk made typed columns from what pass 1 computed.
/**
 * True when column `j` of a spooled chunk can be made a typed column without checking its values one
 * by one ({@link fastColumn}): inference computed its values for its type (pass 1), or it is a
 * category or text column of strings (which `toCell` takes as they are, missing tokens aside).
 */
function hasFastColumn({ type }: DatasetSchema[number], chunk: SpoolChunk, j: number): boolean {
  const spooled = chunk.columns[j];
  if (!spooled || 'values' in spooled) return false;
  switch (type) {
    case 'number':
    case 'integer':
      return spooled.typed?.numbers !== undefined;
    case 'datetime':
      return spooled.typed?.datetimes !== undefined;
    case 'boolean':
      return spooled.typed?.booleans !== undefined;
    case 'category':
    case 'text':
      return true;
  }
}

/**
 * Column `j` of a spooled chunk as a typed column, when {@link hasFastColumn}. Undefined in the one
 * case where a value could be refused after all: datetimes read again in the column's order that do
 * not read (which inference over the same values rules out).
 */
function fastColumn({ name, type, dateOrder }: DatasetSchema[number], chunk: SpoolChunk, j: number): Column | undefined {
  const spooled = chunk.columns[j] as Exclude<SpoolColumn, { values: RawValue[] }>;
  const typed = spooled.typed;
  switch (type) {
    case 'number':
    case 'integer':
      return { name, type, values: typed!.numbers! };
    case 'datetime': {
      // Pass 1 read this chunk's numeric dates in the order the column had learned by then: another
      // one (decided by a later value) means reading them again in the column's order.
      const read = typed!.dateOrder;
      const values = read === undefined || read === dateOrder ? typed!.datetimes! : datetimesInOrder(chunk, j, dateOrder);
      return values && { name, type, values };
    }
    case 'boolean':
      return { name, type, values: typed!.booleans! };
    case 'category':
    case 'text':
      return { name, type, values: 'span' in spooled ? spanStrings(chunk.spans!, spooled.span, chunk.rowCount) : joinedStrings(spooled.text, spooled.ends, chunk.rowCount) };
  }
}

/** Column `j` of a spooled chunk (strings) as datetimes read in `order`; undefined when a present value does not read. */
function datetimesInOrder(chunk: SpoolChunk, j: number, order: DateOrder | undefined): Float64Array | undefined {
  const n = chunk.rowCount;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const raw = spooledValue(chunk, j, i);
    if (isMissing(raw)) {
      values[i] = Number.NaN;
      continue;
    }
    const t = typeof raw === 'string' ? parseDatetime(raw, order) : Number.NaN;
    if (t !== t) return undefined;
    values[i] = t;
  }
  return values;
}

/** The typed columns of a spooled chunk without checking values one by one, when every column has them ({@link hasFastColumn}). */
export function fastColumns(schema: DatasetSchema, chunk: SpoolChunk): Column[] | undefined {
  if (!schema.every((c, j) => hasFastColumn(c, chunk, j))) return undefined;
  const columns: Column[] = [];
  for (let j = 0; j < schema.length; j++) {
    const column = fastColumn(schema[j]!, chunk, j);
    if (!column) return undefined;
    columns.push(column);
  }
  return columns;
}

/** Column `column` of rows as spans, as strings (null for a missing value). */
function spanStrings(spans: TextRows, column: number, n: number): (string | null)[] {
  const { text, width, starts, ends, escaped } = spans;
  const values = new Array<string | null>(n);
  for (let i = 0, k = column; i < n; i++, k += width) {
    const a = starts[k] as number;
    const b = ends[k] as number;
    const escapedValue = escaped === undefined ? undefined : escaped.get(k);
    if (escapedValue !== undefined) values[i] = isMissing(escapedValue) ? null : escapedValue;
    else values[i] = isMissingSpan(text, a, b) ? null : text.slice(a, b);
  }
  return values;
}

/** Values joined into one text with the end of each, as strings (null for a missing value). */
function joinedStrings(text: string, ends: Int32Array, n: number): (string | null)[] {
  const values = new Array<string | null>(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i] as number;
    const value = text.slice(start, end);
    values[i] = isMissing(value) ? null : value;
    start = end;
  }
  return values;
}
