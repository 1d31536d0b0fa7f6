// One file on purpose, over 400 lines: a benchmark script is read top to bottom as one story.
/**
 * `make bench-predict`: bulk scoring with `mlpipe predict` — 1M rows from a CSV file and from a
 * PostgreSQL table — against pandas + scikit-learn scoring the same rows, all measured in the same run.
 * A benchmark, not a test: it states no target and exits 0 whatever the figures; a broken run exits 1.
 *
 *   node --import tsx bench/predict.ts [--rows 1m] [--train-rows 100k] [--trees 100] [--quick] [--json FILE]
 *
 * Data: a synthetic 3-class table of 20 number columns (bench/train's classification rule, cut into
 * three classes at its tertiles), written once as `big.csv` (every row, no label) and `train.csv` (the
 * first --train-rows rows with their label). mlpipe trains a bundle on train.csv with `mlpipe run` and
 * scikit-learn a RandomForestClassifier of as many trees on the same file (n_jobs=-1), then each scores:
 *   - mlpipe: `bin/mlpipe predict <bundle> --input big.csv --out out.csv`, a child process, timed whole
 *     (process start and bundle load included);
 *   - mlpipe from PostgreSQL: the same rows `\copy`-ed by psql into `bench_predict_rows` (db test),
 *     `mlpipe predict <bundle> --input postgres://… --table bench_predict_rows --out out.csv`;
 *     a CLI that refuses the form (usage error, exit 2) prints "skipped: …" with its message;
 *   - scikit-learn (bench/sklearn_predict.py): pandas read_csv / read_sql (psycopg2) → predict_proba →
 *     to_csv, timed inside the Python process without its imports (importS is reported apart).
 * Every process runs under bench/load.ts's wrapper, so wall time and peak RSS (of the process tree:
 * `getrusage(RUSAGE_CHILDREN)`) are measured the same way for both. Each output is read back: it must
 * hold every row, and its accuracy on the rows not trained on is shown beside the speed, so a fast but
 * wrong run cannot pass unnoticed. mlpipe runs from dist/: build first (make bench-predict does).
 * The last line of stdout is the whole result as one JSON document (`--json FILE` also writes it there).
 */
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng } from '../src/core/models/rng.js';
import { BIN, type Measured, PG_URL, PYTHON, fmt, killRunning, measure, run, table } from './load.js';
import { runBench } from './lifecycle.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SKLEARN = join(ROOT, 'bench', 'sklearn_predict.py');
const TABLE = 'bench_predict_rows';
const WIDTH = 20;
const FEATURES = Array.from({ length: WIDTH }, (_, j) => `x${j}`);
const TARGET = 'class';
const CLASSES = ['low', 'mid', 'high'] as const;
const DATA_SEED = 20_261_208;
/** mlpipe's forest seed (scikit-learn gets random_state=0, as in bench/train). */
const FOREST_SEED = 42;
const RULE =
  'x0–x4 ~ U(−1,1); f = 2·sin(πx0)·x1 + 1.5·x2² − |x3| + 0.8·x0·x4 − 0.5 + N(0, 0.3²); ' +
  'class low if f < −0.95, mid if f < −0.05, else high (about a third each), 3% of labels replaced by a random class; ' +
  'x5–x9 are x0–x4 + N(0, 0.5²), x10–x19 irrelevant U(−1,1); values rounded to 5 decimals';

interface Settings {
  rows: number;
  trainRows: number;
  trees: number;
  quick: boolean;
  json: string | null;
}

function parseSize(flag: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(raw.trim());
  if (!m) throw new Error(`--${flag}: "${raw}" is not a row count (e.g. 50k, 1m, 200000)`);
  const unit = m[2]?.toLowerCase();
  const n = Math.round(Number(m[1]) * (unit === 'k' ? 1e3 : unit === 'm' ? 1e6 : 1));
  if (n < 100) throw new Error(`--${flag}: ${raw} is too small (at least 100 rows)`);
  return n;
}

