/**
 * Issue 11, faults of loading: `mlpipe load` killed with SIGKILL at several points of a load that takes
 * seconds. Nothing partial is ever visible at `--out` (the dataset is written to a temporary file and
 * renamed), and the next load succeeds and removes the temporary dataset and spool files the killed
 * ones left (stale by owner: their pid is in the name and that process is gone).
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { expect } from 'chai';
import { BIN, cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';
import { mulberry32 } from '../test-helpers/random.js';
import { byScale, countReliability } from '../test-helpers/reliability.js';

const ROWS = byScale(300_000, 600_000);

async function writeBigCsv(path: string): Promise<void> {
  const rnd = mulberry32(5);
  const out = createWriteStream(path);
  out.write('x,kind,n,day,word\n');
  const kinds = ['alpha', 'beta', 'gamma'];
  for (let i = 0; i < ROWS; i++) {
    const line = `${rnd().toFixed(6)},${kinds[i % 3]},${i},2024-01-${String(1 + (i % 28)).padStart(2, '0')},word${i % 997}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

/**
 * Starts `mlpipe load`, kills it with SIGKILL after `delayMs` — its whole process group, supervisor
 * and worker at once (as the OOM killer or a container runtime does), so neither can clean up —
 * and resolves with how it ended.
 */
function loadKilledAfter(cwd: string, delayMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const tmp = join(cwd, 'tmp');
  const child = spawn(process.execPath, [BIN, 'load', 'big.csv', '--out', 'data.arrow'], { cwd, env: { ...process.env, MLPIPE_DEV: '1', TMPDIR: tmp }, stdio: 'ignore', detached: true });
  const timer = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), delayMs);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

const leftovers = async (dir: string) => (await readdir(dir)).filter((f) => f.startsWith('.data.arrow.'));

describe('reliability: kill -9 during mlpipe load', function () {
  this.timeout(byScale(300_000, 900_000));
  after(cleanupTempDirs);

  it('leaves nothing partial at --out, and the next load succeeds and removes the stale temporary files', async () => {
    const dir = await tempDir('mlpipe-load-kill-');
    await mkdir(join(dir, 'tmp'));
    await writeBigCsv(join(dir, 'big.csv'));
    // A load run to the end, timed: the kills fall inside a load of this length.
    const started = Date.now();
    const whole = await runCli(['load', 'big.csv', '--out', 'whole.arrow', '--json'], { cwd: dir, env: { MLPIPE_DEV: '1' } });
    const took = Date.now() - started;
    expect(whole.code, whole.stderr).to.equal(0);
    const fractions = byScale([0.5, 0.7, 0.9], [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95]);
    let killed = 0;
    let seenLeftovers = 0;
    for (const f of fractions) {
      const end = await loadKilledAfter(dir, Math.round(took * f));
      if (end.signal !== 'SIGKILL') continue; // finished first (a fast machine): nothing to check for this point
      killed++;
      if ((await readdir(dir)).includes('data.arrow')) {
        // Killed after the rename (late in the run, while the processes ended): then it is whole.
        const check = await runCli(['load', 'data.arrow', '--out', 'check.arrow', '--json'], { cwd: dir, env: { MLPIPE_DEV: '1' } });
        expect(check.code, `data.arrow after a kill at ${Math.round(f * 100)}% is unreadable: ${check.stderr}`).to.equal(0);
        expect((JSON.parse(check.stdout) as { rows: number }).rows, `a partial data.arrow after a kill at ${Math.round(f * 100)}%`).to.equal(ROWS);
        await rm(join(dir, 'data.arrow'));
        await rm(join(dir, 'check.arrow'));
      }
      seenLeftovers = Math.max(seenLeftovers, (await leftovers(dir)).length);
    }
    expect(killed, 'no load was killed before it finished').to.be.greaterThan(0);
    expect(seenLeftovers, 'the killed loads left no temporary file (the cleanup below is then untested)').to.be.greaterThan(0);

    const next = await runCli(['load', 'big.csv', '--out', 'data.arrow', '--json'], { cwd: dir, env: { MLPIPE_DEV: '1', TMPDIR: join(dir, 'tmp') } });
    expect(next.code, next.stderr).to.equal(0);
    expect((JSON.parse(next.stdout) as { rows: number }).rows).to.equal(ROWS);
    expect(await leftovers(dir), 'temporary files of the killed loads').to.deep.equal([]);
    // (tsx keeps its cache there too: MLPIPE_DEV runs the sources.)
    expect((await readdir(join(dir, 'tmp'))).filter((e) => /mlpipe|spool/.test(e)), "the killed loads' private temporary folders (spools)").to.deep.equal([]);
    countReliability('kill -9 during load', { cases: killed + 1, passed: killed + 1, restarts: killed });
  });
});
