import { mkdir, open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type * as Arrow from 'apache-arrow';
import type { Data } from 'apache-arrow';
import { tempPathBeside, writeError, writevAll } from '../fs-util.js';
import { type Column, type ColumnFacts, type Table, emptyColumn } from '../table.js';
import type { ColumnType } from '../values.js';
import type { Lineage } from '../lineage.js';
import { datasetSchema, loadArrow } from './dataset.js';

// Writing the dataset file (the format is described in dataset.ts): mlpipe columns encoded as Arrow
// data directly, record batch by record batch, into a temporary file renamed into place.

type Bool = Arrow.Bool;
type Field = Arrow.Field;
type Float64 = Arrow.Float64;
type RecordBatch = Arrow.RecordBatch;
type Schema = Arrow.Schema;
type TimestampMillisecond = Arrow.TimestampMillisecond;
type Utf8 = Arrow.Utf8;

const FORMAT = 'mlpipe.dataset';
/**
 * Version 2 (issue 5): written in record batches of about `chunkRows` rows; category columns are
 * plain Utf8 with `mlpipe.type=category` (an Arrow IPC file cannot replace a dictionary between
 * batches). Version 1 files (one batch, categories dictionary-encoded) are read as before.
 */
const FORMAT_VERSION = '2';

/**
 * Bytes of a bitmap of `rows` bits as apache-arrow's builders size it (a multiple of 64, at least 64):
 * the IPC writer writes bitmaps whole, so this keeps the files byte for byte what `vectorFromArray` made.
 */
function bitmapBytes(rows: number): number {
  return Math.max(64, (((rows + 7) >> 3) + 63) & ~63);
}

/** A validity bitmap (a bit per row, set when the value is present) and the number of missing values. */
function validity(rows: number, missing: (i: number) => boolean): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(bitmapBytes(rows));
  let nulls = 0;
  for (let i = 0; i < rows; i++) {
    if (missing(i)) nulls++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { bitmap, nulls };
}

/** The present strings of a column chunk, and its validity bitmap. */
function presentStrings(values: readonly (string | null | undefined)[], rows: number, bitmap: Uint8Array): string[] {
  const present: string[] = [];
  for (let i = 0; i < rows; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) {
      present.push(v);
      bitmap[i >> 3]! |= 1 << (i & 7);
    }
  }
  return present;
}

/** Offsets of the values' UTF-8 bytes: with `ascii`, each string's length is its byte length. */
function utf8Offsets(values: readonly (string | null | undefined)[], rows: number, ascii: boolean): Int32Array {
  const offsets = new Int32Array(rows + 1);
  let at = 0;
  for (let i = 0; i < rows; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) at += ascii ? v.length : Buffer.byteLength(v, 'utf8');
    offsets[i + 1] = at;
  }
  return offsets;
}

/**
 * Utf8 data: the strings' UTF-8 bytes one after the other, with their offsets (written directly, no
 * builder; one loop per function, so that each is optimized as a whole).
 */
function utf8Data(values: readonly (string | null | undefined)[], rows: number, type: Utf8): Data {
  const bitmap = new Uint8Array(bitmapBytes(rows));
  const present = presentStrings(values, rows, bitmap);
  const nulls = rows - present.length;
  const joined = present.join('');
  // All ASCII when the UTF-8 length is the number of characters: one encoding call.
  const ascii = Buffer.byteLength(joined, 'utf8') === joined.length;
  const bytes = Buffer.from(joined, ascii ? 'latin1' : 'utf8');
  const offsets = utf8Offsets(values, rows, ascii);
  return loadArrow().makeData({ type, length: rows, nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : null, valueOffsets: offsets, data: bytes });
}

function columnData(col: Column, rows: number, field: Field): Data {
  const { makeData } = loadArrow();
  if (col.type === 'number' || col.type === 'integer') {
    const values = col.values.length === rows ? col.values : col.values.subarray(0, rows);
    const bitmap = new Uint8Array((rows + 7) >> 3);
    let nulls = 0;
    for (let i = 0; i < rows; i++) {
      const v = values[i] as number;
      if (v !== v) nulls++;
      else bitmap[i >> 3]! |= 1 << (i & 7);
    }
    // A missing value is 0 in the data (and NaN in the column): a copy only when there are some.
    let data = values;
    if (nulls > 0) {
      data = new Float64Array(rows);
      for (let i = 0; i < rows; i++) {
        const v = values[i] as number;
        if (v === v) data[i] = v;
      }
    }
    return makeData({ type: field.type as Float64, length: rows, nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : null, data });
  }
  if (col.type === 'datetime') {
    const values = col.values;
    const data = new BigInt64Array(rows);
    const { bitmap, nulls } = validity(rows, (i) => Number.isNaN(values[i] as number));
    for (let i = 0; i < rows; i++) {
      const v = values[i] as number;
      if (!Number.isNaN(v)) data[i] = BigInt(v);
    }
    return makeData({ type: field.type as TimestampMillisecond, length: rows, nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : null, data });
  }
  if (col.type === 'boolean') {
    const values = col.values;
    const { bitmap, nulls } = validity(rows, (i) => values[i] === null || values[i] === undefined);
    const data = new Uint8Array(bitmapBytes(rows));
    for (let i = 0; i < rows; i++) if (values[i] === true) data[i >> 3]! |= 1 << (i & 7);
    return makeData({ type: field.type as Bool, length: rows, nullCount: nulls, nullBitmap: nulls > 0 ? bitmap : null, data });
  }
  return utf8Data(col.values as readonly (string | null)[], rows, field.type as Utf8);
}

