import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { ROOT, cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { DataError, NotFoundError } from '../errors.js';
import { cellAt } from '../table.js';
import { fingerprintTable, readDataset } from './dataset.js';
import { loadSource, loadToDataset } from './load.js';

const CSV = 'id,species,mass,observed,tagged\n1,Adelie,3750.5,2024-03-05,yes\n2,Gentoo,NA,2024-03-06T10:00:00Z,no\n3,Adelie,4100,,yes\n';

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

describe('loadSource / loadToDataset', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  it('loads a CSV into a typed table with its lineage, profile and dataset file', async () => {
    const source = join(dir, 'penguins.csv');
    await writeFile(source, CSV);
    const out = join(dir, 'out', 'penguins.arrow');
    const before = Date.now();
    const result = await loadToDataset({ source, out });
    const after = Date.now();

    // loadToDataset streams into the file: the result holds the schema and row count, not the table.
    expect(result.rows).to.equal(3);
    expect(result.schema.map((c) => [c.name, c.type])).to.deep.equal([
      ['id', 'integer'],
      ['species', 'category'],
      ['mass', 'number'],
      ['observed', 'datetime'],
      ['tagged', 'boolean'],
    ]);
    expect(result.warnings).to.deep.equal([]);

    const { lineage } = result;
    expect(lineage.source).to.deep.equal({
      kind: 'file',
      path: source,
      format: 'csv',
      bytes: Buffer.byteLength(CSV),
      sha256: sha256(CSV),
      rows: 3,
    });
    expect(lineage.rows).to.equal(3);
    expect(lineage.columns).to.equal(5);
    expect(lineage.fingerprint).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(lineage.fingerprint).to.equal(fingerprintTable((await readDataset(out)).table));
    expect(lineage.loadedAt).to.equal(new Date(lineage.loadedAt).toISOString());
    const loadedAt = Date.parse(lineage.loadedAt);
    expect(loadedAt).to.be.within(before, after);
    expect(lineage.mlpipeVersion).to.equal(await packageVersion());

    const mass = result.profile.columns.find((c) => c.name === 'mass');
    expect(mass).to.include({ count: 2, missing: 1, min: 3750.5, max: 4100 });
    expect(result.profile.rows).to.equal(3);

    // The dataset file holds the same table and lineage, and nothing else is left in the folder.
    expect(await readdir(join(dir, 'out'))).to.deep.equal(['penguins.arrow']);
    const written = await readDataset(out);
    expect(written.lineage).to.deep.equal(lineage);
    expect(fingerprintTable(written.table)).to.equal(lineage.fingerprint);
  });

  it('reading the written .arrow back gives kind dataset, the parent lineage and the same fingerprint', async () => {
    const source = join(dir, 'again.csv');
    await writeFile(source, CSV);
    const out = join(dir, 'again.arrow');
    const first = await loadToDataset({ source, out });

    const second = await loadSource({ source: out });
    const arrowBytes = await readFile(out);
    expect(second.lineage.source).to.deep.equal({
      kind: 'dataset',
      path: out,
      format: 'arrow',
      parent: first.lineage,
      bytes: arrowBytes.length,
      sha256: sha256(arrowBytes),
    });
    expect(second.lineage.fingerprint).to.equal(first.lineage.fingerprint);
    expect(second.lineage.rows).to.equal(3);
    expect(second.lineage.columns).to.equal(5);
    expect(second.table.columns.map((c) => [c.name, c.type])).to.deep.equal(first.schema.map((c) => [c.name, c.type]));
    const original = (await loadSource({ source })).table;
    for (const [j, col] of second.table.columns.entries()) {
      const orig = original.columns[j];
      if (!orig) throw new Error(`no column ${j}`);
      for (let i = 0; i < 3; i++) expect(cellAt(col, i), `${col.name}[${i}]`).to.deep.equal(cellAt(orig, i));
    }
  });

  it('applies declared types and passes on header warnings', async () => {
    const source = join(dir, 'declared.csv');
    await writeFile(source, 'zip,zip\n02134,1\n10001,2\n');
    const result = await loadSource({ source, types: { zip: 'category' } });
    expect(result.table.columns.map((c) => [c.name, c.type])).to.deep.equal([
      ['zip', 'category'],
      ['zip_2', 'integer'],
    ]);
    expect(cellAt(result.table.columns[0]!, 0)).to.equal('02134');
    expect(result.warnings).to.deep.equal([`${source}: column name "zip" appears more than once; column 2 is renamed "zip_2"`]);
  });

  it('reads standard input with kind stdin and no path, size or hash', async () => {
    const result = await loadSource({ source: '-', stdin: Readable.from([Buffer.from('{"a":1}\n{"a":2}\n')]) });
    expect(result.lineage.source).to.deep.equal({ kind: 'stdin', format: 'ndjson', rows: 2 });
    expect(result.lineage.rows).to.equal(2);
  });

  it('equal data from different formats has the same fingerprint', async () => {
    const csv = join(dir, 'same.csv');
    const json = join(dir, 'same.json');
    await writeFile(csv, 'a,b\n1,x\n2,y\n');
    await writeFile(json, '[{"a":1,"b":"x"},{"a":2,"b":"y"}]');
    const [a, b] = await Promise.all([loadSource({ source: csv }), loadSource({ source: json })]);
    expect(a.lineage.fingerprint).to.equal(b.lineage.fingerprint);
    expect(a.lineage.source.sha256).not.to.equal(b.lineage.source.sha256);
  });

  it('passes on NotFoundError and DataError', async () => {
    const missing = join(dir, 'missing.csv');
    let caught: unknown;
    try {
      await loadSource({ source: missing });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(NotFoundError);

    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'a,b\n1,2\n3\n');
    caught = undefined;
    try {
      await loadToDataset({ source: bad, out: join(dir, 'bad.arrow') });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(DataError);
    expect((caught as DataError).message).to.equal(
      `${bad}: row 2 (line 3), column "b": expected 2 fields like the header, found 1 (a value is missing, or a quote is not closed)`,
    );
    expect(await readdir(dir)).not.to.include('bad.arrow');
  });
});
