import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { parquetWriteFile } from 'hyparquet-writer';
import { cleanupTempDirs, tempDir } from '../../../test-helpers/fixtures.js';
import { DataError, NotFoundError } from '../../errors.js';
import { sha256File } from '../../fs-util.js';
import { fileSource } from './file.js';
import { parquetSource } from './parquet.js';
import type { RawChunk } from './types.js';
import { rejection, chunksOf } from '../../../test-helpers/async.js';

let dir: string;
let path: string;

const ROWS = 10;
const BIG = 9_007_199_254_740_993n; // 2^53 + 1: not exact as a number

function expectedRow(i: number): unknown[] {
  return [
    i === 3 ? BIG.toString() : i % 4 === 2 ? null : i * 1000,
    i % 5 === 4 ? null : i,
    i % 3 === 1 ? null : i + 0.25,
    i % 4 === 3 ? null : i % 2 === 0,
    i === 7 ? null : new Date(Date.UTC(2024, 0, 1 + i, 12)),
    i === 5 ? null : `name ${i}`,
  ];
}

describe('parquetSource', () => {
  before(async () => {
    dir = await tempDir();
    path = join(dir, 'data.parquet');
    const rows = Array.from({ length: ROWS }, (_, i) => i);
    parquetWriteFile({
      filename: path,
      rowGroupSize: 4,
      columnData: [
        { name: 'id', type: 'INT64', data: rows.map((i) => (i === 3 ? BIG : i % 4 === 2 ? null : BigInt(i * 1000))) },
        { name: 'count', type: 'INT32', data: rows.map((i) => (i % 5 === 4 ? null : i)) },
        { name: 'price', type: 'DOUBLE', data: rows.map((i) => (i % 3 === 1 ? null : i + 0.25)) },
        { name: 'active', type: 'BOOLEAN', data: rows.map((i) => (i % 4 === 3 ? null : i % 2 === 0)) },
        { name: 'seen', type: 'TIMESTAMP', data: rows.map((i) => (i === 7 ? null : new Date(Date.UTC(2024, 0, 1 + i, 12)))) },
        { name: 'name', type: 'STRING', data: rows.map((i) => (i === 5 ? null : `name ${i}`)) },
      ],
    });
  });
  after(cleanupTempDirs);

  it('reads every value: nulls, int64 as numbers (as text when too large), doubles, booleans, timestamps, strings', async () => {
    const source = fileSource({ kind: 'file', path });
    const chunks = await chunksOf(source);
    expect(chunks[0]?.columns).to.deep.equal(['id', 'count', 'price', 'active', 'seen', 'name']);
    const rows = chunks.flatMap((c) => c.rows);
    expect(rows).to.have.length(ROWS);
    rows.forEach((row, i) => expect(row, `row ${i + 1}`).to.deep.equal(expectedRow(i)));
    expect(rows[4]?.[4]).to.be.instanceOf(Date);
    expect(typeof rows[4]?.[0]).to.equal('number');
  });

  it('declares column types from the schema and leaves strings to inference', async () => {
    const source = parquetSource({ kind: 'file', path });
    await chunksOf(source);
    expect(source.declaredTypes()).to.deep.equal({ id: 'integer', count: 'integer', price: 'number', active: 'boolean', seen: 'datetime' });
  });

  it('reads one row group at a time, in chunks no larger than chunkRows', async () => {
    // Row groups of 4, 4 and 2 rows; chunks of 3 split each group.
    const source = parquetSource({ kind: 'file', path });
    const chunks: RawChunk[] = [];
    for await (const chunk of source.chunks(3)) {
      chunks.push(chunk);
      // Types are complete from the first chunk on.
      expect(source.declaredTypes()).to.have.property('seen', 'datetime');
    }
    expect(chunks.map((c) => c.rows.length)).to.deep.equal([3, 1, 3, 1, 2]);
    expect(chunks.flatMap((c) => c.rows)).to.deep.equal(Array.from({ length: ROWS }, (_, i) => expectedRow(i)));
    expect(source.lineage()).to.deep.equal({
      kind: 'file',
      path,
      format: 'parquet',
      bytes: statSync(path).size,
      sha256: await sha256File(path),
      rows: ROWS,
    });
  });

  it('stops early when the loop breaks', async () => {
    const source = parquetSource({ kind: 'file', path });
    for await (const chunk of source.chunks(2)) {
      expect(chunk.rows).to.have.length(2);
      break;
    }
    expect(source.lineage().rows).to.equal(2);
    expect(source.lineage().sha256).to.equal(undefined);
  });

  it('a missing file, a file that is not Parquet', async () => {
    const missing = join(dir, 'missing.parquet');
    const nf = await rejection(chunksOf(parquetSource({ kind: 'file', path: missing })));
    expect(nf).to.be.instanceOf(NotFoundError);
    expect(nf.message).to.equal(`${missing}: file not found`);
    const fake = join(dir, 'fake.parquet');
    await writeFile(fake, 'definitely not parquet');
    const bad = await rejection(chunksOf(parquetSource({ kind: 'file', path: fake })));
    expect(bad).to.be.instanceOf(DataError);
    expect(bad.message.startsWith(`${fake}: not a valid Parquet file`)).to.equal(true);
  });
});
