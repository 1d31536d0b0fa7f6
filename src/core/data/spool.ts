import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { RawValue } from './sources/types.js';

/** One chunk of raw rows as spooled between the loader's two passes. */
export interface SpoolChunk {
  rows: RawValue[][];
  /** Physical line of each row, when the source knows it. */
  lines?: number[];
}

/**
 * A temporary file of raw row chunks, each stored as a 4-byte little-endian length and its
 * `v8.serialize` form (which keeps Dates, bigints and undefined). Written during the loader's first
 * pass, read back chunk by chunk in the second, then deleted: memory holds one chunk at a time.
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

  async write(chunk: SpoolChunk): Promise<void> {
    const payload = serialize(chunk);
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32LE(payload.length, 0);
    await this.fh.writev([header, payload], this.bytes);
    this.bytes += 4 + payload.length;
  }

  /** The chunks, in the order written. */
  async *chunks(): AsyncGenerator<SpoolChunk> {
    const header = Buffer.alloc(4);
    let pos = 0;
    while (pos < this.bytes) {
      await this.readExactly(header, pos);
      const length = header.readUInt32LE(0);
      const payload = Buffer.allocUnsafe(length);
      await this.readExactly(payload, pos + 4);
      pos += 4 + length;
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
      await this.fh.close().catch(() => {});
    }
    await rm(this.path, { force: true });
  }
}
