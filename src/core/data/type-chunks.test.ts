import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { expect } from 'chai';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { memorySource } from '../../test-helpers/memory-source.js';
import { DataError, InterruptedError, MlpipeError } from '../errors.js';
import { type Table, cellAt } from '../table.js';
import type { Cell, ColumnType } from '../values.js';
import { buildTable } from './build.js';
import { fingerprintTable, readDataset } from './dataset.js';
import { profileTable } from './profile.js';
import type { RawValue, RecordSource } from './sources/types.js';
import { ArrowFileSink, MemoryTableSink } from './table-sinks.js';
import { type LoadProgress, type StreamLoadOptions, streamLoad } from './type-chunks.js';
import { rejection } from '../../test-helpers/async.js';

const TEXT = ['The product arrived on time and works well.', 'Terrible packaging, the box was crushed on arrival.', 'Would buy again, but the manual is hard to follow.'];
const COLUMNS = ['num', 'int', 'flag', 'color', 'when', 'review'];
/** Raw rows with every type, missing values, and enough rows for several chunks. */
function rawRows(): RawValue[][] {
  const rows: RawValue[][] = [];
  for (let i = 0; i < 23; i++) {
    rows.push([
      i % 7 === 3 ? 'NA' : String(i * 1.5),
      i % 5 === 0 ? null : String(i - 10),
      i % 4 === 0 ? '' : i % 2 === 0 ? 'yes' : 'no',
      ['red', 'blue', 'green'][i % 3]!,
      i % 6 === 0 ? null : `2024-03-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z`,
      i % 9 === 0 ? 'NA' : `${TEXT[i % 3]} (${i})`,
    ]);
  }
  return rows;
}

function contents(table: Table): { name: string; type: ColumnType; cells: Cell[] }[] {
  return table.columns.map((col) => ({ name: col.name, type: col.type, cells: Array.from({ length: table.rowCount }, (_, i) => cellAt(col, i)) }));
}

async function toMemory(rows: RawValue[][], options: StreamLoadOptions & { columns?: string[]; declared?: Record<string, ColumnType>; lines?: number[]; columnsAt?: (i: number) => number } = {}) {
  const sink = new MemoryTableSink();
  const source = memorySource(options.columns ?? COLUMNS, rows, { declared: options.declared, lines: options.lines, columnsAt: options.columnsAt, name: 'mem.csv' });
  const result = await streamLoad(source, sink, { spoolNear: join(dir, 'spool-here'), ...options });
  return { ...result, table: sink.table() };
}

let dir: string;

