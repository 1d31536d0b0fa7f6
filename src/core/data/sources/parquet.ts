/**
 * `.parquet` files, read with hyparquet one row group at a time: memory is bounded by the largest row
 * group, not by the file.
 */
import type { FileMetaData, SchemaElement, SchemaTree } from 'hyparquet';
import { DataError, MlpipeError, messageOf } from '../../errors.js';
import { sha256File } from '../../fs-util.js';
import type { ColumnType } from '../../values.js';
import { cleanHeader, statSourceFile } from '../files.js';
import type { FileSourceSpec, RawChunk, RawValue, RecordSource, SourceLineage } from './types.js';
import { readOnce } from './once.js';
import { dict } from '../../records/dict.js';

/**
 * A Parquet file. Column types come from its schema ({@link RecordSource.declaredTypes}): integers,
 * floating point and decimals, booleans, timestamps and dates; strings are left to inference (category
 * or text). Values: 64-bit integers become numbers when they fit exactly, else their decimal text;
 * timestamps and dates are Dates; nested values (lists, maps, structs) are their JSON text.
 */
export function parquetSource(spec: FileSourceSpec): RecordSource {
  const { path } = spec;
  const warnings: string[] = [];
  const declared = dict<ColumnType>();
  let bytes: number | undefined;
  let sha256: string | undefined;
  let rows = 0;

  async function* read(size: number): AsyncGenerator<RawChunk> {
    bytes = await statSourceFile(path);
    // Loaded when a Parquet file is read, not by every load.
    const { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } = await import('hyparquet');
    let metadata: FileMetaData;
    const file = await asyncBufferFromFile(path);
    try {
      metadata = await parquetMetadataAsync(file);
    } catch (err) {
      throw new DataError({ source: path }, `not a valid Parquet file: ${messageOf(err)}`, { cause: err });
    }
    const fields = parquetSchema(metadata).children;
    const names = fields.map((f) => f.element.name);
    const columns = cleanHeader(names, path, warnings);
    fields.forEach((field, i) => {
      const type = declaredType(field);
      if (type) declared[columns[i] as string] = type;
    });
    let start = 0;
    let emitted = false;
    for (const group of metadata.row_groups) {
      const end = start + Number(group.num_rows);
      if (end === start) continue;
      let groupRows: unknown[][] = [];
      try {
        await parquetRead({
          file,
          metadata,
          columns: names,
          rowStart: start,
          rowEnd: end,
          rowFormat: 'array',
          onComplete: (result) => {
            groupRows = result;
          },
        });
      } catch (err) {
        throw new DataError({ source: path }, `cannot read rows ${start + 1} to ${end}: ${messageOf(err)}`, { cause: err });
      }
      start = end;
      for (let i = 0; i < groupRows.length; i += size) {
        const slice = groupRows.slice(i, i + size).map((row) => row.map(rawValue));
        rows += slice.length;
        yield { columns, rows: slice };
        emitted = true;
      }
      groupRows = [];
    }
    if (!emitted) yield { columns, rows: [] };
    sha256 = await sha256File(path);
  }

  return {
    name: path,
    warnings,
    declaredTypes: () => dict(Object.entries(declared)),
    lineage: (): SourceLineage => {
      const lineage: SourceLineage = { kind: 'file', path, format: 'parquet' };
      if (bytes !== undefined) lineage.bytes = bytes;
      if (sha256 !== undefined) lineage.sha256 = sha256;
      lineage.rows = rows;
      return lineage;
    },
    chunks: readOnce(path, async function* (size: number): AsyncGenerator<RawChunk> {
      try {
        yield* read(size);
      } catch (err) {
        if (err instanceof MlpipeError) throw err;
        throw new DataError({ source: path }, messageOf(err), { cause: err });
      }
    }),
  };
}

/** mlpipe's type for a top-level Parquet column, or undefined to let inference decide. */
function declaredType(field: SchemaTree): ColumnType | undefined {
  const element: SchemaElement = field.element;
  if (field.children.length > 0 || element.repetition_type === 'REPEATED') return undefined;
  const logical = element.logical_type?.type;
  const converted = element.converted_type;
  if (logical === 'TIMESTAMP' || logical === 'DATE' || converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS' || converted === 'DATE') {
    return 'datetime';
  }
  if (element.type === 'INT96') return 'datetime';
  if (logical === 'DECIMAL' || converted === 'DECIMAL' || logical === 'FLOAT16') return 'number';
  if (logical === 'TIME' || converted === 'TIME_MILLIS' || converted === 'TIME_MICROS' || converted === 'INTERVAL') return undefined;
  switch (element.type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'INT32':
    case 'INT64':
      return 'integer';
    case 'FLOAT':
    case 'DOUBLE':
      return 'number';
    default:
      return undefined;
  }
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function rawValue(v: unknown): RawValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'bigint':
      return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
    case 'string':
    case 'number':
    case 'boolean':
      return v;
    default:
      if (v instanceof Date) return v;
      return JSON.stringify(v, (_key, x: unknown) => (typeof x === 'bigint' ? (x >= MIN_SAFE && x <= MAX_SAFE ? Number(x) : x.toString()) : x));
  }
}
