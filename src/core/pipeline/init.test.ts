import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { EXAMPLES, ROOT, cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { loadSource } from '../data/load.js';
import { parseSourceArgument } from '../data/sources/index.js';
import { ConfigError } from '../errors.js';
import { planFeatures } from '../features/auto.js';
import { fitPipeline } from '../features/fit-pipeline.js';
import { getKind } from '../features/registry.js';
import { readPipelineConfig } from './config.js';
import { deriveExample, explicitParams, initConfig } from './init.js';
import { bundleNameFrom, defaultBundleName, literalSecret, sourceForConfig } from './init-source.js';

const PENGUINS = join(EXAMPLES, 'penguins', 'penguins.csv');
const NOW = new Date('2026-01-02T03:04:05Z');

describe('mlpipe init: initConfig', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await tempDir('mlpipe-init-');
  });
  after(cleanupTempDirs);

  /** Writes the YAML where `out` says (as the CLI does) and reads it back as a pipeline.yaml. */
  async function writeAndRead(yaml: string, out: string) {
    await writeFile(out, yaml);
    return readPipelineConfig(out);
  }

  it('writes a config for penguins that validates, with the source relative to the config\'s folder', async () => {
    const out = join(dir, 'configs', 'penguins.yaml');
    // as typed in the repository's folder: a relative source and an absolute --out elsewhere
    const r = await initConfig({ source: 'examples/penguins/penguins.csv', target: 'Species', out, cwd: ROOT, now: NOW });
    await mkdir(join(dir, 'configs'), { recursive: true });
    const cfg = await writeAndRead(r.yaml, out);
    expect(cfg.name).to.equal('penguins');
    expect(cfg.target).to.equal('Species');
    expect(cfg.task).to.equal('classification');
    expect(cfg.seed).to.equal(42);
    expect(cfg.evaluation).to.deep.equal({ holdout: 0.2 });
    expect(cfg.model).to.deep.equal({ type: 'random-forest', trees: 100, maxFeatures: 'sqrt', maxDepth: null, minSamplesSplit: 2, minSamplesLeaf: 1 });
    expect(cfg.package).to.deep.equal({});
    // written relative (not absolute), and it resolves to the same file
    const raw = parse(r.yaml) as { source: string };
    expect(raw.source).to.be.a('string');
    expect(raw.source.startsWith('/')).to.equal(false);
    expect(resolve(join(dir, 'configs'), raw.source)).to.equal(PENGUINS);
    expect(cfg.source.sources).to.deep.equal([{ kind: 'file', path: join(dir, 'configs', raw.source) }]);
    expect(r.rows).to.equal(344);
    expect(r.columns).to.equal(7);
    expect(r.classes).to.deep.equal(['Adelie', 'Chinstrap', 'Gentoo']);
  });

  it('lists every column with the automatic plan\'s kind and every parameter written out; featurizing from it fits exactly what automatic mode fits', async () => {
    const out = join(dir, 'p.yaml');
    const r = await initConfig({ source: PENGUINS, target: 'Species', out, now: NOW });
    const cfg = await writeAndRead(r.yaml, out);
    const data = await loadSource({ source: PENGUINS });
    const auto = planFeatures(data.table, { target: 'Species' });
    const columns = cfg.features.columns ?? {};
    expect(Object.keys(columns)).to.deep.equal(auto.steps.map((s) => s.column));
    for (const step of auto.steps) expect((columns[step.column] as { kind: string }).kind, step.column).to.equal(step.kind);
    // parameters written out, and read by the kind exactly as its defaults
    for (const [column, choice] of Object.entries(columns)) {
      const { kind, ...params } = choice as { kind: string };
      expect(Object.keys(params), column).not.to.be.empty;
      expect(getKind(kind).params(params), column).to.deep.equal(getKind(kind).params({}));
    }
    expect(columns['Island']).to.include({ kind: 'one-hot', maxCategories: 20, minFrequency: 2 });
    expect(columns['Body Mass (g)']).to.include({ kind: 'numeric', impute: 'median', indicator: 'auto' });
    expect(cfg.features.drop).to.deep.equal([]);
    const fromConfig = fitPipeline(data.table, planFeatures(data.table, { target: 'Species', drop: cfg.features.drop, columns }));
    const automatic = fitPipeline(data.table, auto);
    expect(fromConfig.steps).to.deep.equal(automatic.steps);
    expect(fromConfig.featureNames).to.deep.equal(automatic.featureNames);
  });

  it('comments the header, every column (type, distinct, missing, why), the model settings and the hints', async () => {
    const r = await initConfig({ source: PENGUINS, target: 'Species', out: join(dir, 'c.yaml'), now: NOW });
    const lines = r.yaml.split('\n');
    expect(lines[0]).to.match(/^# mlpipe pipeline config, written by `mlpipe init` \(mlpipe [\d.]+\) on 2026-01-02\.$/);
    expect(r.yaml).to.contain(`# Data: ${PENGUINS}: 344 rows × 7 columns`);
    expect(r.yaml).to.contain('mlpipe run');
    const line = (prefix: string) => lines.find((l) => l.trimStart().startsWith(prefix)) ?? '';
    expect(line('Island:')).to.match(/\{kind: one-hot, [^}]*\}\s+# category, 3 distinct, 0 missing → one-hot \(top: Biscoe 168, Dream 124, Torgersen 52\)$/);
    expect(line('Sex:')).to.contain('# category, 3 distinct, 10 missing → one-hot');
    expect(line('Beak Length (mm):')).to.contain('# number, 164 distinct, 2 missing, 32.1 – 59.6 → numeric (missing → median + indicator)');
    expect(line('target:')).to.contain('# the column to predict: category, 3 classes: Adelie, Chinstrap, Gentoo');
    expect(line('task:')).to.contain('# inferred from the target');
    for (const key of ['trees:', 'maxFeatures:', 'maxDepth:', 'minSamplesSplit:', 'minSamplesLeaf:', 'holdout:', 'seed:', 'name:', 'source:']) expect(line(key), key).to.match(/ {2}# \S/);
    expect(line('# cv:')).to.match(/^\s+# cv: 5\s+# uncomment/);
    expect(r.yaml).to.match(/\npackage: \{\}\n$/);
    // every line is valid: comments aligned within a group, nothing spread over several lines
    expect(lines.filter((l) => l.includes('{kind:'))).to.have.length(6);
  });

  it('lists dropped columns under drop: with the reason, and the config drops the same columns', async () => {
    const csv = join(dir, 'customers.csv');
    const rows = ['customer_id,note,city,age,churned'];
    for (let i = 0; i < 40; i++) rows.push(`${1000 + i * 7},"free text number ${i}, with commas",${['Oslo', 'Lima', ''][i % 3]},${20 + (i % 13)},${i % 3 === 0 ? 'yes' : 'no'}`);
    await writeFile(csv, `${rows.join('\n')}\n`);
    const out = join(dir, 'customers.yaml');
    const r = await initConfig({ source: csv, target: 'churned', out, now: NOW });
    expect(r.dropped.map((d) => d.column)).to.deep.equal(['customer_id', 'note']);
    expect(r.yaml).to.match(/- customer_id\s+# integer, 40 distinct, 0 missing, 1000 – 1273 → dropped: id-like/);
    expect(r.yaml).to.match(/- note\s+# (text|category), 40 distinct, 0 missing → dropped: /);
    const cfg = await writeAndRead(r.yaml, out);
    expect(cfg.name).to.equal('customers');
    expect(cfg.features.drop).to.deep.equal(['customer_id', 'note']);
    expect(Object.keys(cfg.features.columns ?? {})).to.deep.equal(['city', 'age']);
    expect(cfg.task).to.equal('classification');
    expect(cfg.source.sources).to.deep.equal([{ kind: 'file', path: csv }]);
  });

  it('writes a regression target\'s defaults (maxFeatures: all) and honours --task and --name', async () => {
    const out = join(dir, 'cars.yaml');
    const cars = await initConfig({ source: join(EXAMPLES, 'cars', 'cars.csv'), target: 'Miles_per_Gallon', out, now: NOW });
    const cfg = await writeAndRead(cars.yaml, out);
    expect(cfg.task).to.equal('regression');
    expect(cfg.model.maxFeatures).to.equal('all');
    expect(cars.yaml).not.to.contain('(stratified)');
    const forced = await initConfig({ source: PENGUINS, target: 'Flipper Length (mm)', task: 'regression', name: 'flippers', out: join(dir, 'f.yaml'), now: NOW });
    expect(forced.task).to.equal('regression');
    expect(forced.yaml).to.match(/^name: flippers\s+#/m);
    expect(forced.yaml).to.match(/^task: regression\s+# chosen with --task/m);
    expect(Object.keys((parse(forced.yaml) as { features: { columns: object } }).features.columns)).not.to.include('Flipper Length (mm)');
  });

  it('an unknown target is a ConfigError with a suggestion; a bad --name is a ConfigError', async () => {
    let err: unknown;
    try {
      await initConfig({ source: PENGUINS, target: 'species ', out: join(dir, 'x.yaml') });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.contain('target: no column "species " in the data (did you mean "Species"?)');
    err = undefined;
    try {
      await initConfig({ source: PENGUINS, target: 'Species', name: '-bad name', out: join(dir, 'x.yaml') });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.match(/^name: "-bad name" is not a valid bundle name/);
  });

  it('writes a commented derive: example over two of the data\'s number columns; the config runs unchanged, and uncommented it derives the column', async () => {
    const out = join(dir, 'derive.yaml');
    const r = await initConfig({ source: PENGUINS, target: 'Species', out, now: NOW });
    expect(r.deriveExample).to.deep.equal({ name: 'ratio', expression: '`Beak Length (mm)` / (`Beak Depth (mm)` + 1)' });
    const lines = r.yaml.split('\n');
    const at = lines.findIndex((l) => l.startsWith('  # derive:'));
    expect(at, r.yaml).to.be.greaterThan(lines.indexOf('features:'));
    expect(at).to.be.lessThan(lines.indexOf('  columns:'));
    expect(lines[at]).to.match(/^ {2}# derive:\s+# uncomment both lines: /);
    expect(lines[at + 1]).to.equal('  #   ratio: "`Beak Length (mm)` / (`Beak Depth (mm)` + 1)"');
    // as written: no derived column
    const cfg = await writeAndRead(r.yaml, out);
    expect(cfg.features.derive).to.equal(undefined);
    // uncommented: the expression reads the data's columns
    const uncommented = [...lines.slice(0, at), lines[at]!.replace('  # derive:', '  derive:'), lines[at + 1]!.replace('  #   ratio:', '    ratio:'), ...lines.slice(at + 2)].join('\n');
    const withDerive = await writeAndRead(uncommented, join(dir, 'derive-on.yaml'));
    expect(withDerive.features.derive?.map((d) => [d.name, d.expression])).to.deep.equal([['ratio', '`Beak Length (mm)` / (`Beak Depth (mm)` + 1)']]);
    const data = await loadSource({ source: PENGUINS });
    const plan = planFeatures(data.table, { target: 'Species', derive: withDerive.features.derive, columns: withDerive.features.columns });
    expect(plan.steps.map((s) => s.column)).to.include('ratio');
    const fitted = fitPipeline(data.table, plan);
    expect(fitted.derive).to.deep.equal([{ name: 'ratio', expression: '`Beak Length (mm)` / (`Beak Depth (mm)` + 1)' }]);
  });

  it('the derive: example: plain names as they are, a free name, one number column → a log, none → only a hint', async () => {
    const cars = await initConfig({ source: join(EXAMPLES, 'cars', 'cars.csv'), target: 'Miles_per_Gallon', out: join(dir, 'cars-derive.yaml'), now: NOW });
    expect(cars.deriveExample).to.deep.equal({ name: 'ratio', expression: 'Cylinders / (Displacement + 1)' });
    expect(cars.yaml).to.contain('\n  #   ratio: "Cylinders / (Displacement + 1)"\n');
    const csv = join(dir, 'ratio.csv');
    const rows = ['ratio,level,label'];
    for (let i = 0; i < 30; i++) rows.push(`${(i % 7) / 2},${['lo', 'mid', 'hi'][i % 3]},${i % 2 ? 'a' : 'b'}`);
    await writeFile(csv, `${rows.join('\n')}\n`);
    const one = await initConfig({ source: csv, target: 'label', out: join(dir, 'one.yaml'), now: NOW });
    expect(one.deriveExample).to.deep.equal({ name: 'log_value', expression: 'log(abs(ratio) + 1)' });
    const none = await initConfig({ source: csv, target: 'ratio', out: join(dir, 'none.yaml'), now: NOW });
    expect(none.deriveExample).to.equal(undefined);
    expect(none.yaml).to.match(/\n {2}# derive: \{ratio: "a \/ \(b \+ 1\)"\} {2}# numeric columns computed from /);
    expect(deriveExample(['a', 'b'], ['a', 'b', 'ratio', 'ratio_2'])).to.deep.equal({ name: 'ratio_3', expression: 'a / (b + 1)' });
    expect(deriveExample(['log', 'a`b'], ['log', 'a`b'])).to.deep.equal({ name: 'ratio', expression: '`log` / (`a``b` + 1)' });
  });

  it('keeps loading options (--types …) on the source so run loads the same way', async () => {
    const out = join(dir, 'typed.yaml');
    const r = await initConfig({ source: PENGUINS, target: 'Species', out, types: { 'Flipper Length (mm)': 'category' }, now: NOW });
    const cfg = await writeAndRead(r.yaml, out);
    expect(cfg.source.types).to.deep.equal({ 'Flipper Length (mm)': 'category' });
    expect((cfg.features.columns?.['Flipper Length (mm)'] as { kind: string }).kind).to.equal('one-hot');
  });
});

describe('mlpipe init: the source as a config writes it', () => {
  const configDir = '/work/configs';
  const cwd = '/work';

  it('files: relative to the config\'s folder, options turn it into an object; absolute paths stay', () => {
    expect(sourceForConfig(parseSourceArgument('data/x.csv', {}), {}, configDir, cwd)).to.equal('../data/x.csv');
    expect(sourceForConfig(parseSourceArgument('configs/x.csv', {}), {}, configDir, cwd)).to.equal('x.csv');
    expect(sourceForConfig(parseSourceArgument('/srv/x.csv', {}), {}, configDir, cwd)).to.equal('/srv/x.csv');
    expect(sourceForConfig(parseSourceArgument('x.txt', { format: 'csv', delimiter: ';', header: false }), { onBadRow: 'skip' }, configDir, cwd)).to.deep.equal({
      path: '../x.txt',
      format: 'csv',
      delimiter: ';',
      header: false,
      onBadRow: 'skip',
    });
    expect(sourceForConfig(parseSourceArgument('-', { format: 'ndjson' }), {}, configDir, cwd)).to.deep.equal({ path: '-', format: 'ndjson' });
  });

  it('SQL: a relative SQLite file is rewritten against the config; server URLs and ${NAME} stay exactly as written', () => {
    expect(sourceForConfig(parseSourceArgument('db/shop.db', { table: 't' }), {}, configDir, cwd)).to.deep.equal({ sql: '../db/shop.db', table: 't' });
    expect(sourceForConfig(parseSourceArgument('sqlite:db/shop.db', { query: 'SELECT 1' }), {}, configDir, cwd)).to.deep.equal({ sql: 'sqlite:../db/shop.db', query: 'SELECT 1' });
    const pg = 'postgres://app:${PGPASSWORD}@db:5432/shop';
    expect(sourceForConfig(parseSourceArgument(pg, { table: 'orders' }), {}, configDir, cwd)).to.deep.equal({ sql: pg, table: 'orders' });
  });

  it('HTTP: an object with ${NAME} references, never the secret values', () => {
    const env = { API_TOKEN: 'hunter2-secret' };
    const spec = parseSourceArgument('https://api.example.com/v1/orders?key=${API_KEY}', { bearerEnv: 'API_TOKEN', httpHeader: ['X-Tenant: ${TENANT}'], recordsPath: 'data.items', paginate: 'cursor', cursorPath: 'meta.next', pageParam: 'after' }, env);
    const source = sourceForConfig(spec, {}, configDir, cwd);
    expect(source).to.deep.equal({
      http: 'https://api.example.com/v1/orders?key=${API_KEY}',
      headers: { 'X-Tenant': '${TENANT}' },
      bearerToken: '${API_TOKEN}',
      recordsPath: 'data.items',
      pagination: { type: 'cursor', cursorPath: 'meta.next', param: 'after' },
    });
    expect(JSON.stringify(source)).not.to.contain('hunter2');
  });

  it('a secret written literally in a URL is noticed (a warning), a ${NAME} reference is not', () => {
    expect(literalSecret('postgres://app:hunter2@db/shop')).to.equal(true);
    expect(literalSecret('postgres://app:${PGPASSWORD}@db/shop')).to.equal(false);
    expect(literalSecret('postgres://app@db/shop')).to.equal(false);
    expect(literalSecret('https://api.example.com/x?api_key=abc123&page=2')).to.equal(true);
    expect(literalSecret('https://api.example.com/x?api_key=${API_KEY}&page=2')).to.equal(false);
  });

  it('parameters: written out only where the kind reads them back the same way', () => {
    expect(explicitParams('numeric', {})).not.to.have.property('fillValue');
    expect(explicitParams('numeric', { impute: 'constant', fillValue: 3 })).to.include({ impute: 'constant', fillValue: 3 });
  });

  it('names: from the file, table or URL, made valid', () => {
    expect(defaultBundleName(parseSourceArgument('data/Sales Data 2024.csv.gz', {}))).to.equal('Sales-Data-2024');
    expect(defaultBundleName(parseSourceArgument('shop.db', { table: 'public.orders' }))).to.equal('orders');
    expect(defaultBundleName(parseSourceArgument('https://api.example.com/v1/orders', {}))).to.equal('orders');
    expect(defaultBundleName(parseSourceArgument('-', {}))).to.equal('model');
    expect(defaultBundleName(parseSourceArgument(undefined, { fromCommand: 'cat x.csv' }), 'Sale Price')).to.equal('Sale-Price-model');
    expect(bundleNameFrom('__x')).to.equal('x');
    expect(bundleNameFrom('---')).to.equal(undefined);
  });
});