describe('streamLoad (two passes, spool, sinks)', () => {
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  it('types, converts and profiles exactly as the whole-table builder does, for any chunk size', async () => {
    const rows = rawRows();
    const whole = buildTable({ source: 'mem.csv', format: 'csv', columnNames: COLUMNS, rows, warnings: [] });
    expect(whole.columns.map((c) => c.type)).to.deep.equal(['number', 'integer', 'boolean', 'category', 'datetime', 'text']);
    for (const chunkRows of [1, 4, 23, 10_000]) {
      const loaded = await toMemory(rows, { chunkRows });
      expect(contents(loaded.table), `chunkRows ${chunkRows}`).to.deep.equal(contents(whole));
      // A boolean column written yes/no keeps its spellings, learned alike by both.
      expect(loaded.schema).to.deep.equal(whole.columns.map((c) => ({ name: c.name, type: c.type, ...(c.truthSpellings ? { truthSpellings: c.truthSpellings } : {}) })));
      expect(loaded.schema[2]).to.deep.equal({ name: 'flag', type: 'boolean', truthSpellings: { true: 'yes', false: 'no' } });
      expect(loaded.rows).to.equal(23);
      expect(loaded.profile).to.deep.equal(profileTable(whole));
      expect(loaded.lineage.fingerprint, `chunkRows ${chunkRows}`).to.equal(fingerprintTable(whole));
    }
    // nothing but what the test made is left in the folder: the spool is gone
    expect((await readdir(dir)).filter((f) => f.includes('spool'))).to.deep.equal([]);
  });

  it('writes an Arrow dataset in record batches of chunkRows, with the same data, fingerprint and lineage', async () => {
    const out = join(dir, 'batches', 'data.arrow');
    const source = memorySource(COLUMNS, rawRows(), { name: 'mem.csv' });
    const result = await streamLoad(source, new ArrowFileSink(out), { chunkRows: 5, spoolNear: out });
    const arrow = tableFromIPC(await readFile(out));
    expect(arrow.batches.map((b) => b.numRows)).to.deep.equal([5, 5, 5, 5, 3]);
    // categories are plain Utf8 marked by metadata (no dictionaries across batches)
    expect(String(arrow.schema.fields[3]!.type)).to.equal('Utf8');
    expect(arrow.schema.fields[3]!.metadata.get('mlpipe.type')).to.equal('category');
    expect(arrow.schema.metadata.get('mlpipe.formatVersion')).to.equal('2');
    const back = await readDataset(out);
    expect(back.lineage).to.deep.equal(result.lineage);
    expect(fingerprintTable(back.table)).to.equal(result.lineage.fingerprint);
    const whole = buildTable({ source: 'mem.csv', format: 'csv', columnNames: COLUMNS, rows: rawRows(), warnings: [] });
    expect(contents(back.table)).to.deep.equal(contents(whole));
    expect(await readdir(join(dir, 'batches'))).to.deep.equal(['data.arrow']);
  });

  it('records source lineage, rows, columns, declared types used, load time and version', async () => {
    const before = Date.now();
    const loaded = await toMemory([['1', 'a'], ['2', 'b']], { columns: ['x', 'y'], types: { y: 'text' } });
    expect(loaded.lineage.source).to.deep.equal({ kind: 'file', path: 'mem.csv', rows: 2 });
    expect(loaded.lineage).to.include({ rows: 2, columns: 2 });
    expect(loaded.lineage.types).to.deep.equal({ y: 'text' });
    expect(loaded.lineage.skippedRows).to.equal(undefined);
    expect(Date.parse(loaded.lineage.loadedAt)).to.be.within(before - 1, Date.now());
    expect(loaded.lineage.mlpipeVersion).to.match(/^\d+\.\d+\.\d+$/);
  });

  it('uses the source\'s declared types, unless the user declares others', async () => {
    const rows: RawValue[][] = [[1, '02134'], [2, '10001']];
    const declared = await toMemory(rows, { columns: ['id', 'zip'], declared: { id: 'number', zip: 'category' } });
    expect(declared.schema).to.deep.equal([
      { name: 'id', type: 'number' },
      { name: 'zip', type: 'category' },
    ]);
    expect(contents(declared.table)[1]!.cells).to.deep.equal(['02134', '10001']);
    const overridden = await toMemory(rows, { columns: ['id', 'zip'], declared: { id: 'number', zip: 'category' }, types: { id: 'category', zip: 'integer' } });
    expect(overridden.schema.map((c) => c.type)).to.deep.equal(['category', 'integer']);
    expect(contents(overridden.table)[1]!.cells).to.deep.equal([2134, 10001]);
  });

  it('a declared type for a column the source does not have is a DataError listing the columns', async () => {
    const err = await rejection(toMemory([['1', '2']], { columns: ['a', 'b'], types: { c: 'number' } }));
    expect(err).to.be.instanceOf(DataError);
    expect((err as Error).message).to.equal('mem.csv: column "c": a type is declared for this column but the source has no such column (columns: a, b)');
  });

  it('columns that appear in later chunks are missing in the rows before them', async () => {
    const rows: RawValue[][] = [[1], [2], [3, 'x'], [4, 'y']];
    const loaded = await toMemory(rows, { columns: ['a', 'b'], chunkRows: 2, columnsAt: (i) => (i < 2 ? 1 : 2) });
    expect(contents(loaded.table)).to.deep.equal([
      { name: 'a', type: 'integer', cells: [1, 2, 3, 4] },
      { name: 'b', type: 'category', cells: [null, null, 'x', 'y'] },
    ]);
  });

  it('inferRows infers from the first rows only; a later contradicting value names source, row, line and column', async () => {
    const rows: RawValue[][] = [['1'], ['2'], ['3'], ['x'], ['5']];
    const lines = [2, 3, 5, 6, 7];
    const all = await toMemory(rows, { columns: ['v'], lines });
    expect(all.schema[0]!.type).to.equal('category');
    const err = await rejection(toMemory(rows, { columns: ['v'], lines, inferRows: 3, chunkRows: 2 }));
    expect(err).to.be.instanceOf(DataError);
    expect((err as Error).message).to.equal('mem.csv: row 4 (line 6), column "v": expected a number, got "x" (column type integer)');
  });

  it('onBadRow skip drops and counts bad rows, keeps the first five with their row numbers, and fingerprints what is kept', async () => {
    const rows: RawValue[][] = [];
    const bad = new Set([2, 5, 6, 9, 11, 14, 17]);
    for (let i = 1; i <= 20; i++) rows.push([String(i), bad.has(i) ? `bad${i}` : String(i * 10)]);
    const lines = rows.map((_, i) => i + 2);
    const loaded = await toMemory(rows, { columns: ['id', 'v'], types: { v: 'number' }, onBadRow: 'skip', chunkRows: 4, lines });
    expect(loaded.rows).to.equal(13);
    expect(loaded.table.rowCount).to.equal(13);
    expect(loaded.skipped.count).to.equal(7);
    expect(loaded.skipped.first).to.deep.equal(
      [2, 5, 6, 9, 11].map((row) => ({ row, line: row + 1, column: 'v', message: `expected a number, got "bad${row}" (column type number)` })),
    );
    expect(loaded.lineage.skippedRows).to.equal(7);
    expect(loaded.lineage.rows).to.equal(13);
    expect(loaded.profile.rows).to.equal(13);
    const good = rows.filter((_, i) => !bad.has(i + 1));
    const expected = buildTable({ source: 's', format: 'csv', columnNames: ['id', 'v'], rows: good, warnings: [] }, { types: { v: 'number' } });
    expect(contents(loaded.table)).to.deep.equal(contents(expected));
    expect(loaded.lineage.fingerprint).to.equal(fingerprintTable(expected));
  });

  it('reports progress for both passes', async () => {
    const seen: LoadProgress[] = [];
    await toMemory(rawRows(), { chunkRows: 10, onProgress: (p) => seen.push({ ...p }) });
    expect(seen).to.deep.equal([
      { phase: 'read', rows: 10 },
      { phase: 'read', rows: 20 },
      { phase: 'read', rows: 23 },
      { phase: 'write', rows: 10, total: 23 },
      { phase: 'write', rows: 20, total: 23 },
      { phase: 'write', rows: 23, total: 23 },
    ]);
  });

  it('an empty source gives an empty table with its columns', async () => {
    const loaded = await toMemory([], { columns: ['a', 'b'] });
    expect(loaded.rows).to.equal(0);
    expect(contents(loaded.table)).to.deep.equal([
      { name: 'a', type: 'category', cells: [] },
      { name: 'b', type: 'category', cells: [] },
    ]);
    const out = join(dir, 'empty.arrow');
    await streamLoad(memorySource(['a'], []), new ArrowFileSink(out), { spoolNear: out });
    expect((await readDataset(out)).table.rowCount).to.equal(0);
  });

  describe('failures leave nothing behind', () => {
    async function folderWithExisting(): Promise<{ folder: string; out: string; original: Buffer }> {
      const folder = join(dir, `fail-${Math.random().toString(36).slice(2)}`);
      await mkdir(folder);
      const out = join(folder, 'data.arrow');
      await streamLoad(memorySource(['a'], [['1']]), new ArrowFileSink(out), { spoolNear: out });
      return { folder, out, original: await readFile(out) };
    }

    it('a source that fails while reading (pass 1): the spool is removed, the existing dataset untouched', async () => {
      const { folder, out, original } = await folderWithExisting();
      const source = memorySource(['a'], [['1'], ['2'], ['3']], { failAfter: { rows: 2, error: new MlpipeError('data_error', 'boom: connection lost') } });
      const err = await rejection(streamLoad(source, new ArrowFileSink(out), { chunkRows: 1, spoolNear: out }));
      expect((err as Error).message).to.equal('boom: connection lost');
      expect(await readdir(folder)).to.deep.equal(['data.arrow']);
      expect((await readFile(out)).equals(original)).to.equal(true);
    });

    it('a bad value (pass 2): the partial dataset and the spool are removed, the existing dataset untouched', async () => {
      const { folder, out, original } = await folderWithExisting();
      const rows: RawValue[][] = Array.from({ length: 50 }, (_, i) => [i === 40 ? 'x' : String(i)]);
      const err = await rejection(streamLoad(memorySource(['a'], rows, { name: 'in.csv' }), new ArrowFileSink(out), { chunkRows: 7, spoolNear: out, types: { a: 'integer' } }));
      expect((err as Error).message).to.equal('in.csv: row 41, column "a": expected a number, got "x" (column type integer)');
      expect(await readdir(folder)).to.deep.equal(['data.arrow']);
      expect((await readFile(out)).equals(original)).to.equal(true);
    });

    it('aborting (Ctrl-C) while the source waits for data: InterruptedError at once, nothing left', async () => {
      const { folder, out, original } = await folderWithExisting();
      const stuck: RecordSource = {
        name: 'slow',
        warnings: [],
        declaredTypes: () => ({}),
        lineage: () => ({ kind: 'command', command: 'slow' }),
        async *chunks() {
          yield { columns: ['a'], rows: [['1']] };
          await new Promise(() => {}); // never delivers the next chunk
        },
      };
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const err = await rejection(streamLoad(stuck, new ArrowFileSink(out), { spoolNear: out, signal: controller.signal }));
      expect(err).to.be.instanceOf(InterruptedError);
      expect((err as InterruptedError).exitCode).to.equal(130);
      expect(await readdir(folder)).to.deep.equal(['data.arrow']);
      expect((await readFile(out)).equals(original)).to.equal(true);
    });

    it('an output folder that does not exist yet: the spool goes to the temporary folder, and nothing is created on failure', async () => {
      const out = join(dir, 'not-yet', 'data.arrow');
      const before = new Set((await readdir(tmpdir())).filter((f) => f.includes('.spool-')));
      const source = memorySource(['a'], [['1'], ['2']], { failAfter: { rows: 1, error: new Error('gone') } });
      await rejection(streamLoad(source, new ArrowFileSink(out), { chunkRows: 1, spoolNear: out }));
      expect(await readdir(dir)).not.to.include('not-yet');
      const after = (await readdir(tmpdir())).filter((f) => f.includes('.spool-') && !before.has(f));
      expect(after).to.deep.equal([]);
    });
  });

  it('the spool keeps Dates, bigints, booleans and missing values intact between the passes', async () => {
    const when = new Date(Date.UTC(2024, 2, 5, 14, 30));
    const rows: RawValue[][] = [[when, 12n, true, undefined], [null, 7n, false, 'x']];
    const loaded = await toMemory(rows, { columns: ['d', 'n', 'b', 's'], declared: { d: 'datetime', n: 'integer' } });
    expect(contents(loaded.table)).to.deep.equal([
      { name: 'd', type: 'datetime', cells: [when.getTime(), null] },
      { name: 'n', type: 'integer', cells: [12, 7] },
      { name: 'b', type: 'boolean', cells: [true, false] },
      { name: 's', type: 'category', cells: [null, 'x'] },
    ]);
  });

  it('writes nothing else into the output folder than the dataset', async () => {
    const folder = join(dir, 'clean');
    await mkdir(folder);
    await writeFile(join(folder, 'keep.txt'), 'x');
    const out = join(folder, 'd.arrow');
    await streamLoad(memorySource(COLUMNS, rawRows()), new ArrowFileSink(out), { chunkRows: 3, spoolNear: out });
    expect((await readdir(folder)).sort()).to.deep.equal(['d.arrow', 'keep.txt']);
  });
});
