import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { TypedChunk } from './infer.js';
import { type RawValue, type TextRows, textRowsValue } from './sources/types.js';
import { writeError, writevAll } from '../fs-util.js';

/**
 * One column of a spooled chunk: column `span` of the chunk's {@link SpoolChunk.spans} (a CSV
 * chunk), or its values joined into one text with the end of each (any column of strings: one
 * string to write and read instead of thousands), or any other column as its values. The first two
 * keep the typed values inference computed for them.
 */
export type SpoolColumn =
  | { span: number; typed: TypedChunk | undefined }
  | { text: string; ends: Int32Array; typed: TypedChunk | undefined }
  | { values: RawValue[] };

/** One chunk of raw rows as spooled between the loader's two passes, column by column. */
export interface SpoolChunk {
  rowCount: number;
  /** The columns the source had for this chunk (later chunks may have more). */
  columns: SpoolColumn[];
  /** Physical line of each row, when the source knows it. */
  lines?: number[];
  /** The rows as spans of one text, when the source gave them so (CSV). */
  spans?: TextRows;
}

/** Typed values worth keeping: undefined when there are none. */
function someTyped(typed: TypedChunk | undefined): TypedChunk | undefined {
  return typed && (typed.numbers || typed.datetimes || typed.booleans) ? typed : undefined;
}

/** A column's values as a {@link SpoolColumn}: joined when they are all strings. */
export function spoolColumn(values: RawValue[], typed?: TypedChunk): SpoolColumn {
  const n = values.length;
  const ends = new Int32Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'string') return { values };
    at += v.length;
    ends[i] = at;
  }
  return { text: values.join(''), ends, typed: someTyped(typed) };
}

/** Column `column` of a chunk of spans, as a {@link SpoolColumn}. */
export function spoolSpanColumn(column: number, typed?: TypedChunk): SpoolColumn {
  return { span: column, typed: someTyped(typed) };
}

/** The value at row `i` of column `j` of a spooled chunk. */
export function spooledValue(chunk: SpoolChunk, j: number, i: number): RawValue {
  const column = chunk.columns[j];
  if (!column) return undefined;
  if ('values' in column) return column.values[i];
  if ('span' in column) {
    const spans = chunk.spans as TextRows;
    return textRowsValue(spans, i * spans.width + column.span);
  }
  return column.text.slice(i === 0 ? 0 : column.ends[i - 1], column.ends[i]);
}

/**
 * A temporary file of raw row chunks, each stored as a 4-byte little-endian length and its
 * `v8.serialize` form (which keeps Dates, bigints and undefined, and copies a one-byte string or a
 * typed array as one block). Written during the loader's first pass, read back chunk by chunk in the
 * second, then deleted: memory holds one chunk at a time (and one being written or read ahead).
 */
export class Spool {
  private bytes = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}

  /** A new spool file beside `near` (in its folder, named after it; in the temporary folder when that folder does not exist). */
  static async create(near: string): Promise<Spool> {
    const name = `.${basename(near)}.spool-${process.pid}-${randomBytes(4).toString('hex')}`;
    let path = join(dirname(near), name);
    let fh: FileHandle;
    try {
      fh = await open(path, 'wx+', 0o600);
    } catch (err) {
      // The output's folder does not exist yet (the dataset writer creates it): spool in the temporary folder.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      path = join(tmpdir(), name);
      fh = await open(path, 'wx+', 0o600);
    }
    return new Spool(path, fh);
  }

  /** Bytes written so far. */
  get size(): number {
    return this.bytes;
  }

  /** The write under way, if any: the caller goes on with the next chunk meanwhile. */
  private writing: Promise<unknown> | undefined;

  /**
   * Appends a chunk. The chunk is serialized at once; the file write goes on in the background while
   * the caller reads the next chunk (one write at a time, so at most one serialized chunk waits).
   */
  async write(chunk: SpoolChunk): Promise<void> {
    const payload = serialize(chunk);
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32LE(payload.length, 0);
    await this.writing;
    const at = this.bytes;
    this.bytes += 4 + payload.length;
    const writing = writevAll(this.fh, [header, payload], at).catch((err: unknown) => {
      throw writeError(err, this.path, 'the loader\'s spool (a copy of the source read so far, removed after the load)');
    });
    // Handled here so that a failure waits for the next write (or the reading) to be reported.
    writing.catch(() => {});
    this.writing = writing;
  }

  /** The chunks, in the order written; the next one is read from the file while the caller works on one. */
  async *chunks(): AsyncGenerator<SpoolChunk> {
    await this.writing;
    this.writing = undefined;
    const read = async (pos: number): Promise<{ payload: Buffer; next: number }> => {
      const header = Buffer.alloc(4);
      await this.readExactly(header, pos);
      const length = header.readUInt32LE(0);
      const payload = Buffer.allocUnsafe(length);
      await this.readExactly(payload, pos + 4);
      return { payload, next: pos + 4 + length };
    };
    let ahead = this.bytes > 0 ? read(0) : undefined;
    while (ahead) {
      const { payload, next } = await ahead;
      ahead = next < this.bytes ? read(next) : undefined;
      // Not awaited if the caller stops early: its failure then matters to no one.
      ahead?.catch(() => {});
      yield deserialize(payload) as SpoolChunk;
    }
  }

  private async readExactly(into: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < into.length) {
      const { bytesRead } = await this.fh.read(into, done, into.length - done, position + done);
      if (bytesRead === 0) throw new Error(`${this.path}: spool file ended early`);
      done += bytesRead;
    }
  }

  /** Closes and deletes the file. Safe to call more than once. */
  async remove(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.writing?.catch(() => {});
      await this.fh.close().catch(() => {});
    }
    await rm(this.path, { force: true });
  }
}
