import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import type { ColumnType } from '../values.js';
import { fileSource } from './sources/file.js';
import type { RecordSource } from './sources/types.js';
import { MemoryTableSink } from './table-sinks.js';
import { type StreamLoadOptions, streamLoad } from './type-chunks.js';
import { mulberry32, pick } from '../../test-helpers/random.js';
import { asRows } from '../../test-helpers/async.js';

/**
 * The loader's fast paths against its general one, end to end on seeded random CSV files: rows read
 * as spans of the text (typed values from inference, categories from the text), the same rows as
 * strings (another source), and every type declared (each value through `toCell`) give the same
 * table, profile and fingerprint, in any chunking.
 */

/** A CSV of columns of every kind, with missing tokens, padding, quoted values (doubled quotes too) and non-ASCII text. */
function randomCsv(rnd: () => number, rows: number): string {
  const lines = ['id,x,flag,day,at,cat,note,late,pad'];
  for (let i = 0; i < rows; i++) {
    const miss = () => rnd() < 0.07;
    const x = miss() ? pick(rnd, ['', 'NA', '?', 'null']) : (rnd() * 1000 - 300).toFixed(Math.floor(rnd() * 5));
    const flag = miss() ? '' : pick(rnd, ['yes', 'no', 'True', 'false']);
    const day = miss() ? 'N/A' : new Date(Date.UTC(2000, 0, 1) + Math.floor(rnd() * 9000) * 86_400_000).toISOString().slice(0, 10);
    const at = miss() ? '' : new Date(Date.UTC(2020, 0, 1) + Math.floor(rnd() * 1e11)).toISOString().slice(0, pick(rnd, [16, 19, 23]));
    const cat = miss() ? '' : pick(rnd, ['red', 'green', '"blue, dark"', 'żółty', '"say ""hi"""', ' padded ']);
    const note = `"${pick(rnd, ['The', 'A', 'Every'])} review ${Math.floor(rnd() * rows)} said ${pick(rnd, ['it was fine', 'it was slow', 'no'])}"`;
    // numbers for the first rows, then words: typed-looking at first, a category in the end
    const late = i < rows * 0.7 ? String(Math.floor(rnd() * 50)) : pick(rnd, ['many', 'few']);
    const pad = miss() ? '  ' : ` ${Math.floor(rnd() * 9)} `;
    lines.push([i + 1, x, flag, day, at, cat, note, late, pad].join(','));
  }
  return `${lines.join(rnd() < 0.5 ? '\n' : '\r\n')}\n`;
}


async function load(source: RecordSource, options: StreamLoadOptions) {
  const sink = new MemoryTableSink();
  const result = await streamLoad(source, sink, options);
  return { schema: result.schema, table: sink.table(), profile: result.profile, fingerprint: result.lineage.fingerprint, skipped: result.skipped };
}

describe('stream loading: fast paths agree with the general one', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  it('spans, strings and declared types give the same table, profile and fingerprint, whatever the chunk size', async () => {
    const rnd = mulberry32(17);
    for (let round = 0; round < 6; round++) {
      const path = join(dir, `random-${round}.csv`);
      await writeFile(path, randomCsv(rnd, 200 + Math.floor(rnd() * 2000)));
      const chunkRows = pick(rnd, [7, 100, 1000, 10_000]);
      const fast = await load(fileSource({ kind: 'file', path }), { chunkRows });
      expect(fast.schema.map((c) => c.type), `round ${round}`).to.deep.equal(['integer', 'number', 'boolean', 'datetime', 'datetime', 'category', 'text', 'category', 'integer']);
      const strings = await load(asRows(fileSource({ kind: 'file', path })), { chunkRows: pick(rnd, [13, 500]) });
      const types = Object.fromEntries(fast.schema.map((c) => [c.name, c.type])) as Record<string, ColumnType>;
      const declared = await load(fileSource({ kind: 'file', path }), { chunkRows, types });
      for (const other of [strings, declared]) {
        expect(other.schema, `round ${round}`).to.deep.equal(fast.schema);
        expect(other.table, `round ${round}`).to.deep.equal(fast.table);
        expect(other.profile, `round ${round}`).to.deep.equal(fast.profile);
        expect(other.fingerprint, `round ${round}`).to.equal(fast.fingerprint);
      }
    }
  });

  it('the same with values refused and skipped, and with types inferred from the first rows only', async () => {
    const rnd = mulberry32(23);
    const path = join(dir, 'skip.csv');
    await writeFile(path, randomCsv(rnd, 3000));
    for (const options of [
      { chunkRows: 250, types: { late: 'integer' as ColumnType }, onBadRow: 'skip' as const },
      { chunkRows: 64, inferRows: 100, onBadRow: 'skip' as const },
      { chunkRows: 1000, inferRows: 2500, onBadRow: 'skip' as const },
    ]) {
      const fast = await load(fileSource({ kind: 'file', path }), options);
      const strings = await load(asRows(fileSource({ kind: 'file', path })), options);
      expect(strings, JSON.stringify(options)).to.deep.equal(fast);
    }
    const skipped = await load(fileSource({ kind: 'file', path }), { chunkRows: 250, types: { late: 'integer' }, onBadRow: 'skip' });
    expect(skipped.skipped.count).to.be.above(100);
  });
});