function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string' },
      'train-rows': { type: 'string' },
      trees: { type: 'string' },
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick === true;
  // --quick sets the defaults (50k rows scored, 10k trained on); explicit flags still win.
  const rows = parseSize('rows', values.rows ?? (quick ? '50k' : '1m'));
  const trainRows = values['train-rows'] === undefined ? Math.min(quick ? 10_000 : 100_000, rows) : parseSize('train-rows', values['train-rows']);
  if (trainRows > rows) throw new Error(`--train-rows: ${trainRows} is more than --rows ${rows} (the training rows are the first rows of the scored table)`);
  const trees = values.trees === undefined ? 100 : Number(values.trees);
  if (!Number.isInteger(trees) || trees < 1) throw new Error(`--trees: expected an integer ≥ 1, got "${values.trees}"`);
  return { rows, trainRows, trees, quick, json: values.json ?? null };
}

// ---------------------------------------------------------------------------------------------
// Data

/**
 * Writes `big.csv` (every row, features only) and `train.csv` (the first `trainRows` rows with their
 * class) in one pass, and returns every row's class index for checking the predictions.
 */
async function writeTables(dir: string, rows: number, trainRows: number): Promise<{ big: string; train: string; labels: Uint8Array }> {
  const big = join(dir, 'big.csv');
  const train = join(dir, 'train.csv');
  const outBig = createWriteStream(big);
  const outTrain = createWriteStream(train);
  const write = (out: NodeJS.WritableStream, text: string) => new Promise<void>((done) => (out.write(text) ? done() : out.once('drain', done)));
  const rng = new Rng(DATA_SEED);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const round = (v: number) => Math.round(v * 1e5) / 1e5;
  const labels = new Uint8Array(rows);
  const x = new Float64Array(WIDTH);
  await write(outBig, `${FEATURES.join(',')}\n`);
  await write(outTrain, `${FEATURES.join(',')},${TARGET}\n`);
  let bufBig = '';
  let bufTrain = '';
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < WIDTH; j++) x[j] = round(2 * rng.next() - 1);
    for (let j = 5; j < 10; j++) x[j] = round((x[j - 5] as number) + 0.5 * normal());
    const v = (j: number) => x[j] as number;
    const f = 2 * Math.sin(Math.PI * v(0)) * v(1) + 1.5 * v(2) * v(2) - Math.abs(v(3)) + 0.8 * v(0) * v(4) - 0.5 + 0.3 * normal();
    let label = f < -0.95 ? 0 : f < -0.05 ? 1 : 2;
    if (rng.next() < 0.03) label = rng.int(3);
    labels[i] = label;
    const line = x.join(',');
    bufBig += `${line}\n`;
    if (i < trainRows) bufTrain += `${line},${CLASSES[label]}\n`;
    if (i % 5000 === 4999) {
      await write(outBig, bufBig);
      bufBig = '';
      if (bufTrain) await write(outTrain, bufTrain);
      bufTrain = '';
    }
  }
  await write(outBig, bufBig);
  await write(outTrain, bufTrain);
  const end = (out: NodeJS.WritableStream) => new Promise<void>((done) => out.end(done));
  await Promise.all([end(outBig), end(outTrain)]);
  return { big, train, labels };
}

