// One file on purpose, over 400 lines: a benchmark script is read top to bottom as one story.
/**
 * `make bench-serve` (and `make bench`): what `mlpipe serve` does under load, each figure against a
 * baseline measured in the same run, servers in separate processes on 127.0.0.1 (the compiled dist/
 * for mlpipe, so build first). A benchmark, not a test: a missed target prints TARGET MISSED and
 * still exits 0; only a broken run (a server does not start, a wrong answer, non-2xx responses) exits 1.
 *
 *   1. single-record throughput of `POST /v1/models/:name/predict` (penguins example, 100 trees) against
 *      a bare Express app that parses the same JSON and answers a constant (target ≥ 0.9×);
 *   2. p99 latency of the same route at 10 connections (target ≤ 5 ms);
 *   3. `serve --workers 2` against one worker, single records (target ≥ 1.6×);
 *   4. `POST /predict/stream`: 1,000,000 CSV rows through one request, rows per second and the server's
 *      resident memory sampled while it streams (target ≥ 100,000 rows/s, memory flat);
 *   5. `/v2/models/:name/infer` (Open Inference Protocol) and `/invocations` (MLflow) against
 *      `/predict/batch` for the same rows; a route that answers 404 (not in this build) is skipped.
 *
 *   node --import tsx bench/serve.ts [--duration 10] [--connections 50] [--warmup 3] [--rounds 2]
 *                                    [--stream-rows 1000000] [--stream-runs 1] [--batch-rows 100]
 *                                    [--only stream] [--cpu-prof DIR] [--bin PATH] [--quick]
 *
 * Rate limits are off: they would answer 429 under load. `--quick`: 3 s rounds, one round, 200,000
 * streamed rows (a smoke run; its figures are not the README's). `--only stream`: figure 4 alone (for
 * iterating on the streaming path); `--stream-runs N` streams N times and keeps the best by rows per
 * server CPU-second; `--cpu-prof DIR`: the mlpipe server runs under `node --cpu-prof`, its profile
 * written to DIR when it stops; `--bin PATH`: serve with another checkout's bin/mlpipe (a baseline build,
 * for A/B runs on the same machine state).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { cpus } from 'node:os';
import http from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { BIN, ROOT, buildExampleBundle, cleanupTempDirs, exampleRecords, tempDir } from '../src/test-helpers/fixtures.js';
import { runBench } from './lifecycle.js';

/** The targets stated in the README (issue 13). */
const TARGET_RATIO = 0.9;
const TARGET_P99_MS = 5;
const P99_CONNECTIONS = 10;
const TARGET_WORKERS_RATIO = 1.6;
const TARGET_STREAM_ROWS_PER_S = 100_000;
const TREES = 100;

interface Settings {
  duration: number;
  connections: number;
  warmup: number;
  rounds: number;
  streamRows: number;
  streamRuns: number;
  batchRows: number;
  /** Only this part of the bench (`stream`), or every part. */
  only: 'stream' | undefined;
  /** Folder for the mlpipe server's `--cpu-prof` profile, or none. */
  cpuProf: string | undefined;
  /** The mlpipe launcher the servers run (bin/mlpipe of this checkout unless --bin names another, e.g. a baseline build). */
  bin: string;
}

