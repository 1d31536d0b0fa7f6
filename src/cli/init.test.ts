import { expect } from 'chai';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'yaml';
import { EXAMPLES, cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';

const PENGUINS = join(EXAMPLES, 'penguins', 'penguins.csv');

/** Exit 1 or 2 with exactly one line on stderr, no stack trace. */
function expectOneLine(run: { code: number | null; stderr: string }, code: number, ...parts: string[]): void {
  expect(run.code, run.stderr).to.equal(code);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^mlpipe: /);
  for (const p of parts) expect(lines[0]).to.contain(p);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('CLI: mlpipe init (real process)', function () {
  this.timeout(180_000);
  let dir: string;
  let artifacts: string;
  const cli = (args: string[], input?: string) => runCli(args, { cwd: dir, env: { MLPIPE_ARTIFACTS: artifacts }, input });

  before(async () => {
    dir = await tempDir('mlpipe-init-cli-');
    artifacts = join(dir, 'store');
    await writeFile(join(dir, 'penguins.csv'), await readFile(PENGUINS));
  });
  after(cleanupTempDirs);

  it('init writes a commented config; run on it as written prints a bundle reference', async () => {
    const init = await cli(['init', 'penguins.csv', '--target', 'Species', '--out', 'configs/pipeline.yaml']);
    expect(init.code, init.stderr).to.equal(0);
    expect(init.stdout).to.contain('target Species: classification with 3 classes');
    expect(init.stdout).to.contain('  Island (category) → one-hot');
    expect(init.stdout).to.contain('wrote configs/pipeline.yaml: penguins, 6 featurized columns, 0 dropped (344 rows × 7 columns)');
    expect(init.stdout.trimEnd().split('\n').pop()).to.contain('mlpipe run configs/pipeline.yaml');
    const text = await readFile(join(dir, 'configs', 'pipeline.yaml'), 'utf8');
    expect(text).to.match(/^# mlpipe pipeline config, written by `mlpipe init`/);
    const doc = parse(text) as { source: string; name: string };
    expect(doc.source).to.equal('../penguins.csv');
    expect(doc.name).to.equal('penguins');
    const run = await cli(['run', 'configs/pipeline.yaml']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('target Species: classification with 3 classes');
    expect(run.stdout.trimEnd().split('\n').pop()).to.equal('penguins@1.0.0');
  });

  it('init on an SQLite file with --table writes source: {sql, table} relative to the config, and runs', async () => {
    const db = new Database(join(dir, 'shop.db'));
    try {
      db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, city TEXT, age INTEGER, spend REAL, vip INTEGER)');
      const insert = db.prepare('INSERT INTO customers (city, age, spend, vip) VALUES (?, ?, ?, ?)');
      for (let i = 0; i < 120; i++) insert.run(['Oslo', 'Lima', 'Kyiv', null][i % 4], 20 + (i % 45), ((i * 37) % 500) / 3, i % 3 === 0 ? 1 : 0);
    } finally {
      db.close();
    }
    const init = await cli(['init', 'shop.db', '--table', 'customers', '--target', 'vip', '--out', 'conf/shop.yaml']);
    expect(init.code, init.stderr).to.equal(0);
    expect(init.stdout).to.contain('id: dropped (id-like');
    const doc = parse(await readFile(join(dir, 'conf', 'shop.yaml'), 'utf8')) as { name: string; source: { sql: string; table: string }; task: string; features: { drop: string[] } };
    expect(doc.source).to.deep.equal({ sql: '../shop.db', table: 'customers' });
    expect(doc.name).to.equal('customers');
    expect(doc.task).to.equal('classification');
    expect(doc.features.drop).to.deep.equal(['id']);
    const run = await cli(['run', 'conf/shop.yaml']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.trimEnd().split('\n').pop()).to.equal('customers@1.0.0');
  });

  it('an existing --out is refused (exit 1, one line naming it, untouched) unless --force', async () => {
    const file = join(dir, 'taken.yaml');
    await writeFile(file, 'mine: true\n');
    const before = await stat(file);
    expectOneLine(await cli(['init', 'penguins.csv', '-t', 'Species', '-o', 'taken.yaml']), 1, 'taken.yaml: already exists', '--force');
    expect(await readFile(file, 'utf8')).to.equal('mine: true\n');
    expect((await stat(file)).mtimeMs).to.equal(before.mtimeMs);
    const forced = await cli(['init', 'penguins.csv', '-t', 'Species', '-o', 'taken.yaml', '--force', '--name', 'peng-2']);
    expect(forced.code, forced.stderr).to.equal(0);
    expect(parse(await readFile(file, 'utf8'))).to.include({ name: 'peng-2', target: 'Species' });
  });

  it('an unknown target is exit 1 with a suggestion, and nothing is written', async () => {
    expectOneLine(await cli(['init', 'penguins.csv', '--target', 'species', '--out', 'nope.yaml']), 1, 'no column "species"', 'did you mean "Species"?');
    expect(await exists(join(dir, 'nope.yaml'))).to.equal(false);
  });

  it('bad flags are usage errors: exit 2, one line, nothing written', async () => {
    const cases = [
      ['init', 'penguins.csv', '--out', 'bad.yaml'], // no --target
      ['init', 'penguins.csv', '--target', 'Species'], // no --out
      ['init', 'penguins.csv', '--target', 'Species', '--out', 'bad.txt'], // not a .yaml
      ['init', 'penguins.csv', '--target', 'Species', '--out', 'bad.yaml', '--name', 'no spaces please'],
      ['init', 'penguins.csv', '--target', 'Species', '--out', 'bad.yaml', '--task', 'clustering'],
      ['init', 'penguins.csv', '--target', 'Species', '--out', 'bad.yaml', '--table', 't'], // a flag for SQL sources
      ['init', 'shop.db', '--target', 'vip', '--out', 'bad.yaml'], // SQL without --table/--query
      ['init', 'penguins.csv', '--target', 'Species', '--out', 'bad.yaml', '--bogus'],
    ];
    for (const args of cases) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr.trimEnd().split('\n'), r.stderr).to.have.length(1);
    }
    expect(await exists(join(dir, 'bad.yaml'))).to.equal(false);
    expect(await exists(join(dir, 'bad.txt'))).to.equal(false);
  });

  it('--json prints what it wrote; a source flag such as --types lands on the source', async () => {
    await mkdir(join(dir, 'j'), { recursive: true });
    const r = await cli(['init', 'penguins.csv', '-t', 'Species', '-o', 'j/p.yaml', '--types', 'Flipper Length (mm)=category', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const doc = JSON.parse(r.stdout) as { out: string; name: string; task: string; features: { column: string; kind: string }[]; next: string };
    expect(doc).to.include({ out: 'j/p.yaml', name: 'penguins', task: 'classification', next: 'mlpipe run j/p.yaml' });
    expect(doc.features.find((f) => f.column === 'Flipper Length (mm)')?.kind).to.equal('one-hot');
    const cfg = parse(await readFile(join(dir, 'j', 'p.yaml'), 'utf8')) as { source: unknown };
    expect(cfg.source).to.deep.equal({ path: '../penguins.csv', types: { 'Flipper Length (mm)': 'category' } });
  });
});