/** Copies big.csv into a fresh `bench_predict_rows` with psql's \copy (the pg package has no COPY FROM without pg-copy-streams). */
async function loadPg(big: string): Promise<{ ok: true; seconds: number } | { ok: false; reason: string }> {
  const which = await run('sh', ['-c', 'command -v psql']);
  if (which.code !== 0) return { ok: false, reason: 'psql not found (Debian: apt-get install postgresql-client)' };
  const columns = FEATURES.map((c) => `${c} float8`).join(', ');
  const t = performance.now();
  const r = await run(which.stdout.trim(), [
    PG_URL, '-v', 'ON_ERROR_STOP=1', '-q',
    '-c', `DROP TABLE IF EXISTS ${TABLE}`,
    '-c', `CREATE TABLE ${TABLE} (${columns})`,
    '-c', `\\copy ${TABLE} FROM '${big.replace(/'/g, "''")}' WITH (FORMAT csv, HEADER true)`,
    '-c', `ANALYZE ${TABLE}`,
  ]);
  if (r.code !== 0) return { ok: false, reason: `psql ${PG_URL} failed: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`}` };
  return { ok: true, seconds: (performance.now() - t) / 1000 };
}

async function dropPg(): Promise<void> {
  await run('psql', [PG_URL, '-q', '-c', `DROP TABLE IF EXISTS ${TABLE}`]).catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// Contenders

interface Check {
  /** Rows in the output. */
  rows: number;
  /** Accuracy on the rows after the training sample (null when every row was trained on). */
  accuracy: number | null;
  /** Share of rows whose prediction equals mlpipe's from the CSV (null for that run itself). */
  agreeWithMlpipe: number | null;
}

interface Result {
  id: 'mlpipe-csv' | 'mlpipe-pg' | 'sklearn-csv' | 'sklearn-pg';
  label: string;
  status: 'ok' | 'skipped' | 'failed';
  /** Seconds the ratio uses: mlpipe's whole process; scikit-learn's work without imports. */
  seconds?: number;
  /** The process's wall time, start to exit. */
  processS?: number;
  rowsPerS?: number;
  peakRssMB?: number;
  check?: Check;
  /** scikit-learn's breakdown (importS, modelS, readS, predictS, writeS). */
  parts?: Record<string, number>;
  reason?: string;
}

/** The class index of each output row's prediction (first CSV column), 255 for anything else. */
async function readPredictions(path: string): Promise<Uint8Array> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  if (lines[0]?.split(',')[0] !== 'prediction') throw new Error(`${path}: expected a header starting with "prediction", found "${lines[0]?.slice(0, 80)}"`);
  if (lines.at(-1) === '') lines.pop();
  const out = new Uint8Array(lines.length - 1);
  const index = new Map<string, number>(CLASSES.map((c, i) => [c, i]));
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const comma = line.indexOf(',');
    out[i - 1] = index.get(comma < 0 ? line : line.slice(0, comma)) ?? 255;
  }
  return out;
}

function check(pred: Uint8Array, labels: Uint8Array, trainRows: number, reference: Uint8Array | null): Check {
  let right = 0;
  for (let i = trainRows; i < labels.length; i++) if (pred[i] === labels[i]) right++;
  let same = 0;
  if (reference) for (let i = 0; i < pred.length; i++) if (pred[i] === reference[i]) same++;
  return {
    rows: pred.length,
    accuracy: labels.length > trainRows ? right / (labels.length - trainRows) : null,
    agreeWithMlpipe: reference ? same / Math.max(1, pred.length) : null,
  };
}

const lastLine = (m: Measured) => m.stdout.trim().split('\n').pop() ?? '';
const stderrTail = (m: Measured) => m.stderr.trim().split('\n').filter((l) => l.trim() !== '').slice(-3).join(' | ');

/** `mlpipe predict` under the measuring wrapper; a usage error (exit 2) is a refusal: skipped. */
async function mlpipePredict(id: Result['id'], label: string, ref: string, artifacts: string, source: string[], out: string, rows: number): Promise<Result> {
  const m = await measure(BIN, ['predict', ref, '--artifacts', artifacts, ...source, '--out', out, '--json']);
  if (m.code === 2) return { id, label, status: 'skipped', reason: `mlpipe predict refused the form (usage error): ${stderrTail(m)}` };
  if (m.code !== 0) return { id, label, status: 'failed', reason: `exit ${m.code}: ${stderrTail(m)}` };
  const doc = JSON.parse(m.stdout) as { rows: number; predicted: number; badRows: number };
  if (doc.predicted !== rows || doc.badRows !== 0) return { id, label, status: 'failed', reason: `predicted ${doc.predicted} of ${rows} rows, ${doc.badRows} bad` };
  return { id, label, status: 'ok', seconds: m.seconds, processS: m.seconds, rowsPerS: rows / m.seconds, peakRssMB: m.peakMB };
}

/** A bench/sklearn_predict.py step under the measuring wrapper. */
async function sklearnStep(step: 'train' | 'csv' | 'pg', spec: Record<string, unknown>): Promise<{ m: Measured; doc: Record<string, unknown> | null; error: string | null }> {
  const m = await measure(PYTHON, [SKLEARN, step, JSON.stringify(spec)]);
  let doc: Record<string, unknown> | null = null;
  try {
    doc = JSON.parse(lastLine(m)) as Record<string, unknown>;
  } catch {
    doc = null;
  }
  if (m.code === 0 && doc?.ok === true) return { m, doc, error: null };
  return { m, doc: null, error: doc?.ok === false ? String(doc.error) : `exit ${m.code}: ${stderrTail(m)}` };
}

async function sklearnPredict(id: Result['id'], label: string, step: 'csv' | 'pg', spec: Record<string, unknown>, rows: number): Promise<Result> {
  const { m, doc, error } = await sklearnStep(step, spec);
  if (!doc) return { id, label, status: 'failed', reason: error ?? 'no result' };
  if (doc.rows !== rows) return { id, label, status: 'failed', reason: `wrote ${String(doc.rows)} of ${rows} rows` };
  const workS = doc.workS as number;
  const parts = Object.fromEntries(['importS', 'modelS', 'readS', 'predictS', 'writeS'].map((k) => [k, doc[k] as number]));
  return { id, label, status: 'ok', seconds: workS, processS: m.seconds, rowsPerS: rows / workS, peakRssMB: m.peakMB, parts };
}

// ---------------------------------------------------------------------------------------------

const round = (v: number, digits: number) => Number(v.toFixed(digits));

function ratioLine(what: string, m: Result | undefined, s: Result | undefined): { line: string; speed: number | null; memory: number | null } {
  if (m?.status !== 'ok' || s?.status !== 'ok') {
    const why = m?.status !== 'ok' ? `mlpipe ${m?.status ?? 'not run'}` : `scikit-learn ${s?.status ?? 'not run'}`;
    return { line: `${what}: not measured (${why})`, speed: null, memory: null };
  }
  const speed = (m.rowsPerS as number) / (s.rowsPerS as number);
  const memory = (m.peakRssMB as number) / (s.peakRssMB as number);
  return { line: `${what}: mlpipe ${fmt(speed)}× scikit-learn's rows/s at ${fmt(memory)}× its peak memory`, speed: round(speed, 3), memory: round(memory, 3) };
}

