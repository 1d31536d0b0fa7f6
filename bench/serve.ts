/**
 * `make bench`: throughput and latency of `POST /v1/models/:name/predict` (one record, penguins
 * example, 100 trees) against a bare Express app that parses the same JSON and answers a constant,
 * both measured in the same run. A benchmark, not a test: a missed target prints TARGET MISSED and
 * still exits 0; only a broken run (server does not start, wrong answer, non-2xx responses) exits 1.
 *
 *   node --import tsx bench/serve.ts [--duration 10] [--connections 50] [--warmup 3] [--rounds 2]
 *
 * Both servers run as separate processes (the compiled dist/ for mlpipe, so build first) so the load
 * generator never shares their event loop. Rate limits are off: they would answer 429 under load.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { BIN, ROOT, buildExampleBundle, cleanupTempDirs, exampleRecords, tempDir } from '../src/test-helpers/fixtures.js';

/** The targets stated in the README. */
const TARGET_RATIO = 0.7;
const TARGET_P99_MS = 5;
const TREES = 100;

interface Settings {
  duration: number;
  connections: number;
  warmup: number;
  rounds: number;
}

function positiveInt(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer ≥ ${min}, got "${raw}"`);
  return n;
}

function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
    },
    strict: true,
  });
  return {
    duration: positiveInt('duration', values.duration, 10, 1),
    connections: positiveInt('connections', values.connections, 50, 1),
    warmup: positiveInt('warmup', values.warmup, 3, 0),
    rounds: positiveInt('rounds', values.rounds, 2, 1),
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
async function cpuSeconds(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
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

  // MLPIPE_DEV would make bin/mlpipe run the sources through tsx: measure the build.
  const env = { ...process.env };
  delete env.MLPIPE_DEV;
  const mlpipe = await startServer('mlpipe', [BIN, 'serve', ref, '--artifacts', artifacts, '--port', '0', '--rate-limit', '0', '--batch-rate-limit', '0'], env);
  const predictUrl = `${mlpipe.url}/v1/models/${built.package.name}/predict`;
  const answer = await checkPredict(predictUrl, body);
  // The baseline answers exactly what mlpipe answers, so both put the same bytes on the wire.
  const bare = await startServer('bare express', ['--import', 'tsx', join('bench', 'bare-express.ts')], { ...env, BENCH_RESPONSE: answer });
  const bareUrl = `${bare.url}/predict`;
  await checkPredict(bareUrl, body);

  console.log(`mlpipe ${ref} at ${predictUrl}: rate limits OFF (--rate-limit 0 --batch-rate-limit 0)`);
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
  const non2xx = [...bareRuns, ...mlpipeRuns].reduce((n, m) => n + m.non2xx, 0);
  const failures = [...bareRuns, ...mlpipeRuns].reduce((n, m) => n + m.errors + m.timeouts, 0);

  console.log('');
  console.log(table(runs));
  console.log('');
  console.log(table([['bare express (best)', bestBare], ['mlpipe (best)', bestMlpipe]]));
  const ratio = bestMlpipe.reqPerSec / bestBare.reqPerSec;
  const ratioMet = ratio >= TARGET_RATIO;
  const p99Met = bestMlpipe.p99 <= TARGET_P99_MS;
  console.log('');
  console.log(`throughput mlpipe/bare: ${fmt(ratio, 2)}  (target ≥ ${TARGET_RATIO}) ${ratioMet ? 'met' : 'TARGET MISSED'}`);
  console.log(`mlpipe p99: ${fmt(bestMlpipe.p99)} ms  (target ≤ ${TARGET_P99_MS} ms at ${s.connections} connections) ${p99Met ? 'met' : 'TARGET MISSED'}`);
  console.log(`bare express p99: ${fmt(bestBare.p99)} ms  (for context: the same target applied to the baseline is ${bestBare.p99 <= TARGET_P99_MS ? 'met' : 'missed'})`);
  if (!p99Met) {
    // Little's law: with every connection always busy, mean latency = connections / throughput.
    console.log(`  note: at ${s.connections} busy connections the mean latency alone is ${fmt((s.connections / bestMlpipe.reqPerSec) * 1000, 1)} ms (connections / req/s)`);
  }
  const cpuRatio = bestMlpipe.cpuUsPerReq !== null && bestBare.cpuUsPerReq ? bestMlpipe.cpuUsPerReq / bestBare.cpuUsPerReq : null;
  if (cpuRatio !== null) console.log(`server CPU per request mlpipe/bare: ${fmt(cpuRatio, 2)}  (information only: what the predict route costs over bare Express, less sensitive to other jobs)`);
  const valid = non2xx === 0 && failures === 0;
  if (!valid) console.log(`INVALID RUN: ${non2xx} non-2xx responses and ${failures} connection errors/timeouts (must be 0)`);
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
      targets: {
        ratio: { min: TARGET_RATIO, met: ratioMet },
        p99Ms: { max: TARGET_P99_MS, met: p99Met },
      },
      runs: runs.map(([label, m]) => ({ label, ...m })),
    }),
  );
  return valid ? 0 : 1;
}

let finishing = false;
async function finish(code: number): Promise<void> {
  if (finishing) return;
  finishing = true;
  await stopAll();
  await cleanupTempDirs();
  process.exitCode = code;
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping the servers and removing the temporary store`);
    void finish(code).then(() => process.exit(code));
  });
}

main().then(
  (code) => finish(code),
  async (err: unknown) => {
    console.error(`bench/serve failed: ${err instanceof Error ? err.message : String(err)}`);
    await finish(1);
  },
);
