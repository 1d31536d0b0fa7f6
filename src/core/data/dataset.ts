import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  Bool,
  type DataType,
  Dictionary,
  Field,
  Float64,
  Int32,
  RecordBatch,
  Schema,
  Struct,
  Table as ArrowTable,
  TimestampMillisecond,
  Type,
  Utf8,
  makeData,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { DataError, NotFoundError, messageOf } from '../errors.js';
import { writeFileAtomic } from '../fs-util.js';
import { type Column, type Table, emptyColumn, setCell } from '../table.js';
import { COLUMN_TYPES, type ColumnType } from '../values.js';
import type { Lineage } from '../lineage.js';

const FORMAT = 'mlpipe.dataset';
const FORMAT_VERSION = '1';

/**
 * `dictionaryId` must be stable: Arrow otherwise takes ids from a process-wide counter, and the id is
 * written into the IPC bytes, so equal tables would get different fingerprints.
 */
function arrowType(type: ColumnType, dictionaryId: number): DataType {
  switch (type) {
    case 'number':
    case 'integer':
      return new Float64();
    case 'datetime':
      return new TimestampMillisecond();
    case 'boolean':
      return new Bool();
    case 'category':
      return new Dictionary(new Utf8(), new Int32(), dictionaryId);
    case 'text':
      return new Utf8();
  }
}

function columnVector(col: Column, index: number) {
  const type = arrowType(col.type, index);
  if (col.type === 'number' || col.type === 'integer' || col.type === 'datetime') {
    const values = Array.from(col.values, (v) => (Number.isNaN(v) ? null : v));
    return vectorFromArray(values, type);
  }
  return vectorFromArray(col.values as unknown[], type);
}

function toArrow(table: Table, metadata: Map<string, string>): ArrowTable {
  const vectors = table.columns.map((col, i) => columnVector(col, i));
  const fields = table.columns.map(
    (col, i) => new Field(col.name, vectors[i]!.type, true, new Map([['mlpipe.type', col.type]])),
  );
  const schema = new Schema(fields, metadata);
  const data = makeData({
    type: new Struct(fields),
    length: table.rowCount,
    nullCount: 0,
    children: vectors.map((v) => v.data[0]!),
  });
  return new ArrowTable(schema, [new RecordBatch(schema, data)]);
}

/**
 * The content fingerprint of a table: sha256 of its Arrow IPC form without dataset metadata, so the
 * same data always gives the same fingerprint whatever its lineage or load time.
 */
export function fingerprintTable(table: Table): string {
  const bytes = tableToIPC(toArrow(table, new Map()), 'file');
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A dataset file's contents: the typed table and the lineage recorded when it was written. */
export interface Dataset {
  table: Table;
  lineage: Lineage | undefined;
}

/**
 * Writes a table as an Apache Arrow IPC file with each column's mlpipe type in its field metadata and
 * the lineage in the schema metadata. Written to a temporary file and renamed, so a failure never
 * leaves a partial dataset behind.
 */
export async function writeDataset(path: string, table: Table, lineage: Lineage | null): Promise<void> {
  const metadata = new Map([
    ['mlpipe.format', FORMAT],
    ['mlpipe.formatVersion', FORMAT_VERSION],
  ]);
  if (lineage) metadata.set('mlpipe.lineage', JSON.stringify(lineage));
  const bytes = tableToIPC(toArrow(table, metadata), 'file');
  await writeFileAtomic(path, bytes);
}

function typeOfField(field: Field): ColumnType {
  const declared = field.metadata.get('mlpipe.type');
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

function normalizeArrowValue(type: ColumnType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (type === 'category' || type === 'text') return typeof v === 'string' ? v : String(v);
  return v;
}

/**
 * Reads a dataset written by {@link writeDataset} (or any Arrow IPC file with plain column types).
 * Throws {@link NotFoundError} for a missing file and {@link DataError} for a file that is not Arrow.
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
    arrow = tableFromIPC(bytes);
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
    const column = emptyColumn(field.name, type, arrow.numRows);
    if (vector) {
      let i = 0;
      for (const v of vector) {
        setCell(column, i, normalizeArrowValue(type, v) as never);
        i++;
      }
    }
    columns.push(column);
  }
  const lineageText = arrow.schema.metadata.get('mlpipe.lineage');
  let lineage: Lineage | undefined;
  if (lineageText) {
    try {
      lineage = JSON.parse(lineageText) as Lineage;
    } catch {
      lineage = undefined;
    }
  }
  return { table: { columns, rowCount: arrow.numRows }, lineage };
}
