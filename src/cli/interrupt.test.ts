/**
 * Ctrl-C and SIGTERM while `load`, `featurize` and `run` are busy (issue 11, problem 6), as real
 * processes, signalled once their load has started (a spool file appears) and again later: each stops within a few seconds (the promise is about one), exits 130, and leaves no
 * output and no temporary file (the child gets its own TMPDIR, listed afterwards).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { BIN, ROOT, cleanupTempDirs, tempDir } from '../test-helpers/fixtures.js';

/** Rows of the busy table: enough for every command to work for well over the signal's delay. */
const ROWS = 900_000;

let dir: string;
let csv: string;

/** Every entry under `root` whose name mentions mlpipe (spool files, run folders, partial outputs). */
async function mlpipeLeftovers(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (/mlpipe|spool/.test(entry.name)) out.push(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
  }
  return out;
}

interface Interrupted {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Milliseconds from the signal to the exit. */
  ms: number;
}

/** Whether a load's spool file is in one of `folders` (the command is busy, its signal handlers listen). */
async function spooling(folders: string[]): Promise<boolean> {
  for (const f of folders) {
    // Recursive: the command's worker spools into its supervisor's private folder (mlpipe-proc-<pid>-…).
    if ((await readdir(f, { recursive: true }).catch(() => [] as string[])).some((n) => n.includes('.spool-'))) return true;
  }
  return false;
}

/**
 * Starts `mlpipe args`, waits until it is busy (its load spools, in `out` or `tmp`) and then `delayMs`
 * more, sends `sig`, and waits for its exit.
 */
async function interrupt(args: string[], sig: NodeJS.Signals, delayMs: number, out: string, tmp: string): Promise<Interrupted> {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let exited = false;
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout!.resume();
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  void closed.then(() => (exited = true));
  const deadline = performance.now() + 90_000;
  while (!exited && !(await spooling([out, tmp])) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  await new Promise((r) => setTimeout(r, delayMs));
  expect(exited, `mlpipe ${args[0]} finished before the signal: make the table bigger (stderr: ${stderr})`).to.equal(false);
  const sent = performance.now();
  child.kill(sig);
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = await closed;
  clearTimeout(killer);
  const ms = performance.now() - sent;
  console.log(`      ${args[0]}: ${sig} ${delayMs} ms into the load → exit ${code ?? signal} in ${ms.toFixed(0)} ms`);
  return { code, signal, stderr, ms };
}

describe('CLI: Ctrl-C and SIGTERM stop load, featurize and run (real process)', function () {
  this.timeout(300_000);
  before(async () => {
    dir = await tempDir();
    csv = join(dir, 'busy.csv');
    const lines = ['id,x1,x2,x3,kind,when,note,y'];
    for (let i = 0; i < ROWS; i++) {
      lines.push(`${i},${(i * 0.37) % 101},${(i * 7) % 13},${i % 977},k${i % 17},2024-01-${String((i % 28) + 1).padStart(2, '0')},n${i % 5003},${i % 3 === 0 ? 'a' : 'b'}`);
    }
    await writeFile(csv, `${lines.join('\n')}\n`);
  });
  after(cleanupTempDirs);

  const cases: { command: string; args: (out: string) => string[]; sig: NodeJS.Signals; delayMs: number }[] = [
    { command: 'load', args: (out) => ['load', csv, '--out', join(out, 'busy.arrow')], sig: 'SIGTERM', delayMs: 0 },
    { command: 'load', args: (out) => ['load', csv, '--out', join(out, 'busy.arrow')], sig: 'SIGINT', delayMs: 400 },
    { command: 'featurize', args: (out) => ['featurize', csv, '--target', 'y', '--out', join(out, 'features')], sig: 'SIGTERM', delayMs: 0 },
    { command: 'featurize', args: (out) => ['featurize', csv, '--target', 'y', '--out', join(out, 'features')], sig: 'SIGINT', delayMs: 1500 },
    { command: 'run', args: (out) => ['run', csv, '--target', 'y', '--name', 'busy', '--artifacts', join(out, 'artifacts')], sig: 'SIGTERM', delayMs: 0 },
    { command: 'run', args: (out) => ['run', csv, '--target', 'y', '--name', 'busy', '--artifacts', join(out, 'artifacts')], sig: 'SIGINT', delayMs: 1500 },
  ];
  for (const c of cases) {
    it(`${c.command}: ${c.sig} ${c.delayMs} ms into its load stops it, exit 130, no output and no temporary file left`, async () => {
      const out = join(dir, `${c.command}-${c.sig}-${c.delayMs}`);
      const tmp = join(out, 'tmp');
      await mkdir(tmp, { recursive: true });
      const r = await interrupt(c.args(out), c.sig, c.delayMs, out, tmp);
      expect(r.signal, r.stderr).to.equal(null);
      expect(r.code, r.stderr).to.equal(130);
      expect(r.stderr).to.contain('interrupted');
      // About a second is the promise; the bound leaves room for a loaded machine.
      expect(r.ms, r.stderr).to.be.below(5_000);
      const left = (await readdir(out)).filter((n) => n !== 'tmp');
      expect(left, 'outputs left behind').to.deep.equal([]);
      expect(await mlpipeLeftovers(tmp), 'temporary files left behind').to.deep.equal([]);
    });
  }
});