/** One chunk (a small table with the schema's columns) as an Arrow record batch. */
function recordBatch(schema: Schema, chunk: Table): RecordBatch {
  const children = chunk.columns.map((col, j) => columnData(col, chunk.rowCount, schema.fields[j]!));
  const { RecordBatch, Struct, makeData } = loadArrow();
  const data = makeData({ type: new Struct(schema.fields), length: chunk.rowCount, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/**
 * apache-arrow's RecordBatchFileWriter, writing into a list we flush to a file after every batch
 * (so memory holds one batch, not the file), and writing the footer with the final schema metadata:
 * the JS writer puts the schema only in the footer (the file starts with the magic bytes), so the
 * lineage, known only after the last batch, is the schema's metadata like any other.
 */
interface BatchFileWriter extends Arrow.RecordBatchFileWriter {
  readonly pending: Uint8Array[];
  finalMetadata: Map<string, string> | undefined;
}

let batchFileWriterClass: (new () => BatchFileWriter) | undefined;

/** A new {@link BatchFileWriter} (the class is made when apache-arrow is loaded). */
function newBatchFileWriter(): BatchFileWriter {
  batchFileWriterClass ??= (() => {
    const { RecordBatchFileWriter, Schema } = loadArrow();
    return class extends RecordBatchFileWriter {
      readonly pending: Uint8Array[] = [];
      finalMetadata: Map<string, string> | undefined;

      protected override _write(chunk: ArrayBufferView | ArrayBuffer | string): this {
        if (!this._started) return this;
        const bytes =
          typeof chunk === 'string'
            ? Buffer.from(chunk)
            : chunk instanceof ArrayBuffer
              ? new Uint8Array(chunk)
              : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        if (bytes.byteLength > 0) {
          this.pending.push(bytes);
          this._position += bytes.byteLength;
        }
        return this;
      }

      protected override _writeFooter(schema: Schema): this {
        return super._writeFooter(this.finalMetadata ? new Schema(schema.fields, this.finalMetadata) : schema);
      }
    };
  })();
  return new batchFileWriterClass();
}

/**
 * Writes a dataset file batch by batch: to a temporary file beside `path` (`.<name>.tmp-…`), renamed
 * onto `path` by {@link finish}. {@link abort} (or any failure) removes the temporary file, so a
 * dataset is either complete or not there, and an existing file at `path` stays until the rename.
 */
export class DatasetWriter {
  private readonly writer = newBatchFileWriter();
  private batches = 0;
  private done = false;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly fh: FileHandle,
    private readonly schema: Schema,
  ) {}

  static async create(path: string, columns: readonly ({ name: string; type: ColumnType } & ColumnFacts)[]): Promise<DatasetWriter> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = tempPathBeside(path);
    const fh = await open(tmp, 'wx');
    return new DatasetWriter(path, tmp, fh, datasetSchema(columns));
  }

  /** The file write under way: it goes on while the caller makes the next batch (one at a time). */
  private writing: Promise<unknown> | undefined;

  private async flush(): Promise<void> {
    const parts = this.writer.pending.splice(0);
    await this.writing;
    this.writing = undefined;
    if (parts.length > 0) {
      const writing = writevAll(this.fh, parts).catch((err: unknown) => {
        throw writeError(err, this.path, 'the dataset');
      });
      // Handled here so that a failure waits for the next write (or finish) to be reported.
      writing.catch(() => {});
      this.writing = writing;
    }
  }

  /**
   * Writes one chunk (its columns in the schema's order) as a record batch. The file write may go on
   * after this returns and may read the chunk's number arrays: do not change them until the next
   * write or {@link finish}.
   */
  async write(chunk: Table): Promise<void> {
    try {
      this.writer.write(recordBatch(this.schema, chunk));
      this.batches++;
      await this.flush();
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Writes the footer with the lineage and renames the file into place. */
  async finish(lineage: Lineage | null): Promise<void> {
    try {
      if (this.batches === 0) this.writer.write(recordBatch(this.schema, { columns: this.schema.fields.map((f) => emptyColumn(f.name, f.metadata.get('mlpipe.type') as ColumnType, 0)), rowCount: 0 }));
      const metadata = new Map([
        ['mlpipe.format', FORMAT],
        ['mlpipe.formatVersion', FORMAT_VERSION],
      ]);
      if (lineage) metadata.set('mlpipe.lineage', JSON.stringify(lineage));
      this.writer.finalMetadata = metadata;
      this.writer.close();
      await this.flush();
      await this.writing;
      await this.fh.close();
      await rename(this.tmp, this.path);
      this.done = true;
    } catch (err) {
      await this.abort();
      throw writeError(err, this.path, 'the dataset');
    }
  }

  /** Removes the temporary file (nothing happens to `path`). Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.writing?.catch(() => {});
    await this.fh.close().catch(() => {});
    await rm(this.tmp, { force: true });
  }
}

/**
 * Writes a table as an Apache Arrow IPC file with each column's mlpipe type in its field metadata and
 * the lineage in the schema metadata. Written to a temporary file and renamed, so a failure never
 * leaves a partial dataset behind.
 */
export async function writeDataset(path: string, table: Table, lineage: Lineage | null): Promise<void> {
  const writer = await DatasetWriter.create(path, table.columns);
  if (table.rowCount > 0) await writer.write(table);
  await writer.finish(lineage);
}
