/**
 * Issue 11, problem 4: column names that are built-in object properties (`__proto__`, `constructor`,
 * `toString`, …) or otherwise awkward (empty, dots, slashes, quotes, Unicode, 1,000 characters) go
 * through the whole path as real processes — `load` (CSV and NDJSON), `featurize`, `train`, `package`,
 * `predict` (CSV and JSON input) and `serve` (POST /predict and /predict/batch) — and give exactly the
 * predictions of the same table with plain names. The class labels are such names too
 * (`__proto__`, `toString`), so probabilities keyed by label are covered as well.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { BIN, ROOT, cleanupTempDirs, runCli, tempDir } from '../src/test-helpers/fixtures.js';
import { mulberry32, pick } from '../src/test-helpers/random.js';
import { byScale, countReliability } from '../src/test-helpers/reliability.js';

/** Feature names that name members of Object.prototype, Function.prototype, Array or promises, and other awkward ones. */
const HOSTILE = [
  'toString',
  'constructor',
  'hasOwnProperty',
  '__proto__',
  'valueOf',
  '__defineGetter__',
  'prototype',
  'isPrototypeOf',
  'then',
  'length',
  '', // a CSV header cell with no name is called unnamed_<n> (documented); NDJSON keeps ""
  'a.b',
  'a/b',
  'a~b',
  '"quoted"',
  "it's",
  '`tick`',
  'two words',
  'naïve 名前 ✓',
  'x'.repeat(1000),
];
/** Class labels that are property names too. */
const HOSTILE_LABELS = ['__proto__', 'toString'] as const;
const PLAIN_LABELS = ['neg', 'pos'] as const;
const ROWS = 80;

/** The names mlpipe gives the CSV header (a blank one becomes unnamed_<position>). */
const loadedName = (name: string, i: number) => (name === '' ? `unnamed_${i + 1}` : name);

interface Table {
  names: string[];
  target: string;
  rows: Record<string, string | number | boolean>[];
}

/** The same values under `names`; column `targetAt` is the target, with `labels`. */
function makeTable(names: readonly string[], targetAt: number, labels: readonly [string, string]): Table {
  const rnd = mulberry32(11);
  const rows: Table['rows'] = [];
  for (let r = 0; r < ROWS; r++) {
    const row: Table['rows'][number] = Object.create(null) as Table['rows'][number];
    let score = 0;
    names.forEach((name, j) => {
      if (j === targetAt) return;
      // A few cells of every column are missing: each field may then be left out when predicting.
      if ((r + j) % 13 === 0) return;
      switch (j % 4) {
        case 0: {
          const v = Math.round(rnd() * 1000) / 100;
          score += j < 8 ? v : 0;
          row[name] = v;
          break;
        }
        case 1:
          row[name] = pick(rnd, ['red', 'green', 'blue']);
          if (j < 8 && row[name] === 'red') score += 3;
          break;
        case 2:
          row[name] = Math.floor(rnd() * 6);
          break;
        default:
          row[name] = rnd() < 0.5;
      }
    });
    row[names[targetAt]!] = score > 12 ? labels[1] : labels[0];
    rows.push(row);
  }
  return { names: [...names], target: names[targetAt]!, rows };
}

