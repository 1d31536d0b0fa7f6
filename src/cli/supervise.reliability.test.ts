/**
 * Issue 11, problem 6: a signal that arrives while a command is inside a long synchronous step (the
 * step cannot see it: no handler runs until it ends). The test seam blocks the worker's thread at a
 * named step (MLPIPE_TEST_FAULT=busy:<step>:<marker>, as a long loop would), then the supervisor gets
 * the signal: it must exit 130 within about a second, leaving no temporary file, no partial bundle and
 * no private temporary folder. And when the supervisor itself is killed with -9, its worker must not
 * go on alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { pathExists, processAlive } from '../core/fs-util.js';
import { EXAMPLES, ROOT, BIN, cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';
import { countReliability } from '../test-helpers/reliability.js';
import { commandOf, shouldSupervise } from './supervise.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every file or folder under `root`, relative, recursively. */
async function everything(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true }).catch(() => [] as string[])).map(String).sort();
}

interface Busy {
  child: ChildProcess;
  workerPid: number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts `mlpipe args`, its worker blocked at `step`; resolves once it is blocked there. */
async function blockedAt(args: string[], step: string, tmp: string): Promise<Busy> {
  const marker = join(await tempDir('mlpipe-marker-'), 'busy');
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, MLPIPE_TEST_FAULT: `busy:${step}:${marker}`, TMPDIR: tmp, TMP: tmp, TEMP: tmp },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  const deadline = Date.now() + 240_000;
  while (!(await pathExists(marker))) {
    if (child.exitCode !== null) throw new Error(`mlpipe ${args.join(' ')} ended (exit ${child.exitCode}) before reaching ${step}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`mlpipe never reached ${step}: ${stderr}`);
    await sleep(50);
  }
  await sleep(100); // the marker is written just before the thread blocks
  return { child, workerPid: Number((await readFile(marker, 'utf8')).trim()), exit };
}

describe('reliability: signals while a command is busy in a synchronous step (supervisor)', function () {
  this.timeout(600_000);
  let csv: string;
  let cases = 0;
  let passed = 0;
  let restarts = 0;

  before(async () => {
    csv = join(EXAMPLES, 'penguins', 'penguins.csv');
  });
  after(async () => {
    countReliability('signals during long synchronous steps', { cases, passed, restarts });
    await cleanupTempDirs();
  });

  it('knows which commands it watches', () => {
    expect(commandOf(['--verbose', 'run', 'x.csv'])).to.equal('run');
    for (const argv of [['load', 'a.csv', '--out', 'a.arrow'], ['run', 'p.yaml'], ['featurize', 'd'], ['train', 'f'], ['package', 'm'], ['predict', 'p']]) {
      expect(shouldSupervise(argv, {}), argv.join(' ')).to.equal(true);
    }
    for (const argv of [['serve'], ['bundles', 'list'], ['--help'], ['run', '--help'], []]) expect(shouldSupervise(argv, {}), argv.join(' ')).to.equal(false);
    expect(shouldSupervise(['run', 'p.yaml'], { MLPIPE_SUPERVISED: '1' })).to.equal(false);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`run, blocked while rendering its bundle's report: ${signal} stops it within about a second, exit 130, nothing left behind`, async () => {
      cases++;
      const tmp = await tempDir('mlpipe-tmp-');
      const store = await tempDir('mlpipe-store-');
      const busy = await blockedAt(['run', csv, '--target', 'Species', '--name', 'busy', '--trees', '5', '--artifacts', store], 'package:report', tmp);
      const t0 = performance.now();
      busy.child.kill(signal);
      const { code, stderr } = await busy.exit;
      const ms = performance.now() - t0;
      console.log(`      ${signal} → exit in ${ms.toFixed(0)} ms`);
      expect(code, stderr).to.equal(130);
      expect(stderr).to.contain('mlpipe: interrupted');
      expect(ms, 'stopped within about a second (5 s allowed on a busy machine)').to.be.lessThan(5_000);
      expect(processAlive(busy.workerPid), 'the worker is gone').to.equal(false);
      expect(await everything(tmp), 'temporary files').to.deep.equal([]);
      expect(await everything(store), 'a partial bundle or its temporary folder').to.satisfy((entries: string[]) => entries.every((e) => !e.includes('.bundle.tmp-') && !/busy\/\d/.test(e)));
      passed++;
    });
  }

  it('kill -9 of the command: its busy worker stops too, and the next run removes what it left', async () => {
    cases++;
    const tmp = await tempDir('mlpipe-tmp-');
    const store = await tempDir('mlpipe-store-');
    const busy = await blockedAt(['run', csv, '--target', 'Species', '--name', 'orphan', '--trees', '5', '--artifacts', store], 'package:report', tmp);
    busy.child.kill('SIGKILL');
    await busy.exit;
    restarts++;
    const deadline = Date.now() + 10_000;
    while (processAlive(busy.workerPid) && Date.now() < deadline) await sleep(50);
    expect(processAlive(busy.workerPid), 'the worker went on alone').to.equal(false);
    // The next command cleans up after both: the private folder and the bundle's temporary folder.
    const next = await runCli(['run', csv, '--target', 'Species', '--name', 'orphan', '--trees', '5', '--artifacts', store], { env: { TMPDIR: tmp, TMP: tmp, TEMP: tmp } });
    expect(next.code, next.stderr).to.equal(0);
    expect(next.stdout.trimEnd().split('\n').pop()).to.equal('orphan@1.0.0');
    expect(await everything(tmp), 'temporary files').to.deep.equal([]);
    expect((await everything(store)).filter((e) => e.includes('.bundle.tmp-') || e.includes('.tmp-'))).to.deep.equal([]);
    passed++;
  });
});
