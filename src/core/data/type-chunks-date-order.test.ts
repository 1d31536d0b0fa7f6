import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { rejection } from '../../test-helpers/async.js';
import { DataError } from '../errors.js';
import { type Table, cellAt } from '../table.js';
import { type DeclaredType, parseDatetime } from '../values.js';
import { buildTable } from './build.js';
import { readDataset } from './dataset.js';
import { loadSource, loadToDataset } from './load.js';
import { profileTable } from './profile.js';
import { readRawFile } from './files.js';
import { fileSource } from './sources/file.js';
import type { RecordSource } from './sources/types.js';
import { MemoryTableSink } from './table-sinks.js';
import { type StreamLoadOptions, streamLoad } from './type-chunks.js';
import { asRows } from '../../test-helpers/async.js';

/**
 * Loading numeric dates with the year last: the order is learned over every row in pass 1, and pass
 * 2 types every row with it, also the rows of chunks read before a later value decided it.
 */

/** 40 visits: day-first dates whose first value above 12 is on row 29 (so in a late chunk), an ISO column, a number. */
function visitsCsv(): { csv: string; iso: string[] } {
  const lines = ['id,visit,seen,amount'];
  const iso: string[] = [];
  for (let i = 0; i < 40; i++) {
    // days 1..12 until row 28, then the 13th to the 24th: ambiguous at first
    const day = i < 28 ? (i % 12) + 1 : i - 15;
    const month = (i % 9) + 1;
    const sep = ['/', '/', '.', '-'][i % 4]!;
    const time = i % 5 === 0 ? ' 14:30' : '';
    const visit = i === 7 ? 'NA' : `${String(day).padStart(i % 3 === 0 ? 1 : 2, '0')}${sep}${String(month).padStart(2, '0')}${sep}2024${time}`;
    const isoValue = i === 7 ? '' : `2024-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}${time ? ' 14:30' : ''}`;
    iso.push(isoValue);
    lines.push(`${i + 1},${visit},2024-01-${String((i % 28) + 1).padStart(2, '0')},${i * 1.5}`);
  }
  return { csv: `${lines.join('\n')}\n`, iso };
}


async function load(source: RecordSource, options: StreamLoadOptions) {
  const sink = new MemoryTableSink();
  const result = await streamLoad(source, sink, options);
  return { ...result, table: sink.table() };
}

function cells(table: Table, name: string): unknown[] {
  const column = table.columns.find((c) => c.name === name)!;
  return Array.from({ length: table.rowCount }, (_, i) => cellAt(column, i));
}

