import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Bool,
  Dictionary,
  Field,
  Float64,
  Int32,
  RecordBatch,
  Schema,
  Struct,
  Table as ArrowTable,
  TimestampMillisecond,
  Utf8,
  makeData,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { expect } from 'chai';
import { cleanupTempDirs, tempDir } from '../../../test-helpers/fixtures.js';
import { memorySource } from '../../../test-helpers/memory-source.js';
import { DataError, NotFoundError } from '../../errors.js';
import { sha256 } from '../../fs-util.js';
import type { Lineage } from '../../lineage.js';
import { cellAt } from '../../table.js';
import { fingerprintTable, readDataset } from '../dataset.js';
import { loadSource } from '../load.js';
import { ArrowFileSink } from '../table-sinks.js';
import { streamLoad } from '../type-chunks.js';
import { datasetSource } from './dataset.js';
import { rejection, chunksOf } from '../../../test-helpers/async.js';

let dir: string;

const PARENT: Lineage = {
  source: { kind: 'file', path: 'old.csv', format: 'csv', bytes: 10, sha256: 'ab'.repeat(32) },
  rows: 3,
  columns: 5,
  fingerprint: 'sha256:old',
  loadedAt: '2024-01-01T00:00:00.000Z',
  mlpipeVersion: '0.1.0',
};

/** A dataset as mlpipe wrote it before issue 5 (format version 1): one batch, categories dictionary-encoded. */
function version1Bytes(): Uint8Array {
  const vectors = [
    vectorFromArray([1.5, null, 3], new Float64()),
    vectorFromArray([2, 3, null], new Float64()),
    vectorFromArray([true, null, false], new Bool()),
    vectorFromArray(['red', 'blue', 'red'], new Dictionary(new Utf8(), new Int32(), 3)),
    vectorFromArray([Date.UTC(2024, 2, 5), null, 0], new TimestampMillisecond()),
  ];
  const types = ['number', 'integer', 'boolean', 'category', 'datetime'];
  const fields = ['num', 'int', 'flag', 'color', 'when'].map((name, i) => new Field(name, vectors[i]!.type, true, new Map([['mlpipe.type', types[i]!]])));
  const schema = new Schema(
    fields,
    new Map([
      ['mlpipe.format', 'mlpipe.dataset'],
      ['mlpipe.formatVersion', '1'],
      ['mlpipe.lineage', JSON.stringify(PARENT)],
    ]),
  );
  const data = makeData({ type: new Struct(fields), length: 3, nullCount: 0, children: vectors.map((v) => v.data[0]!) });
  return tableToIPC(new ArrowTable(schema, [new RecordBatch(schema, data)]), 'file');
}

describe('datasetSource (.arrow datasets, read batch by batch)', () => {
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  it('reads a dataset in chunks with its declared column types and its lineage as parent', async () => {
    const path = join(dir, 'd.arrow');
    const rows = Array.from({ length: 12 }, (_, i) => [String(i), i % 2 ? 'a' : 'b', i % 3 ? null : '2024-03-05']);
    const written = await streamLoad(memorySource(['n', 'c', 'd'], rows, { name: 'in.csv' }), new ArrowFileSink(path), { chunkRows: 5, spoolNear: path });
    const source = datasetSource(path);
    const chunks = await chunksOf(source, 3);
    // record batches of 5, 5, 2 rows, each cut to chunks of at most 3 rows
    expect(chunks.map((c) => c.rows.length)).to.deep.equal([3, 2, 3, 2, 2]);
    expect(chunks[0]!.columns).to.deep.equal(['n', 'c', 'd']);
    expect(chunks[0]!.rows[0]).to.deep.equal([0, 'b', Date.UTC(2024, 2, 5)]);
    expect(chunks[0]!.rows[1]).to.deep.equal([1, 'a', null]);
    expect(source.declaredTypes()).to.deep.equal({ n: 'integer', c: 'category', d: 'datetime' });
    const bytes = await readFile(path);
    expect(source.lineage()).to.deep.equal({ kind: 'dataset', path, format: 'arrow', parent: written.lineage, bytes: bytes.length, sha256: sha256(bytes) });
  });

  it('loading a dataset again keeps types, values and fingerprint', async () => {
    const path = join(dir, 'again.arrow');
    const first = await streamLoad(memorySource(['zip', 'v'], [['02134', '1.5'], ['10001', 'NA']], { declared: { zip: 'category' } }), new ArrowFileSink(path), { spoolNear: path });
    const again = await loadSource({ source: path });
    expect(again.schema).to.deep.equal(first.schema);
    expect(again.lineage.fingerprint).to.equal(first.lineage.fingerprint);
    expect(again.table.columns.map((c) => [cellAt(c, 0), cellAt(c, 1)])).to.deep.equal([
      ['02134', '10001'],
      [1.5, null],
    ]);
  });

  it('reads the version 1 layout (dictionary-encoded categories, one batch), as readDataset does', async () => {
    const path = join(dir, 'v1.arrow');
    await writeFile(path, version1Bytes());
    const source = datasetSource(path);
    const chunks = await chunksOf(source, 10);
    expect(chunks).to.have.length(1);
    expect(chunks[0]!.rows).to.deep.equal([
      [1.5, 2, true, 'red', Date.UTC(2024, 2, 5)],
      [null, 3, null, 'blue', null],
      [3, null, false, 'red', 0],
    ]);
    expect(source.declaredTypes()).to.deep.equal({ num: 'number', int: 'integer', flag: 'boolean', color: 'category', when: 'datetime' });
    expect((source.lineage() as { parent?: unknown }).parent).to.deep.equal(PARENT);
    const whole = await readDataset(path);
    const loaded = await loadSource({ source: path });
    expect(loaded.lineage.fingerprint).to.equal(fingerprintTable(whole.table));
    expect(whole.lineage).to.deep.equal(PARENT);
  });

  it('a missing file is a NotFoundError; a file that is not Arrow a DataError naming it', async () => {
    const missing = join(dir, 'missing.arrow');
    const err = await rejection(chunksOf(datasetSource(missing), 10));
    expect(err).to.be.instanceOf(NotFoundError);
    expect((err as Error).message).to.equal(`${missing}: file not found`);
    const bad = join(dir, 'bad.arrow');
    await writeFile(bad, 'a,b\n1,2\n');
    const err2 = await rejection(chunksOf(datasetSource(bad), 10));
    expect(err2).to.be.instanceOf(DataError);
    expect((err2 as Error).message.startsWith(`${bad}: not an Arrow IPC dataset (`)).to.equal(true);
  });
});