let tmpDir: string | null = null;
let pgMade = false;

async function main(): Promise<number> {
  const s = parseSettings(process.argv.slice(2));
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `make build` first (the bench runs the compiled CLI), or use make bench-predict');
  if (process.env.MLPIPE_DEV) console.log('warning: MLPIPE_DEV is set: bin/mlpipe runs the TypeScript sources through tsx, not the build');
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is needed to measure peak memory`);
  const probe = await run(PYTHON, ['-c', 'import sklearn, pandas; print(sklearn.__version__, pandas.__version__)']);
  const sk = probe.code === 0 ? probe.stdout.trim().split(' ') : null;
  const sklearnNote = sk ? '' : `scikit-learn skipped: \`${PYTHON} -c "import sklearn, pandas"\` failed (make bench-deps installs Debian's python3-sklearn and python3-pandas)`;
  const psycopg = (await run(PYTHON, ['-c', 'import psycopg2'])).code === 0;
  console.log(`machine: node ${process.version}, ${availableParallelism()} CPU(s), ${fmt(totalmem() / 2 ** 30, 1)} GiB; ${sk ? `scikit-learn ${sk[0]}, pandas ${sk[1]} (${PYTHON})${psycopg ? ', psycopg2' : ''}` : sklearnNote}`);
  console.log(`settings: score ${s.rows.toLocaleString('en-US')} rows × ${WIDTH} features, 3 classes; forests of ${s.trees} trees trained on the first ${s.trainRows.toLocaleString('en-US')} rows (mlpipe seed ${FOREST_SEED}, scikit-learn random_state=0, n_jobs=-1)${s.quick ? '; --quick' : ''}`);
  console.log(`data (seed ${DATA_SEED}): ${RULE}`);

  tmpDir = await mkdtemp(join(tmpdir(), 'mlpipe-bench-predict-'));
  const started = performance.now();
  let t = performance.now();
  const { big, train, labels } = await writeTables(tmpDir, s.rows, s.trainRows);
  console.log(`wrote big.csv (${fmt(statSync(big).size / 2 ** 20, 0)} MB) and train.csv (${fmt(statSync(train).size / 2 ** 20, 0)} MB) in ${fmt((performance.now() - t) / 1000)} s, in ${tmpDir}`);

  t = performance.now();
  const pg = await loadPg(big);
  pgMade = pg.ok;
  console.log(pg.ok ? `PostgreSQL: ${TABLE} loaded with psql \\copy in ${fmt(pg.seconds)} s (${PG_URL})` : `PostgreSQL skipped: ${pg.reason}`);

  // Training: not what this bench measures, shown for scale.
  const artifacts = join(tmpDir, 'artifacts');
  const trainArgs = ['run', train, '--target', TARGET, '--name', 'bench-predict', '--artifacts', artifacts, '--trees', String(s.trees), '--seed', String(FOREST_SEED), '--holdout', '0'];
  const mt = await measure(BIN, trainArgs);
  if (mt.code !== 0) throw new Error(`mlpipe ${trainArgs.join(' ')} failed (exit ${mt.code}): ${stderrTail(mt)}`);
  const ref = lastLine(mt).trim();
  console.log(`trained: mlpipe ${ref} in ${fmt(mt.seconds)} s (peak ${fmt(mt.peakMB, 0)} MB)`);
  const model = join(tmpDir, 'sklearn.pkl');
  let sklearnModel: string | null = null;
  let sklearnTrain: { seconds: number; peakMB: number } | null = null;
  if (sk) {
    const st = await sklearnStep('train', { csv: train, target: TARGET, trees: s.trees, model });
    if (st.doc) {
      sklearnModel = model;
      sklearnTrain = { seconds: st.m.seconds, peakMB: st.m.peakMB };
      console.log(`trained: scikit-learn RandomForestClassifier in ${fmt(st.m.seconds)} s (fit ${fmt(st.doc.trainS as number)} s, peak ${fmt(st.m.peakMB, 0)} MB)`);
    } else console.log(`scikit-learn training FAILED: ${st.error}`);
  }

  const results: Result[] = [];
  const step = async (label: string, fn: () => Promise<Result>, after?: (r: Result) => Promise<void>) => {
    process.stdout.write(`  ${label} … `);
    const r = await fn();
    if (r.status === 'ok' && after) await after(r);
    results.push(r);
    console.log(r.status === 'ok' ? `${fmt(r.seconds ?? null)} s, ${fmt(r.rowsPerS ?? null, 0)} rows/s, peak ${fmt(r.peakRssMB ?? null, 0)} MB` : `${r.status === 'skipped' ? 'skipped' : 'FAILED'}: ${r.reason}`);
    return r;
  };
  const outOf = (id: string) => join(tmpDir as string, `${id}.csv`);
  let reference: Uint8Array | null = null;
  const verify = (id: Result['id']) => async (r: Result) => {
    const pred = await readPredictions(outOf(id));
    r.check = check(pred, labels, s.trainRows, id === 'mlpipe-csv' ? null : reference);
    if (id === 'mlpipe-csv') reference = pred;
    if (r.check.rows !== s.rows) {
      r.status = 'failed';
      r.reason = `${outOf(id)} holds ${r.check.rows} rows, expected ${s.rows}`;
    }
  };
  const notRun = (id: Result['id'], label: string, reason: string): Promise<Result> => Promise.resolve({ id, label, status: 'skipped', reason });

  console.log('scoring:');
  await step('mlpipe predict, CSV', () => mlpipePredict('mlpipe-csv', 'mlpipe predict, CSV', ref, artifacts, ['--input', big], outOf('mlpipe-csv'), s.rows), verify('mlpipe-csv'));
  await step('mlpipe predict, PostgreSQL', () =>
    pg.ok ? mlpipePredict('mlpipe-pg', 'mlpipe predict, PostgreSQL', ref, artifacts, ['--input', PG_URL, '--table', TABLE], outOf('mlpipe-pg'), s.rows) : notRun('mlpipe-pg', 'mlpipe predict, PostgreSQL', pg.reason),
  verify('mlpipe-pg'));
  const skCsv = 'pandas read_csv + scikit-learn';
  await step(skCsv, () => (sklearnModel ? sklearnPredict('sklearn-csv', skCsv, 'csv', { model: sklearnModel, input: big, out: outOf('sklearn-csv') }, s.rows) : notRun('sklearn-csv', skCsv, sklearnNote || 'scikit-learn training failed')), verify('sklearn-csv'));
  const skPg = 'pandas read_sql + scikit-learn';
  await step(skPg, () =>
    !sklearnModel ? notRun('sklearn-pg', skPg, sklearnNote || 'scikit-learn training failed')
    : !pg.ok ? notRun('sklearn-pg', skPg, pg.reason)
    : !psycopg ? notRun('sklearn-pg', skPg, `${PYTHON} has no psycopg2 (Debian: apt-get install python3-psycopg2)`)
    : sklearnPredict('sklearn-pg', skPg, 'pg', { model: sklearnModel, dsn: PG_URL, table: TABLE, out: outOf('sklearn-pg') }, s.rows),
  verify('sklearn-pg'));

  const pct = (v: number | null | undefined) => (v === null || v === undefined ? '' : `${fmt(v * 100, 2)} %`);
  console.log('');
  console.log(
    table(
      ['', 'seconds', 'rows/s', 'peak RSS MB', 'accuracy*', 'same as mlpipe CSV', 'notes'],
      results.map((r) =>
        r.status === 'ok'
          ? [
              r.label, fmt(r.seconds ?? null), fmt(r.rowsPerS ?? null, 0), fmt(r.peakRssMB ?? null, 0), pct(r.check?.accuracy), pct(r.check?.agreeWithMlpipe),
              r.parts ? `process ${fmt(r.processS ?? null)} s = import ${fmt(r.parts.importS ?? null)} + model ${fmt(r.parts.modelS ?? null)} + read ${fmt(r.parts.readS ?? null)} + predict ${fmt(r.parts.predictS ?? null)} + write ${fmt(r.parts.writeS ?? null)} s (+ start)` : 'whole process',
            ]
          : [r.label, r.status === 'skipped' ? 'skipped' : 'FAILED', '', '', '', '', (r.reason ?? '').slice(0, 160)],
      ),
    ),
  );
  console.log(`  * on the ${(s.rows - s.trainRows).toLocaleString('en-US')} rows after the training sample. mlpipe's seconds are its whole process; scikit-learn's leave out Python's start and the imports.`);
  const byId = (id: Result['id']) => results.find((r) => r.id === id);
  const csvRatio = ratioLine('CSV', byId('mlpipe-csv'), byId('sklearn-csv'));
  const pgRatio = ratioLine('PostgreSQL', byId('mlpipe-pg'), byId('sklearn-pg'));
  console.log('');
  console.log(csvRatio.line);
  console.log(pgRatio.line);
  for (const r of results) if (r.status === 'skipped') console.log(`skipped: ${r.label}: ${r.reason}`);
  console.log(`total wall time ${fmt((performance.now() - started) / 1000, 0)} s`);

  const failed = results.filter((r) => r.status === 'failed');
  const doc = {
    bench: 'predict',
    node: process.version,
    cpus: availableParallelism(),
    memGiB: round(totalmem() / 2 ** 30, 1),
    sklearn: sk?.[0] ?? null,
    pandas: sk?.[1] ?? null,
    sklearnNote: sklearnNote || undefined,
    rows: s.rows,
    trainRows: s.trainRows,
    width: WIDTH,
    classes: CLASSES,
    trees: s.trees,
    quick: s.quick,
    seeds: { data: DATA_SEED, mlpipe: FOREST_SEED, sklearn: 0 },
    data: RULE,
    csvMB: round(statSync(big).size / 2 ** 20, 1),
    postgres: pg.ok ? { table: TABLE, loadS: round(pg.seconds, 2) } : { skipped: pg.reason },
    training: { mlpipe: { bundle: ref, seconds: round(mt.seconds, 2), peakRssMB: round(mt.peakMB, 0) }, sklearn: sklearnTrain },
    results,
    ratios: { csv: { speed: csvRatio.speed, memory: csvRatio.memory }, postgres: { speed: pgRatio.speed, memory: pgRatio.memory } },
    valid: failed.length === 0,
  };
  // Four decimals say all a timing or a share can.
  const fixed = (_key: string, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? round(v, 4) : v);
  if (s.json) await writeFile(s.json, `${JSON.stringify(doc, fixed, 2)}\n`);
  console.log(JSON.stringify(doc, fixed));
  if (failed.length > 0) console.log(`BROKEN RUN: ${failed.map((r) => r.label).join(', ')} failed`);
  return failed.length > 0 ? 1 : 0;
}

runBench('bench/predict', main, async () => {
  killRunning();
  if (pgMade) await dropPg();
  if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
}, { onSignal: 'removing the temporary folder and the PostgreSQL table' });
