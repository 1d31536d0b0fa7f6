/**
 * `make bench` (and `make bench-load`): `mlpipe load` of a 1M-row CSV and of a 1M-row PostgreSQL table
 * into the dataset file, against danfojs-node `readCSV` of the same file and, when Debian's
 * python3-pandas is installed (`make bench-deps`), pandas `read_csv` — all in the same run. A benchmark,
 * not a test: a missed target prints MISSED and still exits 0; a broken run exits 1.
 *
 *   node --import tsx bench/load.ts [--rows 1000000] [--quick]
 *
 * Every contender runs as its own process, started through a tiny Python wrapper that reports the
 * wall time and the peak resident set of the process tree (`getrusage(RUSAGE_CHILDREN)`), so Node,
 * danfo and pandas are measured the same way. mlpipe runs the compiled CLI (`bin/mlpipe`, dist/).
 * danfo's time is reported whole and without its ~2 s import, and the ratio uses the latter.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const ROOT = new URL('..', import.meta.url).pathname;
/** The CLI the benches run: the compiled build in dist/ (make build). */
export const BIN = join(ROOT, 'bin', 'mlpipe');
/** Debian's Python: pandas and scikit-learn come from its packages (make bench-deps). */
export const PYTHON = '/usr/bin/python3';
/** The PostgreSQL the benches use (db test, trust): MLPIPE_BENCH_PG overrides it. Shared with bench/predict.ts. */
export const PG_URL = process.env.MLPIPE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The targets stated in the README. */
const TARGET = { danfoSpeed: 1.0, pandasWithin: 2.0 };

/** Runs a command, measuring wall seconds and the peak RSS of its process tree (MB). */
const MEASURE = `
import json, resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
s = time.perf_counter() - t
print(json.dumps({"code": r.returncode, "seconds": s, "peakMB": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "stdout": r.stdout, "stderr": r.stderr[-4000:]}))
`;

export interface Measured {
  code: number;
  seconds: number;
  peakMB: number;
  stdout: string;
  stderr: string;
}

/** The process groups of the commands {@link run} has running. */
const running = new Set<number>();

/** Stops every command {@link run} has running, with the processes they started (a bench's clean-up on Ctrl-C). */
export function killRunning(): void {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  running.clear();
}

/**
 * Runs a command to its end (stdin from `input`), collecting stdout and the last 8 KB of stderr, in a
 * process group of its own so that {@link killRunning} stops it and its children. Shared with bench/predict.ts.
 */
