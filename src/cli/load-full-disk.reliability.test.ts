/**
 * Issue 11, faults of loading: a full disk while `mlpipe load` writes its spool or its dataset. A small
 * tmpfs (512 KiB; mounting needs root, the test is skipped otherwise) is filled to leave less and less
 * room, so the write fails at different steps. Each load either succeeds whole or fails with one line
 * naming the file and "no space left", exit 1, no dataset at --out and no temporary file left.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { cleanupTempDirs, runCli, tempDir } from '../test-helpers/fixtures.js';
import { mulberry32 } from '../test-helpers/random.js';
import { byScale, countReliability } from '../test-helpers/reliability.js';

const SIZE_KIB = 512;

describe('reliability: a full disk while mlpipe load writes', function () {
  this.timeout(byScale(240_000, 600_000));
  let root: string;
  let disk: string;
  let mounted = false;

  before(async function () {
    root = await tempDir('mlpipe-full-disk-');
    disk = join(root, 'disk');
    await mkdir(disk);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE_KIB}k`, 'tmpfs', disk], { stdio: 'ignore' });
      mounted = true;
    } catch {
      this.skip(); // not root, or mount not permitted in this container
    }
    const rnd = mulberry32(9);
    const lines = ['x,kind,n,day,word'];
    for (let i = 0; i < 3000; i++) lines.push(`${rnd().toFixed(6)},${['alpha', 'beta', 'gamma'][i % 3]},${i},2024-01-${String(1 + (i % 28)).padStart(2, '0')},word${i % 997}`);
    await writeFile(join(root, 'table.csv'), `${lines.join('\n')}\n`);
  });

  after(async () => {
    if (mounted) execFileSync('umount', [disk], { stdio: 'ignore' });
    await cleanupTempDirs();
  });

  it('fails with the path and "no space left", exit 1, nothing at --out and no temporary file; or loads whole', async () => {
    // Room left on the disk, from nothing to all of it: the spool fails, then the dataset, then neither.
    const rooms = byScale([0, 160, 352, SIZE_KIB], [0, 16, 32, 48, 64, 96, 128, 160, 192, 224, 256, 320, 384, SIZE_KIB]);
    const failedAt = new Set<string>();
    let cases = 0;
    for (const room of rooms) {
      await rm(join(disk, 'filler'), { force: true });
      if (room < SIZE_KIB) await writeFile(join(disk, 'filler'), Buffer.alloc((SIZE_KIB - room) * 1024)).catch(() => {});
      const out = join(disk, 'data.arrow');
      const run = await runCli(['load', join(root, 'table.csv'), '--out', out, '--json'], { env: { MLPIPE_DEV: '1' } });
      const files = (await readdir(disk)).filter((f) => f !== 'filler');
      cases++;
      if (run.code === 0) {
        expect((JSON.parse(run.stdout) as { rows: number }).rows, `room ${room} KiB`).to.equal(3000);
        expect(files).to.deep.equal(['data.arrow']);
        await rm(out);
        continue;
      }
      expect(run.code, `room ${room} KiB: ${run.stderr}`).to.equal(1);
      const message = run.stderr.split('\n').filter((l) => l.startsWith('mlpipe:'));
      expect(message, run.stderr).to.have.length(1);
      expect(message[0]).to.contain('no space left');
      expect(message[0]).to.not.contain('internal error');
      expect(message[0]).to.contain(disk);
      failedAt.add(message[0]!.includes('spool') ? 'spool' : 'dataset');
      expect(files, `room ${room} KiB: files left on the disk`).to.deep.equal([]);
    }
    // Both steps were made to fail somewhere in the range.
    expect([...failedAt].sort()).to.deep.equal(['dataset', 'spool']);
    countReliability('full disk during load', { cases, passed: cases });
  });
});
