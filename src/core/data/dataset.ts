import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as Arrow from 'apache-arrow';
import type { DataType, Table as ArrowTable } from 'apache-arrow';
import { DataError, NotFoundError, messageOf } from '../errors.js';
import { type TruthSpellings, validSpellings } from '../spellings.js';
import { type Column, type ColumnFacts, type Table, emptyColumn, setCell } from '../table.js';
import { COLUMN_TYPES, type ColumnType, DATE_ORDERS, type DateOrder } from '../values.js';
import type { Lineage } from '../lineage.js';
import { fingerprintOf } from './fingerprint.js';

/**
 * apache-arrow through `require`, its CommonJS build, loaded when first needed: the same library
 * and version as `import 'apache-arrow'`, but it loads in about half the time (the ES module build is
 * two hundred modules to resolve and link), and the loader loads it while the source opens
 * ({@link loadArrow}). Every Arrow object this module and dataset-writer.ts make stays in them (they
 * return mlpipe tables and write bytes), so none meets an object of the other build.
 */
let arrowModule: typeof Arrow | undefined;
export function loadArrow(): typeof Arrow {
  return (arrowModule ??= createRequire(import.meta.url)('apache-arrow') as typeof Arrow);
}
type Field = Arrow.Field;
type Schema = Arrow.Schema;

/** The Arrow type a column of each mlpipe type is stored as. */
function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'number':
    case 'integer':
      return new (loadArrow().Float64)();
    case 'datetime':
      return new (loadArrow().TimestampMillisecond)();
    case 'boolean':
      return new (loadArrow().Bool)();
    case 'category':
    case 'text':
      return new (loadArrow().Utf8)();
  }
}

/**
 * The Arrow schema of a dataset: one nullable field per column with its mlpipe type in the field
 * metadata (`mlpipe.type`), and for a datetime column with a day/month order that order
 * (`mlpipe.dateOrder`: `mdy` or `dmy`), and for a boolean column that its source spelled other than
 * `true`/`false` those spellings (`mlpipe.truthSpellings`: `{"true":"Yes","false":"No"}`); readers
 * that do not know them ignore them.
 */
export function datasetSchema(columns: readonly ({ name: string; type: ColumnType } & ColumnFacts)[], metadata = new Map<string, string>()): Schema {
  const { Field, Schema } = loadArrow();
  const fields = columns.map((c) => {
    const fieldMetadata = new Map<string, string>([['mlpipe.type', c.type]]);
    if (c.type === 'datetime' && c.dateOrder !== undefined) fieldMetadata.set('mlpipe.dateOrder', c.dateOrder);
    if (c.type === 'boolean' && c.truthSpellings !== undefined) fieldMetadata.set('mlpipe.truthSpellings', JSON.stringify({ true: c.truthSpellings.true, false: c.truthSpellings.false }));
    return new Field(c.name, arrowType(c.type), true, fieldMetadata);
  });
  return new Schema(fields, metadata);
}

/** The day/month order recorded for a datetime field (`mlpipe.dateOrder`), if any. */
export function dateOrderOfField(field: Field, type: ColumnType): DateOrder | undefined {
  const order = field.metadata.get('mlpipe.dateOrder');
  return type === 'datetime' && order !== undefined && (DATE_ORDERS as readonly string[]).includes(order) ? (order as DateOrder) : undefined;
}

/** The spellings recorded for a boolean field (`mlpipe.truthSpellings`), if any and valid. */
export function truthSpellingsOfField(field: Field, type: ColumnType): TruthSpellings | undefined {
  const text = field.metadata.get('mlpipe.truthSpellings');
  if (type !== 'boolean' || text === undefined) return undefined;
  try {
    return validSpellings(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** The facts recorded for a field: a datetime's day/month order, a boolean's spellings. */
function factsOfField(field: Field, type: ColumnType): ColumnFacts {
  const dateOrder = dateOrderOfField(field, type);
  const truthSpellings = truthSpellingsOfField(field, type);
  return { ...(dateOrder !== undefined ? { dateOrder } : {}), ...(truthSpellings !== undefined ? { truthSpellings } : {}) };
}

/**
 * The content fingerprint of a table: sha256 over its column names, types and typed values in a
 * canonical encoding (src/core/data/fingerprint.ts), so the same data always gives the same
 * fingerprint whatever its source, chunking, lineage or load time. The streaming loader computes the
 * same value chunk by chunk.
 */
export function fingerprintTable(table: Table): string {
  return fingerprintOf(table);
}

/** A dataset file's contents: the typed table and the lineage recorded when it was written. */
export interface Dataset {
  table: Table;
  lineage: Lineage | undefined;
}


/** The mlpipe type of an Arrow field: its `mlpipe.type` metadata, else from the Arrow type. */
export function typeOfField(field: Field): ColumnType {
  const declared = field.metadata.get('mlpipe.type');
  const { Type } = loadArrow();
  if (declared && (COLUMN_TYPES as readonly string[]).includes(declared)) return declared as ColumnType;
  switch (field.typeId) {
    case Type.Bool:
      return 'boolean';
    case Type.Int:
      return 'integer';
    case Type.Float:
    case Type.Decimal:
      return 'number';
    case Type.Timestamp:
    case Type.Date:
      return 'datetime';
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Dictionary:
      return 'category';
    default:
      throw new Error(`column "${field.name}" has Arrow type ${String(field.type)}, which mlpipe cannot use`);
  }
}

/** An Arrow value as mlpipe reads it: numbers (datetimes as epoch ms), booleans, strings, null. */
export function normalizeArrowValue(type: ColumnType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (type === 'category' || type === 'text') return typeof v === 'string' ? v : String(v);
  return v;
}

/** The lineage stored in a dataset's schema metadata, if any. */
export function lineageOf(metadata: Map<string, string>): Lineage | undefined {
  const text = metadata.get('mlpipe.lineage');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Lineage;
  } catch {
    return undefined;
  }
}

/**
 * Reads a dataset written by {@link writeDataset} or {@link DatasetWriter} (format versions 1 and 2),
 * or any Arrow IPC file with plain column types, whole into memory. (`loadSource` reads datasets
 * batch by batch through the dataset source instead.) Throws {@link NotFoundError} for a missing file
 * and {@link DataError} for a file that is not Arrow.
 */
export async function readDataset(path: string): Promise<Dataset> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new NotFoundError(`${path}: file not found`);
  }
  let arrow: ArrowTable;
  try {
    arrow = loadArrow().tableFromIPC(bytes);
  } catch (err) {
    throw new DataError({ source: path }, `not an Arrow IPC dataset (${messageOf(err)})`);
  }
  const columns: Column[] = [];
  for (const field of arrow.schema.fields) {
    let type: ColumnType;
    try {
      type = typeOfField(field);
    } catch (err) {
      throw new DataError({ source: path, column: field.name }, messageOf(err));
    }
    const vector = arrow.getChild(field.name);
    const column = emptyColumn(field.name, type, arrow.numRows, factsOfField(field, type));
    if (vector) {
      let i = 0;
      for (const v of vector) {
        setCell(column, i, normalizeArrowValue(type, v) as never);
        i++;
      }
    }
    columns.push(column);
  }
  return { table: { columns, rowCount: arrow.numRows }, lineage: lineageOf(arrow.schema.metadata) };
}
