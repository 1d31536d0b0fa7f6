import { type Hash, createHash } from 'node:crypto';
import type { Column, Table } from '../table.js';
import type { ColumnType } from '../values.js';

/** Version tag of the canonical encoding; part of every fingerprint, so a future change cannot collide. */
const ENCODING = 'mlpipe.fingerprint.v2';

/** A growable byte buffer for one chunk of one column. */
class Bytes {
  buf: Buffer;
  view: DataView;
  length = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, size));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }
  ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + extra));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/**
 * Appends one column's cells to its canonical encoding: a missing value is the byte 0; a number
 * (number, integer, datetime as epoch ms) is 1 then its float64, little-endian; a boolean is 1
 * (false) or 2 (true); a string (category, text) is 1, its UTF-8 length as uint32 LE, then its bytes.
 */
function encodeColumn(col: Column, rows: number, out: Bytes): void {
  switch (col.type) {
    case 'number':
    case 'integer':
    case 'datetime': {
      out.ensure(rows * 9);
      const { buf, view } = out;
      let p = out.length;
      const values = col.values;
      for (let i = 0; i < rows; i++) {
        const v = values[i] as number;
        if (v !== v) buf[p++] = 0;
        else {
          buf[p] = 1;
          view.setFloat64(p + 1, v, true);
          p += 9;
        }
      }
      out.length = p;
      return;
    }
    case 'boolean': {
      out.ensure(rows);
      for (let i = 0; i < rows; i++) {
        const v = col.values[i];
        out.buf[out.length++] = v === null || v === undefined ? 0 : v ? 2 : 1;
      }
      return;
    }
    case 'category':
    case 'text': {
      for (let i = 0; i < rows; i++) {
        const v = col.values[i];
        if (v === null || v === undefined) {
          out.ensure(1);
          out.buf[out.length++] = 0;
          continue;
        }
        // UTF-8 takes at most 3 bytes per UTF-16 code unit.
        const length = v.length;
        out.ensure(5 + length * 3);
        const { buf } = out;
        const start = out.length;
        // ASCII is copied here (a native call per short string costs more); anything else is encoded by Buffer.
        let written = length;
        for (let k = 0; k < length; k++) {
          const c = v.charCodeAt(k);
          if (c >= 0x80) {
            written = buf.write(v, start + 5, 'utf8');
            break;
          }
          buf[start + 5 + k] = c;
        }
        buf[start] = 1;
        out.view.setUint32(start + 1, written, true);
        out.length = start + 5 + written;
      }
      return;
    }
  }
}

/**
 * The content fingerprint of a dataset, computed incrementally: one sha256 per column over the
 * canonical encoding of its typed values in row order, then a sha256 over the encoding version, the
 * row count, the column names and types, and the column digests. Feeding the same rows in any
 * chunking gives the same value, and {@link fingerprintTable} over a whole table gives it too: equal
 * data (same names, types and values), equal fingerprint, whatever the source format or load time.
 */
export class Fingerprinter {
  private readonly hashes: Hash[];
  private readonly scratch = new Bytes(1 << 16);
  private rows = 0;

  constructor(private readonly schema: readonly { name: string; type: ColumnType }[]) {
    this.hashes = schema.map(() => createHash('sha256'));
  }

  /** Adds the rows of a chunk whose columns are those of the schema, in order. */
  add(chunk: Table): this {
    this.rows += chunk.rowCount;
    chunk.columns.forEach((col, j) => {
      this.scratch.length = 0;
      encodeColumn(col, chunk.rowCount, this.scratch);
      this.hashes[j]?.update(this.scratch.bytes());
    });
    return this;
  }

  /** `sha256:<hex>`. Call once, after the last chunk. */
  digest(): string {
    const header = JSON.stringify({ encoding: ENCODING, rows: this.rows, columns: this.schema.map((c) => [c.name, c.type]) });
    const all = createHash('sha256').update(header);
    for (const h of this.hashes) all.update(h.digest());
    return `sha256:${all.digest('hex')}`;
  }
}

/** The fingerprint of a whole in-memory table (the same value as feeding it chunk by chunk). */
export function fingerprintOf(table: Table): string {
  return new Fingerprinter(table.columns).add(table).digest();
}