export function run(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' }, detached: true });
    if (child.pid !== undefined) running.add(child.pid);
    child.on('exit', () => running.delete(child.pid as number));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    // A child that exits without reading its input (psql -c, sh -c) closes the pipe first: EPIPE is no error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** `cmd args…` run under {@link MEASURE}: wall seconds and the peak RSS of its process tree. Shared with bench/predict.ts. */
export async function measure(cmd: string, args: string[]): Promise<Measured> {
  const r = await run(PYTHON, ['-c', MEASURE, cmd, ...args]);
  if (r.code !== 0) throw new Error(`measuring ${cmd} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measured;
}

/**
 * A table with what real data has: integers, floats with missing values, a low- and a high-cardinality
 * category, booleans, dates and timestamps, free text — 21 columns, deterministic.
 */
const COLUMNS = [
  'id', 'age', 'income', 'score', 'balance', 'ratio', 'visits', 'tenure', 'rate', 'weight',
  'height', 'clicks', 'region', 'city', 'plan', 'active', 'churned', 'signup', 'last_seen', 'segment', 'note',
];
const REGIONS = ['north', 'south', 'east', 'west', 'central'];
const PLANS = ['free', 'basic', 'pro', 'enterprise'];
const SEGMENTS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const rnd = lcg(20261126);
  const write = (text: string) => new Promise<void>((resolve) => (out.write(text) ? resolve() : out.once('drain', resolve)));
  await write(`${COLUMNS.join(',')}\n`);
  let buf = '';
  const day = 86_400_000;
  const base = Date.UTC(2020, 0, 1);
  for (let i = 1; i <= rows; i++) {
    const miss = rnd() < 0.05;
    const signup = new Date(base + Math.floor(rnd() * 1500) * day).toISOString().slice(0, 10);
    const seen = new Date(base + Math.floor(rnd() * 1500 * 24) * 3_600_000).toISOString().slice(0, 19);
    buf +=
      `${i},${18 + Math.floor(rnd() * 60)},${miss ? '' : (rnd() * 150000).toFixed(2)},${rnd().toFixed(4)},${((rnd() - 0.3) * 10000).toFixed(2)},` +
      `${rnd().toFixed(6)},${Math.floor(rnd() * 500)},${Math.floor(rnd() * 120)},${(rnd() * 20).toFixed(3)},${(40 + rnd() * 80).toFixed(1)},` +
      `${miss ? '' : (140 + rnd() * 60).toFixed(1)},${Math.floor(rnd() * 10000)},${REGIONS[Math.floor(rnd() * 5)]},city_${Math.floor(rnd() * 2000)},` +
      `${PLANS[Math.floor(rnd() * 4)]},${rnd() < 0.5},${rnd() < 0.2 ? 'yes' : 'no'},${signup},${seen},${SEGMENTS[Math.floor(rnd() * 8)]},` +
      `"note ${Math.floor(rnd() * 100000)}, free text"\n`;
    if (i % 5000 === 0) {
      await write(buf);
      buf = '';
    }
  }
  await write(buf);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** The same shape of table built in PostgreSQL itself. */
async function createPgTable(table: string, rows: number): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.query(`CREATE TABLE ${table} AS SELECT
      g AS id, 18 + (g * 7919) % 60 AS age,
      CASE WHEN g % 20 = 0 THEN NULL ELSE ((g * 104729) % 150000)::float8 + 0.25 END AS income,
      ((g * 31) % 10000) / 10000.0::float8 AS score, ((g * 17) % 10000 - 3000)::numeric(12,2) AS balance,
      ((g * 13) % 1000000) / 1000000.0::float8 AS ratio, (g * 7) % 500 AS visits, (g * 3) % 120 AS tenure,
      ((g * 11) % 20000) / 1000.0::float8 AS rate, 40 + ((g * 19) % 800) / 10.0::float8 AS weight,
      CASE WHEN g % 20 = 1 THEN NULL ELSE 140 + ((g * 23) % 600) / 10.0::float8 END AS height, (g * 29) % 10000 AS clicks,
      (ARRAY['north','south','east','west','central'])[1 + g % 5] AS region, 'city_' || ((g * 37) % 2000) AS city,
      (ARRAY['free','basic','pro','enterprise'])[1 + g % 4] AS plan, g % 2 = 0 AS active, g % 5 = 0 AS churned,
      DATE '2020-01-01' + (g % 1500)::int AS signup, TIMESTAMP '2020-01-01' + ((g % 36000) * INTERVAL '1 hour') AS last_seen,
      (ARRAY['a','b','c','d','e','f','g','h'])[1 + g % 8] AS segment, 'note ' || (g % 100000) || ', free text' AS note
      FROM generate_series(1::bigint, ${rows}::bigint) g`);
  } finally {
    await client.end();
  }
}

async function dropPgTable(table: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS ${table}`).finally(() => client.end());
}

const DANFO = `
const t0 = performance.now();
const dfd = await import(process.argv[2]);
const t1 = performance.now();
const df = await dfd.readCSV(process.argv[3]);
const t2 = performance.now();
console.log(JSON.stringify({ rows: df.shape[0], columns: df.shape[1], importS: (t1 - t0) / 1000, readS: (t2 - t1) / 1000 }));
`;

const PANDAS = `
import json, sys, time
t0 = time.perf_counter()
import pandas
t1 = time.perf_counter()
df = pandas.read_csv(sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"rows": len(df), "columns": len(df.columns), "importS": t1 - t0, "readS": t2 - t1}))
`;

interface Row {
  label: string;
  seconds: number | null;
  /** Seconds of the work itself (without a library's import), used for ratios. */
  workS: number | null;
  peakMB: number | null;
  rows: number | null;
  note: string;
}

/** A number with `digits` decimals and thousands separators; `n/a` for null or not finite. */
export function fmt(v: number | null, digits = 2): string {
  return v === null || !Number.isFinite(v) ? 'n/a' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function table(head: string[], body: string[][]): string {
  const widths = head.map((h, j) => Math.max(h.length, ...body.map((r) => (r[j] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

async function mlpipeLoad(label: string, args: string[], out: string, rows: number): Promise<Row> {
  const m = await measure(BIN, ['load', ...args, '--out', out, '--json']);
  if (m.code !== 0) throw new Error(`${label} failed (exit ${m.code}): ${m.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const result = JSON.parse(m.stdout) as { rows: number };
  if (result.rows !== rows) throw new Error(`${label}: loaded ${result.rows} rows, expected ${rows}`);
  return { label, seconds: m.seconds, workS: m.seconds, peakMB: m.peakMB, rows: result.rows, note: `dataset ${fmt(statSync(out).size / 2 ** 20, 0)} MB` };
}

async function libraryRead(label: string, cmd: string, args: string[], rows: number): Promise<Row> {
  const m = await measure(cmd, args);
  if (m.code !== 0) return { label, seconds: null, workS: null, peakMB: null, rows: null, note: `FAILED: ${m.stderr.trim().split('\n').pop() ?? ''}` };
  const r = JSON.parse(m.stdout.trim().split('\n').pop()!) as { rows: number; importS: number; readS: number };
  if (r.rows !== rows) throw new Error(`${label}: read ${r.rows} rows, expected ${rows}`);
  return { label, seconds: m.seconds, workS: r.readS, peakMB: m.peakMB, rows: r.rows, note: `import ${fmt(r.importS)} s + read ${fmt(r.readS)} s` };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, quick: { type: 'boolean' } }, strict: true });
  const rows = values.rows !== undefined ? Number(values.rows) : values.quick ? 100_000 : 1_000_000;
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`--rows: expected a positive integer, got "${values.rows}"`);
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `make build` first (the bench runs the compiled CLI)');
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is needed to measure peak memory`);
  const pandas = (await run(PYTHON, ['-c', 'import pandas; print(pandas.__version__)'])).stdout.trim() || null;
  console.log(`machine: node ${process.version}, ${availableParallelism()} CPU(s), ${fmt(totalmem() / 2 ** 30, 1)} GiB; pandas ${pandas ?? 'not installed (make bench-deps)'}`);

  const dir = await mkdtemp(join(tmpdir(), 'mlpipe-bench-load-'));
  const csv = join(dir, 'data.csv');
  const pgTable = `mlpipe_bench_load_${process.pid}`;
  try {
    let t = performance.now();
    await writeCsv(csv, rows);
    console.log(`data: ${rows.toLocaleString('en-US')} rows × ${COLUMNS.length} columns, ${fmt(statSync(csv).size / 2 ** 20, 0)} MB CSV (written in ${fmt((performance.now() - t) / 1000)} s)`);
    let pgReady = true;
    try {
      t = performance.now();
      await createPgTable(pgTable, rows);
      console.log(`PostgreSQL table ${pgTable} created in ${fmt((performance.now() - t) / 1000)} s`);
    } catch (err) {
      pgReady = false;
      console.log(`PostgreSQL skipped: ${(err as Error).message}`);
    }

    const results: Row[] = [];
    const step = async (label: string, fn: () => Promise<Row>) => {
      process.stdout.write(`  ${label} … `);
      const r = await fn();
      results.push(r);
      console.log(r.seconds === null ? r.note : `${fmt(r.seconds)} s, peak ${fmt(r.peakMB, 0)} MB`);
      return r;
    };
    const mCsv = await step('mlpipe load (CSV)', () => mlpipeLoad('mlpipe load data.csv', [csv], join(dir, 'csv.arrow'), rows));
    const mPg = pgReady
      ? await step('mlpipe load (PostgreSQL)', () => mlpipeLoad('mlpipe load postgres (table)', [PG_URL, '--table', pgTable], join(dir, 'pg.arrow'), rows))
      : null;
    const danfoFile = join(dir, 'danfo.mjs');
    await writeFile(danfoFile, DANFO);
    const danfo = await step('danfojs-node readCSV', () => libraryRead('danfojs-node readCSV', process.execPath, ['--max-old-space-size=16384', danfoFile, pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('danfojs-node')).href, csv], rows));
    const pandasRow = pandas ? await step('pandas read_csv', () => libraryRead(`pandas ${pandas} read_csv`, PYTHON, ['-c', PANDAS, csv], rows)) : null;

    console.log('');
    console.log(
      table(
        ['', 'seconds', 'rows/s', 'peak RSS MB', ''],
        results.map((r) => [r.label, fmt(r.seconds), r.workS ? fmt(rows / r.workS, 0) : 'n/a', fmt(r.peakMB, 0), r.note]),
      ),
    );
    console.log('');
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    if (danfo.workS !== null && mCsv.workS !== null && danfo.peakMB !== null && mCsv.peakMB !== null) {
      const speed = danfo.workS / mCsv.workS;
      const mem = mCsv.peakMB / danfo.peakMB;
      console.log(`target: CSV ≥ ${TARGET.danfoSpeed}× danfo's speed at a fraction of its memory — ${verdict(speed >= TARGET.danfoSpeed && mem < 1)}: ${fmt(speed)}× the speed (danfo without its import), ${fmt(mem)}× the memory`);
    } else console.log('target: CSV vs danfo — not measured (danfo failed)');
    if (pandasRow && pandasRow.workS !== null && mCsv.workS !== null) {
      const slower = mCsv.workS / pandasRow.workS;
      console.log(`aim: CSV within ${TARGET.pandasWithin}× of pandas read_csv — ${verdict(slower <= TARGET.pandasWithin)}: ${fmt(slower)}× pandas' time (mlpipe includes process start, typing, profiling and writing Arrow; pandas only parses)`);
    } else console.log('aim: CSV vs pandas — not measured (pandas not installed: make bench-deps)');
    if (mPg?.workS) console.log(`PostgreSQL: ${fmt(rows / mPg.workS, 0)} rows/s, peak ${fmt(mPg.peakMB, 0)} MB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await dropPgTable(pgTable).catch(() => {});
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) main().catch((err: unknown) => {
  console.error(`bench/load: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