describe('streamLoad: numeric dates with the year last', () => {
  let dir: string;
  let visits: string;
  let expected: (number | null)[];
  before(async () => {
    dir = await tempDir();
    const { csv, iso } = visitsCsv();
    visits = join(dir, 'visits.csv');
    await writeFile(visits, csv);
    expected = iso.map((v) => (v === '' ? null : parseDatetime(v)));
  });
  after(cleanupTempDirs);

  it('learns day first from a value in a later chunk, and types the earlier chunks with it (spans, strings, any chunk size)', async () => {
    for (const chunkRows of [1, 3, 4, 7, 10_000]) {
      for (const source of [fileSource({ kind: 'file', path: visits }), asRows(fileSource({ kind: 'file', path: visits }))]) {
        const loaded = await load(source, { chunkRows });
        expect(loaded.schema, `chunkRows ${chunkRows}`).to.deep.equal([
          { name: 'id', type: 'integer' },
          { name: 'visit', type: 'datetime', dateOrder: 'dmy' },
          { name: 'seen', type: 'datetime' },
          { name: 'amount', type: 'number' },
        ]);
        expect(cells(loaded.table, 'visit'), `chunkRows ${chunkRows}`).to.deep.equal(expected);
        expect(loaded.table.columns[1]!.dateOrder).to.equal('dmy');
        expect(loaded.profile.columns[1]).to.include({ name: 'visit', type: 'datetime', dateOrder: 'dmy', count: 39, missing: 1 });
        expect(loaded.warnings).to.deep.equal([]);
      }
    }
  });

  it('gives what the whole-table builder gives, and what declaring the order gives (every value through toCell)', async () => {
    const fast = await load(fileSource({ kind: 'file', path: visits }), { chunkRows: 4 });
    const whole = buildTable(await readRawFile(visits));
    expect(whole.columns[1]!.dateOrder).to.equal('dmy');
    expect(fast.table).to.deep.equal(whole);
    expect(fast.profile).to.deep.equal(profileTable(whole));
    for (const types of [{ visit: 'datetime:dmy' }, { visit: 'datetime' }] as Record<string, DeclaredType>[]) {
      const declared = await load(fileSource({ kind: 'file', path: visits }), { chunkRows: 4, types });
      expect(declared.table, JSON.stringify(types)).to.deep.equal(fast.table);
      expect(declared.lineage.fingerprint).to.equal(fast.lineage.fingerprint);
      expect(declared.lineage.types).to.deep.equal(types);
    }
  });

  it('learns the order from the first rows with inferRows, and reads the later ones with it', async () => {
    const path = join(dir, 'late.csv');
    await writeFile(path, 'd\n13/01/2024\n02/03/2024\n05/04/2024\n');
    const loaded = await load(fileSource({ kind: 'file', path }), { chunkRows: 1, inferRows: 1 });
    expect(loaded.schema).to.deep.equal([{ name: 'd', type: 'datetime', dateOrder: 'dmy' }]);
    expect(cells(loaded.table, 'd')).to.deep.equal(['2024-01-13', '2024-03-02', '2024-04-05'].map((v) => parseDatetime(v)));
  });

  it('every value fits both orders: month first, with a warning naming the file, the column and the way out', async () => {
    const path = join(dir, 'ambiguous.csv');
    await writeFile(path, 'when,n\n03/05/2024,1\n04/06/2024,2\n,3\n');
    const loaded = await load(fileSource({ kind: 'file', path }), {});
    expect(loaded.schema[0]).to.deep.equal({ name: 'when', type: 'datetime', dateOrder: 'mdy' });
    expect(cells(loaded.table, 'when')).to.deep.equal([parseDatetime('2024-03-05'), parseDatetime('2024-04-06'), null]);
    expect(loaded.warnings).to.deep.equal([
      `${path}: column "when": every numeric date in it (like 03/05/2024) reads both day first and month first; read month first (MM/DD/YYYY, as pandas does). If days come first, declare the column's type datetime:dmy (--types "when=datetime:dmy", or types: in pipeline.yaml)`,
    ]);
    // declared: that order, and nothing to warn about
    const declared = await load(fileSource({ kind: 'file', path }), { types: { when: 'datetime:dmy' } });
    expect(declared.schema[0]).to.deep.equal({ name: 'when', type: 'datetime', dateOrder: 'dmy' });
    expect(cells(declared.table, 'when')).to.deep.equal([parseDatetime('2024-05-03'), parseDatetime('2024-06-04'), null]);
    expect(declared.warnings).to.deep.equal([]);
  });

  it('both orders in one column: a category; declared as a datetime, the first contradicting value names row, line and column', async () => {
    const path = join(dir, 'both.csv');
    await writeFile(path, 'when\n12/25/2024\n03/05/2024\n25/12/2024\n');
    const loaded = await load(fileSource({ kind: 'file', path }), {});
    expect(loaded.schema).to.deep.equal([{ name: 'when', type: 'category' }]);
    const declared = await rejection(load(fileSource({ kind: 'file', path }), { types: { when: 'datetime:mdy' } }));
    expect(declared).to.be.instanceOf(DataError);
    expect(declared.message).to.equal(`${path}: row 3 (line 4), column "when": expected a date as MM/DD/YYYY (the column's order) or like 2024-03-05, got "25/12/2024" (column type datetime:mdy)`);
    const plain = await rejection(load(fileSource({ kind: 'file', path }), { types: { when: 'datetime' } }));
    expect(plain.message).to.equal(
      `${path}: row 1 (line 2), column "when": expected a date like 2024-03-05, 2024-03-05T14:30:00Z or Mar 5 2024, got "12/25/2024" (column type datetime): a numeric date needs the column's day/month order, which its values do not decide (or contradict); declare the type datetime:dmy or datetime:mdy`,
    );
  });

  it('the dataset records the order in its schema (Arrow field metadata), and loading it again keeps it', async () => {
    const out = join(dir, 'visits.arrow');
    const written = await loadToDataset({ source: visits, out, chunkRows: 4 });
    const arrow = tableFromIPC(await readFile(out));
    expect(arrow.schema.fields[1]!.metadata.get('mlpipe.dateOrder')).to.equal('dmy');
    expect(arrow.schema.fields[2]!.metadata.has('mlpipe.dateOrder')).to.equal(false);
    const read = await readDataset(out);
    expect(read.table.columns[1]).to.include({ name: 'visit', type: 'datetime', dateOrder: 'dmy' });
    expect(cells(read.table, 'visit')).to.deep.equal(expected);
    const again = await loadSource({ source: out, chunkRows: 7 });
    expect(again.schema).to.deep.equal(written.schema);
    expect(again.table.columns[1]!.dateOrder).to.equal('dmy');
    expect(again.lineage.fingerprint).to.equal(written.lineage.fingerprint);
    expect(again.warnings).to.deep.equal([]);
  });
});