function positiveInt(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer ≥ ${min}, got "${raw}"`);
  return n;
}

const USAGE = `usage: node --import tsx bench/serve.ts [options]   (build dist/ first: make bench-serve does)
  --duration S        seconds per measured round (10; --quick 3)
  --connections N     autocannon connections for single records (50)
  --warmup S          warm-up seconds before each server's rounds (3; --quick 1)
  --rounds N          rounds per figure, the best kept (2; --quick 1)
  --stream-rows N     rows streamed through /predict/stream (1000000; --quick 200000)
  --stream-runs N     streams of that many rows, the one with the most rows per server CPU-second kept (1)
  --batch-rows N      records per request for /predict/batch, /v2 infer and /invocations (100)
  --only stream       only the streaming figure (for work on the streaming path)
  --cpu-prof DIR      run the mlpipe server under node --cpu-prof, its profile written to DIR when it stops
  --bin PATH          serve with another checkout's bin/mlpipe (a baseline build, for A/B runs)
  --quick             a smoke run (its figures are not the README's)`;

function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      'stream-rows': { type: 'string' },
      'stream-runs': { type: 'string' },
      'batch-rows': { type: 'string' },
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
      bin: { type: 'string' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick === true;
  if (values.only !== undefined && values.only !== 'stream') throw new Error(`--only: expected "stream", got "${values.only}"`);
  return {
    duration: positiveInt('duration', values.duration, quick ? 3 : 10, 1),
    connections: positiveInt('connections', values.connections, 50, 1),
    warmup: positiveInt('warmup', values.warmup, quick ? 1 : 3, 0),
    rounds: positiveInt('rounds', values.rounds, quick ? 1 : 2, 1),
    streamRows: positiveInt('stream-rows', values['stream-rows'], quick ? 200_000 : 1_000_000, 1),
    streamRuns: positiveInt('stream-runs', values['stream-runs'], 1, 1),
    batchRows: positiveInt('batch-rows', values['batch-rows'], 100, 1),
    only: values.only,
    cpuProf: values['cpu-prof'],
    bin: values.bin ?? BIN,
  };
}

/** A server child process and the URL it printed. */
interface Server {
  label: string;
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** The last few KB of its stderr, for error messages. */
  stderr: () => string;
}

const children: ChildProcessWithoutNullStreams[] = [];

/** Spawns `args` with node and waits for the `listening on http://…` line on its stdout. */
function startServer(label: string, args: string[], env: NodeJS.ProcessEnv): Promise<Server> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  child.stdin.end();
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  const stderr = () => err.trim();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: no "listening on" line within 60 s\n${stderr()}`)), 60_000);
    const onData = (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m?.[1]) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.resume(); // keep draining so the child never blocks on a full pipe
      resolve({ label, child, url: m[1], stderr });
    };
    child.stdout.on('data', onData);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${label}: cannot start (${e.message})`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label}: exited before listening (code ${code}, signal ${signal})\n${stderr()}`));
    });
  });
}

async function stopAll(): Promise<void> {
  await Promise.all(
    children.splice(0).map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const force = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** Warns when dist/ is missing or older than the sources: bin/mlpipe would serve stale or tsx code. */
async function checkBuild(): Promise<void> {
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error('dist/ is missing: build first (npx tsc -p tsconfig.build.json, or use make bench)');
  const built = (await stat(main)).mtimeMs;
  const sources = (await readdir(join(ROOT, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('test-helpers'));
  const newer: string[] = [];
  for (const f of sources) if ((await stat(join(ROOT, 'src', f))).mtimeMs > built) newer.push(f);
  if (newer.length > 0) console.log(`warning: dist/ is older than ${newer.length} source file(s) (e.g. src/${newer[0]}); rebuild for current numbers`);
}

/** A real record of the shipped example, target dropped, with no missing values. */
async function penguinRecord(): Promise<Record<string, unknown>> {
  const records = await exampleRecords('penguins');
  const full = records.find((r) => Object.values(r).every((v) => v !== null && v !== undefined));
  if (!full) throw new Error('examples/penguins/penguins.csv: no complete row to send');
  const { Species: _target, ...record } = full;
  return record;
}

/** One POST before measuring: the endpoint must answer 200 with a prediction, else nothing is worth timing. */
async function checkPredict(url: string, body: string): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${url} answered ${res.status}, not 200: ${text}`);
  const parsed = JSON.parse(text) as { prediction?: unknown };
  if (parsed.prediction === undefined) throw new Error(`POST ${url} answered 200 without a prediction: ${text}`);
  return text;
}

interface Measure {
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  total: number;
  /** Server process CPU time (user + system) per answered request, in µs; null where /proc is missing. */
  cpuUsPerReq: number | null;
}

/**
 * CPU seconds a process has used so far, from /proc (Linux; 10 ms ticks). Far less sensitive than
 * req/s to other jobs on a shared machine, so it shows what a request costs the server itself.
 */
