import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveTarget } from '../pipeline/featurize.js';
import { cellAt, findColumn } from '../table.js';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { memorySource } from '../../test-helpers/memory-source.js';
import { readDataset } from './dataset.js';
import { writeDataset } from './dataset-writer.js';
import { loadSource, loadToDataset } from './load.js';
import { MemoryTableSink } from './table-sinks.js';
import { streamLoad } from './type-chunks.js';

let dir: string;

/** A CSV of `n` rows whose `left` column says Yes/No (every third row Yes) in the given spellings. */
async function csv(name: string, n: number, spellYes: (i: number) => string = () => 'Yes', spellNo: (i: number) => string = () => 'No'): Promise<string> {
  const lines = ['age,left'];
  for (let i = 0; i < n; i++) lines.push(`${20 + i},${i % 3 === 0 ? spellYes(i) : spellNo(i)}`);
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

describe('loading keeps how a boolean column spelled its values', () => {
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  it('a CSV column of Yes/No is boolean with its spellings, in the schema, the column, the profile and the target classes', async () => {
    for (const chunkRows of [1, 7, 10_000]) {
      const loaded = await loadSource({ source: await csv('yes-no.csv', 30), chunkRows });
      expect(loaded.schema[1]).to.deep.equal({ name: 'left', type: 'boolean', truthSpellings: { true: 'Yes', false: 'No' } });
      const column = findColumn(loaded.table, 'left')!;
      expect(column.truthSpellings).to.deep.equal({ true: 'Yes', false: 'No' });
      // the values themselves are booleans: features of a boolean stay booleans
      expect(cellAt(column, 0)).to.equal(true);
      const profile = loaded.profile.columns[1]!;
      expect(profile.truthSpellings).to.deep.equal({ true: 'Yes', false: 'No' });
      expect(profile.top).to.deep.equal([{ value: 'No', count: 20 }, { value: 'Yes', count: 10 }]);
      expect(resolveTarget(loaded.table, 'left', undefined).classes).to.deep.equal(['No', 'Yes']);
      expect(loaded.warnings).to.deep.equal([]);
    }
  });

  it('mixed spellings: the most frequent of each truth value is kept, and a warning names every one seen', async () => {
    const path = await csv('mixed.csv', 30, (i) => (i % 2 === 0 ? 'YES' : 'yes'), (i) => (i % 4 === 1 ? 'no' : 'No'));
    const loaded = await loadSource({ source: path, chunkRows: 4 });
    expect(loaded.schema[1]!.truthSpellings).to.deep.equal({ true: 'YES', false: 'No' });
    expect(loaded.warnings).to.have.length(1);
    expect(loaded.warnings[0]).to.include('column "left"').and.include('"YES" ×5, "yes" ×5').and.include('"No" ×').and.include('"no" ×');
    expect(resolveTarget(loaded.table, 'left', undefined).classes).to.deep.equal(['No', 'YES']);
  });

  it('a column declared boolean (--types left=boolean) takes the data\'s spelling too', async () => {
    const loaded = await loadSource({ source: await csv('declared.csv', 12, () => 'TRUE', () => 'FALSE'), types: { left: 'boolean' } });
    expect(loaded.schema[1]).to.deep.equal({ name: 'left', type: 'boolean', truthSpellings: { true: 'TRUE', false: 'FALSE' } });
    expect(resolveTarget(loaded.table, 'left', undefined).classes).to.deep.equal(['FALSE', 'TRUE']);
  });

  it('true/false text, real JSON booleans and a database\'s boolean column have no spellings (their labels are booleans as before)', async () => {
    const plain = await loadSource({ source: await csv('plain.csv', 9, () => 'true', () => 'false') });
    expect(plain.schema[1]).to.deep.equal({ name: 'left', type: 'boolean' });
    const json = join(dir, 'real.json');
    await writeFile(json, JSON.stringify([{ a: 1, b: true }, { a: 2, b: false }, { a: 3, b: true }]));
    const fromJson = await loadSource({ source: json });
    expect(fromJson.schema[1]).to.deep.equal({ name: 'b', type: 'boolean' });
    expect(resolveTarget(fromJson.table, 'b', undefined).classes).to.deep.equal(['false', 'true']);
    const sink = new MemoryTableSink();
    const sql = await streamLoad(memorySource(['b'], [[true], [false], [null]], { declared: { b: 'boolean' } }), sink, { spoolNear: join(dir, 'spool') });
    expect(sql.schema).to.deep.equal([{ name: 'b', type: 'boolean' }]);
    // strings "Yes"/"No" in JSON are the source's spelling, as in a CSV
    const ndjson = join(dir, 'strings.ndjson');
    await writeFile(ndjson, '{"b":"Yes"}\n{"b":"No"}\n');
    expect((await loadSource({ source: ndjson })).schema).to.deep.equal([{ name: 'b', type: 'boolean', truthSpellings: { true: 'Yes', false: 'No' } }]);
  });

  it('the spellings travel with a dataset (.arrow): loaded again, read whole, and kept by writeDataset', async () => {
    const out = join(dir, 'data.arrow');
    const written = await loadToDataset({ source: await csv('to-arrow.csv', 15, () => 'yes', () => 'no'), out });
    expect(written.schema[1]!.truthSpellings).to.deep.equal({ true: 'yes', false: 'no' });
    const again = await loadSource({ source: out });
    expect(again.schema[1]).to.deep.equal({ name: 'left', type: 'boolean', truthSpellings: { true: 'yes', false: 'no' } });
    expect(cellAt(findColumn(again.table, 'left')!, 0)).to.equal(true);
    expect(again.warnings).to.deep.equal([]);
    const whole = await readDataset(out);
    expect(findColumn(whole.table, 'left')!.truthSpellings).to.deep.equal({ true: 'yes', false: 'no' });
    const copy = join(dir, 'copy.arrow');
    await writeDataset(copy, whole.table, null);
    expect(findColumn((await readDataset(copy)).table, 'left')!.truthSpellings).to.deep.equal({ true: 'yes', false: 'no' });
  });

  it('a dataset written before spellings were kept reads as it always did: booleans, labels true/false', async () => {
    const old = join(dir, 'old.arrow');
    const loaded = await loadSource({ source: await csv('old.csv', 9) });
    const table = { ...loaded.table, columns: loaded.table.columns.map((c) => ({ ...c, truthSpellings: undefined }) as typeof c) };
    await writeDataset(old, table, null);
    const again = await loadSource({ source: old });
    expect(again.schema[1]).to.deep.equal({ name: 'left', type: 'boolean' });
    expect(resolveTarget(again.table, 'left', undefined).classes).to.deep.equal(['false', 'true']);
  });
});