const csvCell = (v: string | number | boolean) => {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const toCsv = (names: readonly string[], rows: Table['rows']) =>
  [names.map(csvCell).join(','), ...rows.map((r) => names.map((n) => (Object.hasOwn(r, n) ? csvCell(r[n]!) : '')).join(','))].join('\n') + '\n';
/** JSON text of a record with its keys in `names` order (JSON.stringify keeps a `__proto__` own key). */
const jsonRecord = (names: readonly string[], r: Table['rows'][number]) => `{${names.filter((n) => Object.hasOwn(r, n)).map((n) => `${JSON.stringify(n)}:${JSON.stringify(r[n])}`).join(',')}}`;

async function cli(args: string[], cwd: string): Promise<string> {
  const run = await runCli(args, { cwd, env: { MLPIPE_DEV: '1' } });
  if (run.code !== 0) throw new Error(`mlpipe ${args.join(' ').slice(0, 200)} exited ${run.code}: ${run.stderr.slice(0, 2000)}`);
  return run.stdout;
}

/** Starts `mlpipe serve` and resolves with its URL. */
function serve(ref: string, artifacts: string, children: ChildProcessWithoutNullStreams[]): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'serve', ref, '--port', '0', '--artifacts', artifacts], { cwd: ROOT, env: { ...process.env, MLPIPE_DEV: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!.replace(/\/$/, ''));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

interface Outcome {
  /** Per row: the prediction as a label index, and the probability of each label index. */
  csv: string[];
  json: string[];
  single: string[];
  batch: string[];
  /** Single predictions of records that leave out some of the hostile fields. */
  partial: string[];
  /** The NDJSON load's columns (type and profile, without names), by position, and the CSV load's. */
  ndjsonFingerprints: string[];
  csvFingerprints: string[];
  requests: number;
  fiveXx: number;
}

/** Runs the whole path on `table` as real processes; predictions are written with label indexes so two tables compare. */
async function wholePath(table: Table, labels: readonly string[], children: ChildProcessWithoutNullStreams[]): Promise<Outcome> {
  const dir = await tempDir('mlpipe-names-');
  const names = table.names.map(loadedName);
  await writeFile(join(dir, 'table.csv'), toCsv(table.names, table.rows));
  // Missing cells as null, so that every record has every column and the columns keep the CSV's order.
  const withNulls = (r: Table['rows'][number]) => `{${table.names.map((n) => `${JSON.stringify(n)}:${JSON.stringify(Object.hasOwn(r, n) ? r[n] : null)}`).join(',')}}`;
  await writeFile(join(dir, 'table.ndjson'), table.rows.map(withNulls).join('\n') + '\n');
  // Each column's type and profile (counts, mean, top values), by position, without its name.
  const fingerprints = (stdout: string) => (JSON.parse(stdout) as { profile: { columns: { name: string }[] } }).profile.columns.map(({ name: _name, ...rest }) => JSON.stringify(rest));
  const [csvLoad, ndjsonLoad] = await Promise.all([
    cli(['load', 'table.csv', '--out', 'csv.arrow', '--json'], dir),
    cli(['load', 'table.ndjson', '--out', 'ndjson.arrow', '--json'], dir),
  ]);
  await cli(['featurize', 'csv.arrow', '--out', 'features', '--target', loadedName(table.target, table.names.indexOf(table.target))], dir);
  await cli(['train', 'features', '--out', 'model', '--seed', '3', '--trees', '15', '--jobs', '1'], dir);
  await cli(['package', 'model', '--name', 'names', '--version', '1.0.0', '--artifacts', 'artifacts'], dir);

  // Inputs to predict: the rows without the target, as CSV and as a JSON array.
  const inputs = table.rows.map((r) => {
    const rec = Object.create(null) as Table['rows'][number];
    names.forEach((n, j) => {
      if (table.names[j] !== table.target && Object.hasOwn(r, table.names[j]!)) rec[n] = r[table.names[j]!]!;
    });
    return rec;
  });
  const featureNames = names.filter((_, j) => table.names[j] !== table.target);
  await writeFile(join(dir, 'in.csv'), toCsv(featureNames, inputs));
  await writeFile(join(dir, 'in.json'), `[${inputs.map((r) => jsonRecord(featureNames, r)).join(',\n')}]\n`);
  await Promise.all([
    cli(['predict', 'names@1.0.0', '--artifacts', 'artifacts', '--input', 'in.csv', '--out', 'out.csv', '--jobs', '1'], dir),
    cli(['predict', 'names@1.0.0', '--artifacts', 'artifacts', '--input', 'in.json', '--out', 'out.json', '--jobs', '1'], dir),
  ]);
  const label = (v: unknown) => String(labels.indexOf(String(v)));
  const csvOut = (await readFile(join(dir, 'out.csv'), 'utf8')).trim().split('\n');
  const header = csvOut[0]!.split(',');
  expect(header).to.deep.equal(['prediction', ...labels.map((l) => `proba_${l}`)]);
  const csv = csvOut.slice(1).map((line) => {
    const [p, ...probas] = line.split(',');
    return `${label(p)} ${probas.join(' ')}`;
  });
  const fromJson = (o: { prediction: unknown; probabilities: Record<string, number> }) => {
    expect(Object.keys(o.probabilities)).to.have.members([...labels]);
    return `${label(o.prediction)} ${labels.map((l) => (Object.hasOwn(o.probabilities, l) ? o.probabilities[l] : 'missing')).join(' ')}`;
  };
  const json = (JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')) as { prediction: unknown; probabilities: Record<string, number> }[]).map(fromJson);

  const url = await serve('names@1.0.0', join(dir, 'artifacts'), children);
  let requests = 0;
  let fiveXx = 0;
  const post = async (path: string, body: string) => {
    requests++;
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (res.status >= 500) fiveXx++;
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as unknown;
  };
  const single: string[] = [];
  for (const r of inputs.slice(0, 20)) single.push(fromJson((await post('/predict', jsonRecord(featureNames, r))) as never));
  const batchBody = `{"records":[${inputs.map((r) => jsonRecord(featureNames, r)).join(',')}]}`;
  const batch = ((await post('/predict/batch', batchBody)) as { predictions: never[] }).predictions.map(fromJson);
  // Leave out the fields named like Object.prototype's members: each is then imputed, never read from the prototype.
  const left = new Set(['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty'].map((n) => HOSTILE.indexOf(n))); // the same positions in the plain table
  const partialNames = featureNames.filter((n) => !left.has(names.indexOf(n)));
  const partial: string[] = [];
  for (const r of inputs.slice(0, 10)) partial.push(fromJson((await post('/predict', jsonRecord(partialNames, r))) as never));
  return { csv, json, single, batch, partial, ndjsonFingerprints: fingerprints(ndjsonLoad), csvFingerprints: fingerprints(csvLoad), requests, fiveXx };
}

describe('reliability: column names and labels that are object property names, through the whole path', function () {
  this.timeout(byScale(300_000, 1_200_000));
  const children: ChildProcessWithoutNullStreams[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await cleanupTempDirs();
  });

  // Which hostile name is the target: quick tries `constructor` (with `__proto__` among the features).
  const targets = byScale(['constructor'], ['constructor', '__proto__', 'toString', 'then', 'length', 'x'.repeat(1000)]);
  for (const target of targets) {
    it(`target ${JSON.stringify(target.length > 20 ? `${target.slice(0, 8)}…(${target.length})` : target)}: load, featurize, train, package, predict and serve give the predictions of the same table with plain names`, async () => {
      const at = HOSTILE.indexOf(target);
      const plainNames = HOSTILE.map((_, i) => `c${String(i).padStart(2, '0')}`);
      const [hostile, plain] = await Promise.all([
        wholePath(makeTable(HOSTILE, at, HOSTILE_LABELS), HOSTILE_LABELS, children),
        wholePath(makeTable(plainNames, at, PLAIN_LABELS), PLAIN_LABELS, children),
      ]);
      let cases = 0;
      let passed = 0;
      const same = (what: string, a: unknown, b: unknown) => {
        cases++;
        expect(a, what).to.deep.equal(b);
        passed++;
      };
      same('NDJSON load = CSV load (values of every column)', hostile.ndjsonFingerprints, hostile.csvFingerprints);
      same('plain NDJSON load = plain CSV load', plain.ndjsonFingerprints, plain.csvFingerprints);
      const features = (columns: string[]) => columns.filter((_, j) => j !== at); // the labels differ on purpose
      same('loaded values, hostile vs plain names', features(hostile.csvFingerprints), features(plain.csvFingerprints));
      same('predict CSV, hostile vs plain', hostile.csv, plain.csv);
      same('predict JSON, hostile vs plain', hostile.json, plain.json);
      same('predict JSON = predict CSV', hostile.json, hostile.csv);
      same('POST /predict = predict', hostile.single, hostile.json.slice(0, 20));
      same('POST /predict/batch = predict', hostile.batch, hostile.json);
      same('records without the fields, hostile vs plain', hostile.partial, plain.partial);
      expect(hostile.fiveXx + plain.fiveXx).to.equal(0);
      countReliability('property names through the whole path', { cases, passed, requests: hostile.requests + plain.requests, fiveXx: hostile.fiveXx + plain.fiveXx });
    });
  }
});