async function cpuSeconds(pid: number | undefined, file = `/proc/${pid}/stat`): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const stat = await readFile(file, 'utf8');
    // Fields after the command name, which is in parentheses and may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** CPU seconds of a process's main thread (its event loop; /proc/<pid>/task/<pid>/stat), or null without /proc. */
async function mainThreadCpuSeconds(pid: number | undefined): Promise<number | null> {
  return pid === undefined ? null : cpuSeconds(pid, `/proc/${pid}/task/${pid}/stat`);
}

async function fire(server: Server, url: string, body: string, connections: number, duration: number): Promise<Measure> {
  const cpuBefore = await cpuSeconds(server.child.pid);
  const r = await autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, duration });
  const cpuAfter = await cpuSeconds(server.child.pid);
  return {
    reqPerSec: r.requests.mean,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    total: r.requests.total,
    cpuUsPerReq: cpuBefore !== null && cpuAfter !== null && r.requests.total > 0 ? Math.round(((cpuAfter - cpuBefore) * 1e6) / r.requests.total) : null,
  };
}

function alive(server: Server): void {
  if (server.child.exitCode !== null || server.child.signalCode !== null) {
    throw new Error(`${server.label} died during the run (code ${server.child.exitCode}, signal ${server.child.signalCode})\n${server.stderr()}`);
  }
}

/** Resident memory of a process in MB (VmRSS, Linux), or null where /proc is missing. */
async function rssMb(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** The penguins rows as CSV lines without the target (the example file has no quoted values). */
async function penguinCsvRows(): Promise<{ header: string; rows: string[] }> {
  const [head = '', ...lines] = (await readFile(join(ROOT, 'examples', 'penguins', 'penguins.csv'), 'utf8')).split('\n').filter((l) => l !== '');
  const drop = (line: string) => line.split(',').slice(1).join(',');
  if (!head.startsWith('Species,')) throw new Error('examples/penguins/penguins.csv: expected Species as the first column');
  return { header: drop(head), rows: lines.map(drop) };
}

interface StreamMeasure {
  rows: number;
  seconds: number;
  rowsPerSec: number;
  mb: number;
  /** Server RSS (MB) before the stream, at each quarter of it, and the peak while it ran. */
  rssBefore: number | null;
  rssQuarters: (number | null)[];
  rssPeak: number | null;
  errorLines: number;
  /** CPU seconds the server process (every thread: the event loop and the pool's workers) spent on the stream, or null without /proc. */
  serverCpuS: number | null;
  /** Rows per server CPU-second: what the stream costs the server, far less sensitive to other jobs than rows/s. */
  rowsPerCpuS: number | null;
  /** Of serverCpuS, the main thread's (the event loop: reading, featurizing, writing); the rest is the forest's worker threads, GC helpers and I/O. */
  mainThreadCpuS: number | null;
  /** CPU seconds of this process (the client: sending the CSV, reading the answer) during the stream: it shares the machine's cores with the server. */
  clientCpuS: number;
}

/** Streams `rows` CSV rows to `url` in one request (back-pressure on both sides), sampling the server's RSS. */
async function streamRows(server: Server, url: string, rows: number): Promise<StreamMeasure> {
  const { header, rows: sample } = await penguinCsvRows();
  // 10,000 rows of text, sent over and over: the client must not be the slow part.
  const blockRows = 10_000;
  const block = `${Array.from({ length: blockRows }, (_, i) => sample[i % sample.length]).join('\n')}\n`;
  const rssBefore = await rssMb(server.child.pid);
  const cpuBefore = await cpuSeconds(server.child.pid);
  const mainBefore = await mainThreadCpuSeconds(server.child.pid);
  const clientBefore = process.cpuUsage();
  let rssPeak = rssBefore;
  const quarters: (number | null)[] = [];
  let answered = 0;
  const sampler = setInterval(() => {
    void rssMb(server.child.pid).then((r) => {
      if (r !== null && (rssPeak === null || r > rssPeak)) rssPeak = r;
      while (quarters.length < 4 && answered >= ((quarters.length + 1) * rows) / 4 - 1) quarters.push(r);
    });
  }, 100);
  const started = performance.now();
  let sentBytes = 0;
  let errorLines = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'text/csv', accept: 'text/csv' } }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`POST ${url} answered ${res.statusCode}`));
          res.resume();
          return;
        }
        let tail = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          const text = tail + d;
          let at = text.indexOf('\n');
          let from = 0;
          while (at >= 0) {
            // Good rows end with the empty error column: a trailing comma.
            if (text.charCodeAt(at - 1) !== 44) errorLines++;
            answered++;
            from = at + 1;
            at = text.indexOf('\n', from);
          }
          tail = text.slice(from);
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      req.on('error', reject);
      req.write(`${header}\n`);
      let sent = 0;
      const pump = () => {
        while (sent < rows) {
          const n = Math.min(blockRows, rows - sent);
          const text = n === blockRows ? block : `${sample.slice(0, n).join('\n')}\n`;
          sent += n;
          sentBytes += text.length;
          if (!req.write(text)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  const cpuAfter = await cpuSeconds(server.child.pid);
  const serverCpuS = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null;
  const mainAfter = await mainThreadCpuSeconds(server.child.pid);
  const mainThreadCpuS = mainBefore !== null && mainAfter !== null ? mainAfter - mainBefore : null;
  // The header line of the answer is not a row; the error column is empty on it too, it ends with "error".
  answered -= 1;
  errorLines -= 1;
  if (answered !== rows) throw new Error(`the stream answered ${answered} rows for ${rows} sent`);
  while (quarters.length < 4) quarters.push(await rssMb(server.child.pid));
  return {
    rows,
    seconds,
    rowsPerSec: rows / seconds,
    mb: sentBytes / 1e6,
    rssBefore,
    rssQuarters: quarters,
    rssPeak,
    errorLines,
    serverCpuS,
    rowsPerCpuS: serverCpuS ? rows / serverCpuS : null,
    mainThreadCpuS,
    clientCpuS: (client.user + client.system) / 1e6,
  };
}

/** A protocol route's body for the same records, or why it cannot be measured. */
interface RouteCase {
  label: string;
  path: string;
  body: string;
}

/** `/predict/batch`, the Open Inference Protocol's infer (one tensor per column) and MLflow's /invocations, for the same records. */
function protocolCases(name: string, records: Record<string, unknown>[]): RouteCase[] {
  const columns = Object.keys(records[0] ?? {});
  const v2Type = (c: string) => (typeof records[0]?.[c] === 'number' ? 'FP64' : typeof records[0]?.[c] === 'boolean' ? 'BOOL' : 'BYTES');
  return [
    { label: '/predict/batch', path: `/v1/models/${name}/predict/batch`, body: JSON.stringify({ records }) },
    {
      label: '/v2/models/:name/infer',
      path: `/v2/models/${name}/infer`,
      body: JSON.stringify({ inputs: columns.map((c) => ({ name: c, shape: [records.length], datatype: v2Type(c), data: records.map((r) => r[c]) })) }),
    },
    { label: '/invocations', path: '/invocations', body: JSON.stringify({ dataframe_split: { columns, data: records.map((r) => columns.map((c) => r[c])) } }) },
  ];
}

/**
 * Figure 4: a warm-up stream (not counted), then `s.streamRuns` streams of `s.streamRows` CSV rows;
 * the run with the most rows per server CPU-second is kept (rows/s when /proc is missing).
 */
async function streamFigure(mlpipe: Server, streamUrl: string, s: Settings): Promise<{ stream: StreamMeasure; flat: boolean }> {
  console.log('');
  console.log(
    `== POST /predict/stream: ${fmt(s.streamRows)} CSV rows in one request, ${s.streamRuns} run(s) (CSV answer; after a warm-up stream of ${fmt(Math.min(100_000, s.streamRows))} rows), server RSS sampled every 100 ms`,
  );
  // Warm-up, not counted (as for the other figures): the stream's code compiled, the pool's threads started.
  await streamRows(mlpipe, streamUrl, Math.min(100_000, s.streamRows));
  const mb = (v: number | null) => (v === null ? 'n/a' : `${fmt(v)} MB`);
  const runs: StreamMeasure[] = [];
  for (let run = 1; run <= s.streamRuns; run++) {
    const m = await streamRows(mlpipe, streamUrl, s.streamRows);
    alive(mlpipe);
    if (m.errorLines !== 0) throw new Error(`the stream answered ${m.errorLines} error rows for valid input`);
    runs.push(m);
    const cpu = m.serverCpuS === null ? '' : `; server CPU ${fmt(m.serverCpuS, 2)} s (main thread ${m.mainThreadCpuS === null ? 'n/a' : fmt(m.mainThreadCpuS, 2)} s) = ${fmt(m.rowsPerCpuS ?? 0)} rows per CPU-second`;
    console.log(`run ${run}/${s.streamRuns}: ${fmt(m.rows)} rows (${fmt(m.mb)} MB) in ${fmt(m.seconds, 2)} s: ${fmt(m.rowsPerSec)} rows/s${cpu}; RSS peak ${mb(m.rssPeak)}`);
  }
  const score = (m: StreamMeasure) => m.rowsPerCpuS ?? m.rowsPerSec;
  const stream = runs.reduce((a, b) => (score(b) > score(a) ? b : a));
  console.log(`${runs.length > 1 ? 'best run: ' : ''}${fmt(stream.rows)} rows in ${fmt(stream.seconds, 2)} s: ${fmt(stream.rowsPerSec)} rows/s  (target ≥ ${fmt(TARGET_STREAM_ROWS_PER_S)}) ${stream.rowsPerSec >= TARGET_STREAM_ROWS_PER_S ? 'met' : 'TARGET MISSED'}`);
  if (stream.rowsPerCpuS !== null) {
    const main = stream.mainThreadCpuS === null ? '' : `, of which the main thread ${fmt(stream.mainThreadCpuS, 2)} s = ${fmt(stream.rows / stream.mainThreadCpuS)} rows per main-thread CPU-second`;
    console.log(`server CPU: ${fmt(stream.serverCpuS ?? 0, 2)} s for the stream = ${fmt(stream.rowsPerCpuS)} rows per CPU-second (all its threads${main}; information only: less sensitive to other jobs than rows/s)`);
    console.log(`client CPU (this process, sharing the cores): ${fmt(stream.clientCpuS, 2)} s`);
  }
  console.log(`server RSS: before ${mb(stream.rssBefore)}; at 25/50/75/100 % of the rows ${stream.rssQuarters.map(mb).join(' / ')}; peak ${mb(stream.rssPeak)}`);
  const flat = stream.rssQuarters[1] !== null && stream.rssQuarters[3] !== null && (stream.rssQuarters[3] as number) - (stream.rssQuarters[1] as number) < 50;
  console.log(`memory flat (RSS at 100 % within 50 MB of RSS at 50 %): ${flat ? 'yes' : 'NO (TARGET MISSED)'}`);
  return { stream, flat };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(rows: [string, Measure][]): string {
  const head = ['', 'req/s (mean)', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'requests', 'server CPU µs/req'];
  const body = rows.map(([label, m]) => [label, fmt(m.reqPerSec), fmt(m.p50), fmt(m.p99), String(m.non2xx), String(m.errors + m.timeouts), fmt(m.total), m.cpuUsPerReq === null ? 'n/a' : fmt(m.cpuUsPerReq)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

async function main(): Promise<number> {
  const s = parseSettings(process.argv.slice(2));
  await checkBuild();
  const artifacts = await tempDir('mlpipe-bench-');
  console.log(`building the penguins example bundle (${TREES} trees) in ${artifacts}`);
  const built = await buildExampleBundle({ artifacts, example: 'penguins', trees: TREES });
  const ref = built.package.ref;
  const body = JSON.stringify(await penguinRecord());
  // Complete penguin rows (no missing value, target dropped): the records of the batch and protocol routes.
  const complete = (await exampleRecords('penguins'))
    .filter((r) => Object.values(r).every((v) => v !== null && v !== undefined))
    .map(({ Species: _target, ...r }) => r);

  // MLPIPE_DEV would make bin/mlpipe run the sources through tsx: measure the build.
  const env = { ...process.env };
  delete env.MLPIPE_DEV;
  const profile = s.cpuProf === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', s.cpuProf];
  const mlpipe = await startServer('mlpipe', [...profile, s.bin, 'serve', ref, '--artifacts', artifacts, '--port', '0', '--rate-limit', '0', '--batch-rate-limit', '0', '--rows-per-minute', '0', '--max-inflight', '0', '--request-deadline', '0'], env);
  const predictUrl = `${mlpipe.url}/v1/models/${built.package.name}/predict`;
  const answer = await checkPredict(predictUrl, body);
  if (s.only === 'stream') {
    console.log(`mlpipe ${ref} (${s.bin}): rate limits, row budget, in-flight cap and deadline OFF; machine: node ${process.version}, ${cpus().length} CPU(s)`);
    const { stream, flat } = await streamFigure(mlpipe, `${mlpipe.url}/v1/models/${built.package.name}/predict/stream`, s);
    console.log(JSON.stringify({ bench: 'serve', only: 'stream', node: process.version, cpus: cpus().length, trees: TREES, stream, memoryFlat: flat }));
    return 0;
  }
  // The baseline answers exactly what mlpipe answers, so both put the same bytes on the wire.
  const bare = await startServer('bare express', ['--import', 'tsx', join('bench', 'bare-express.ts')], { ...env, BENCH_RESPONSE: answer });
  const bareUrl = `${bare.url}/predict`;
  await checkPredict(bareUrl, body);

  console.log(`mlpipe ${ref} at ${predictUrl}: rate limits, row budget, in-flight cap and deadline OFF (--rate-limit 0 --batch-rate-limit 0 --rows-per-minute 0 --max-inflight 0 --request-deadline 0)`);
  console.log(`baseline: bare Express 5 (express.json, constant answer) at ${bareUrl}`);
  console.log(`request: ${body.length} B ${body}`);
  console.log(`answer:  ${answer.length} B ${answer}`);
  console.log(
    `load: autocannon, ${s.connections} connections, ${s.warmup} s warm-up each (not counted), then ${s.rounds} round(s) of ${s.duration} s each, ` +
      `alternating baseline → mlpipe; the best round of each is kept (the machine is shared: noise only ever slows a run down)`,
  );
  console.log(`machine: node ${process.version}, ${cpus().length} CPU(s) shared by load generator and server; latency resolution 1 ms`);

  if (s.warmup > 0) {
    await fire(bare, bareUrl, body, s.connections, s.warmup);
    await fire(mlpipe, predictUrl, body, s.connections, s.warmup);
  }
  const runs: [string, Measure][] = [];
  const bareRuns: Measure[] = [];
  const mlpipeRuns: Measure[] = [];
  for (let round = 1; round <= s.rounds; round++) {
    const b = await fire(bare, bareUrl, body, s.connections, s.duration);
    alive(bare);
    bareRuns.push(b);
    runs.push([`bare express #${round}`, b]);
    const m = await fire(mlpipe, predictUrl, body, s.connections, s.duration);
    alive(mlpipe);
    mlpipeRuns.push(m);
    runs.push([`mlpipe #${round}`, m]);
    console.log(`round ${round}/${s.rounds}: bare ${fmt(b.reqPerSec)} req/s, mlpipe ${fmt(m.reqPerSec)} req/s`);
  }
  const best = (xs: Measure[]) => xs.reduce((a, b) => (b.reqPerSec > a.reqPerSec ? b : a));
  const bestBare = best(bareRuns);
  const bestMlpipe = best(mlpipeRuns);

  console.log('');
  console.log(table(runs));
  console.log('');
  console.log(table([['bare express (best)', bestBare], ['mlpipe (best)', bestMlpipe]]));
  const ratio = bestMlpipe.reqPerSec / bestBare.reqPerSec;
  const ratioMet = ratio >= TARGET_RATIO;
  console.log('');
  console.log(`throughput mlpipe/bare: ${fmt(ratio, 2)}  (target ≥ ${TARGET_RATIO}) ${ratioMet ? 'met' : 'TARGET MISSED'}`);
  const cpuRatio = bestMlpipe.cpuUsPerReq !== null && bestBare.cpuUsPerReq ? bestMlpipe.cpuUsPerReq / bestBare.cpuUsPerReq : null;
  if (cpuRatio !== null) console.log(`server CPU per request mlpipe/bare: ${fmt(cpuRatio, 2)}  (information only: what the predict route costs over bare Express, less sensitive to other jobs)`);
  const checked: Measure[] = [...bareRuns, ...mlpipeRuns];

  // 2. Latency at 10 connections.
  console.log('');
  console.log(`== p99 latency at ${P99_CONNECTIONS} connections (${s.duration} s each, bare then mlpipe)`);
  const p99Bare = await fire(bare, bareUrl, body, P99_CONNECTIONS, s.duration);
  const p99Mlpipe = await fire(mlpipe, predictUrl, body, P99_CONNECTIONS, s.duration);
  alive(mlpipe);
  checked.push(p99Bare, p99Mlpipe);
  console.log(table([[`bare express, ${P99_CONNECTIONS} conn.`, p99Bare], [`mlpipe, ${P99_CONNECTIONS} conn.`, p99Mlpipe]]));
  const p99Met = p99Mlpipe.p99 <= TARGET_P99_MS;
  console.log(`mlpipe p99 at ${P99_CONNECTIONS} connections: ${fmt(p99Mlpipe.p99)} ms  (target ≤ ${TARGET_P99_MS} ms) ${p99Met ? 'met' : 'TARGET MISSED'}; bare express: ${fmt(p99Bare.p99)} ms`);

  // 3. Two workers against one.
  console.log('');
  console.log(`== serve --workers 2 against one worker (${s.connections} connections, ${s.rounds} round(s) of ${s.duration} s, alternating)`);
  const workers = await startServer('mlpipe --workers 2', [s.bin, 'serve', ref, '--artifacts', artifacts, '--port', '0', '--rate-limit', '0', '--batch-rate-limit', '0', '--rows-per-minute', '0', '--max-inflight', '0', '--request-deadline', '0', '--workers', '2'], env);
  const workersUrl = `${workers.url}/v1/models/${built.package.name}/predict`;
  await checkPredict(workersUrl, body);
  if (s.warmup > 0) await fire(workers, workersUrl, body, s.connections, s.warmup);
  const oneRuns: Measure[] = [];
  const twoRuns: Measure[] = [];
  for (let round = 1; round <= s.rounds; round++) {
    oneRuns.push(await fire(mlpipe, predictUrl, body, s.connections, s.duration));
    twoRuns.push(await fire(workers, workersUrl, body, s.connections, s.duration));
    alive(workers);
    console.log(`round ${round}/${s.rounds}: 1 worker ${fmt(oneRuns.at(-1)!.reqPerSec)} req/s, 2 workers ${fmt(twoRuns.at(-1)!.reqPerSec)} req/s`);
  }
  checked.push(...oneRuns, ...twoRuns);
  const bestOne = best(oneRuns);
  const bestTwo = best(twoRuns);
  // The primary's CPU is not the workers': per-request CPU is not comparable here.
  console.log(table([['1 worker (best)', bestOne], ['2 workers (best)', { ...bestTwo, cpuUsPerReq: null }]]));
  const workersRatio = bestTwo.reqPerSec / bestOne.reqPerSec;
  const workersMet = workersRatio >= TARGET_WORKERS_RATIO;
  console.log(`throughput 2 workers / 1 worker: ${fmt(workersRatio, 2)}  (target ≥ ${TARGET_WORKERS_RATIO}) ${workersMet ? 'met' : 'TARGET MISSED'}`);
  if (cpus().length <= 2) console.log(`  note: ${cpus().length} CPU(s) here, shared by both workers, the primary and autocannon itself`);

  // 4. Streaming.
  const { stream, flat } = await streamFigure(mlpipe, `${mlpipe.url}/v1/models/${built.package.name}/predict/stream`, s);

  // 5. Protocol routes against /predict/batch, the same rows.
  console.log('');
  const records = Array.from({ length: s.batchRows }, (_, i) => complete[i % complete.length] as Record<string, unknown>);
  console.log(`== the same ${s.batchRows} records per request through each route (${P99_CONNECTIONS} connections, ${s.duration} s each)`);
  const protocol: { label: string; measure?: Measure; skipped?: string }[] = [];
  for (const c of protocolCases(built.package.name, records)) {
    const probe = await fetch(`${mlpipe.url}${c.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: c.body });
    const text = await probe.text();
    if (probe.status === 404) {
      protocol.push({ label: c.label, skipped: 'the route answers 404: not in this build' });
      continue;
    }
    if (probe.status !== 200) {
      protocol.push({ label: c.label, skipped: `the route answered ${probe.status} to the bench's body: ${text.slice(0, 160)}` });
      continue;
    }
    const m = await fire(mlpipe, `${mlpipe.url}${c.path}`, c.body, P99_CONNECTIONS, s.duration);
    alive(mlpipe);
    checked.push(m);
    protocol.push({ label: c.label, measure: m });
  }
  const batchMeasure = protocol[0]?.measure;
  console.log(table(protocol.filter((p) => p.measure).map((p) => [p.label, p.measure as Measure])));
  for (const p of protocol.slice(1)) {
    if (p.skipped) console.log(`${p.label}: skipped (${p.skipped})`);
    else if (batchMeasure && p.measure) console.log(`${p.label}: ${fmt(p.measure.reqPerSec / batchMeasure.reqPerSec, 2)}× the requests/s of /predict/batch (overhead ${fmt((1 - p.measure.reqPerSec / batchMeasure.reqPerSec) * 100, 0)} %)`);
  }

  const non2xxAll = checked.reduce((n, m) => n + m.non2xx, 0);
  const failuresAll = checked.reduce((n, m) => n + m.errors + m.timeouts, 0);
  const valid = non2xxAll === 0 && failuresAll === 0;
  if (!valid) console.log(`INVALID RUN: ${non2xxAll} non-2xx responses and ${failuresAll} connection errors/timeouts (must be 0)`);
  console.log(
    JSON.stringify({
      bench: 'serve',
      valid,
      node: process.version,
      cpus: cpus().length,
      connections: s.connections,
      durationS: s.duration,
      warmupS: s.warmup,
      rounds: s.rounds,
      kept: 'best round by req/s',
      rateLimits: 'off',
      trees: TREES,
      bare: bestBare,
      mlpipe: bestMlpipe,
      ratio: Number(ratio.toFixed(3)),
      cpuPerRequestRatio: cpuRatio === null ? null : Number(cpuRatio.toFixed(3)),
      p99: { connections: P99_CONNECTIONS, bare: p99Bare, mlpipe: p99Mlpipe },
      workers: { one: bestOne, two: { ...bestTwo, cpuUsPerReq: null }, ratio: Number(workersRatio.toFixed(3)) },
      stream,
      protocols: protocol,
      targets: {
        ratio: { min: TARGET_RATIO, met: ratioMet },
        p99Ms: { max: TARGET_P99_MS, connections: P99_CONNECTIONS, met: p99Met },
        workersRatio: { min: TARGET_WORKERS_RATIO, met: workersMet },
        streamRowsPerSec: { min: TARGET_STREAM_ROWS_PER_S, met: stream.rowsPerSec >= TARGET_STREAM_ROWS_PER_S, memoryFlat: flat },
      },
      runs: runs.map(([label, m]) => ({ label, ...m })),
    }),
  );
  return valid ? 0 : 1;
}

runBench('bench/serve', main, async () => {
  await stopAll();
  await cleanupTempDirs();
}, { onSignal: 'stopping the servers and removing the temporary store' });
