import { expect } from 'chai';
import { cp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXAMPLES, buildExampleBundle, cleanupTempDirs, runCli, tempDir } from '../../test-helpers/fixtures.js';
import { countReliability } from '../../test-helpers/reliability.js';
import { VerificationError } from '../errors.js';
import { report } from '../report/data.js';
import { loadPredictor } from '../predictor/from-bundle.js';
import type { Manifest } from './manifest.js';
import { serializeManifest } from './package.js';
import { resolveRef } from './store.js';
import { verifyBundle } from './verify.js';

/**
 * Issue 11, problem 11: a bundle whose files are symbolic links, or whose manifest (with its own
 * checksum recomputed, as any forger can) lists names outside the bundle, is refused by everything
 * that reads a bundle, naming the file.
 */
describe('forged bundles (reliability)', function () {
  this.timeout(180_000);
  let pristine: string;
  let outside: string;
  let cases = 0;
  let passed = 0;

  before(async () => {
    pristine = await tempDir();
    outside = await tempDir();
    await buildExampleBundle({ artifacts: pristine, example: 'penguins', trees: 3, name: 'forge' });
  });
  after(async () => {
    countReliability('forged bundles', { cases, passed });
    await cleanupTempDirs();
  });

  /** A fresh copy of the pristine store, and the bundle folder in it. */
  async function freshStore(): Promise<{ artifacts: string; dir: string }> {
    const artifacts = await tempDir();
    await cp(pristine, artifacts, { recursive: true });
    return { artifacts, dir: join(artifacts, 'forge', '1.0.0') };
  }

  /** Every reader refuses the bundle with a VerificationError naming `file`. */
  async function expectRefusedEverywhere(artifacts: string, file: string, message: RegExp): Promise<void> {
    const readers: [string, () => Promise<unknown>][] = [
      ['verify', async () => verifyBundle((await resolveRef('forge@1.0.0', artifacts)).dir)],
      ['loadPredictor', () => loadPredictor('forge@1.0.0', artifacts)],
      ['report', () => report({ ref: 'forge@1.0.0', artifacts })],
    ];
    for (const [what, read] of readers) {
      cases++;
      try {
        await read();
        expect.fail(`${what} accepted a forged bundle`);
      } catch (err) {
        expect(err, what).to.be.instanceOf(VerificationError);
        expect((err as VerificationError).file, what).to.equal(file);
        expect((err as Error).message, what).to.match(message);
        passed++;
      }
    }
  }

  async function rewriteManifest(dir: string, change: (m: Manifest) => void): Promise<void> {
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    change(m);
    const { manifestSha256: _, ...rest } = m;
    await writeFile(join(dir, 'manifest.json'), serializeManifest(rest));
  }

  it('refuses a bundle file replaced by a symbolic link to an identical file outside the bundle', async () => {
    const { artifacts, dir } = await freshStore();
    const copy = join(outside, 'featurizer.json');
    await cp(join(dir, 'featurizer.json'), copy);
    await rm(join(dir, 'featurizer.json'));
    await symlink(copy, join(dir, 'featurizer.json'));
    await expectRefusedEverywhere(artifacts, 'featurizer.json', /featurizer\.json: is a symbolic link/);

    const verify = await runCli(['bundles', 'verify', 'forge@1.0.0', '--artifacts', artifacts]);
    const show = await runCli(['bundles', 'show', 'forge@1.0.0', '--artifacts', artifacts]);
    for (const run of [verify, show]) {
      cases++;
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.contain(`${join(dir, 'featurizer.json')}: is a symbolic link`);
      passed++;
    }
    expect(show.stdout).to.equal('');
  });

  it('refuses a manifest that is itself a symbolic link, and an added symbolic link', async () => {
    const { artifacts, dir } = await freshStore();
    await writeFile(join(dir, 'extra'), '');
    await rm(join(dir, 'extra'));
    await symlink('/etc/hostname', join(dir, 'extra'));
    await expectRefusedEverywhere(artifacts, 'extra', /extra: is a symbolic link/);
    await rm(join(dir, 'extra'));
    const copy = join(outside, 'manifest.json');
    await cp(join(dir, 'manifest.json'), copy);
    await rm(join(dir, 'manifest.json'));
    await symlink(copy, join(dir, 'manifest.json'));
    await expectRefusedEverywhere(artifacts, 'manifest.json', /manifest\.json: is a symbolic link/);
  });

  it('refuses a bundle folder or a name folder that is a symbolic link into another store', async () => {
    const { artifacts, dir } = await freshStore();
    const elsewhere = join(outside, 'real-1.0.0');
    await rename(dir, elsewhere);
    await symlink(elsewhere, dir);
    await expectRefusedEverywhere(artifacts, 'manifest.json', /1\.0\.0: is a symbolic link/);
    const second = await freshStore();
    const nameElsewhere = join(outside, `real-name-${Date.now()}`);
    await rename(join(second.artifacts, 'forge'), nameElsewhere);
    await symlink(nameElsewhere, join(second.artifacts, 'forge'));
    await expectRefusedEverywhere(second.artifacts, 'manifest.json', /forge: is a symbolic link/);
  });

  for (const forged of ['../../etc/passwd', '/etc/passwd', 'a/../../b', 'sub/model.json', 'x\\..\\y', 'nul\0name', '..', '.']) {
    it(`refuses a manifest (checksum recomputed) that lists ${JSON.stringify(forged)}`, async () => {
      const { artifacts, dir } = await freshStore();
      await rewriteManifest(dir, (m) => {
        m.files[forged] = { sha256: '0'.repeat(64), bytes: 0 };
      });
      await expectRefusedEverywhere(artifacts, forged, /not a plain file name inside the bundle/);
    });
  }

  it('bundles show, verify and predict exit 1 on a forged ../../etc/passwd entry, naming it, and print nothing of it', async () => {
    const { artifacts, dir } = await freshStore();
    await rewriteManifest(dir, (m) => {
      m.files['../../etc/passwd'] = { sha256: '0'.repeat(64), bytes: 0 };
    });
    const runs = [
      await runCli(['bundles', 'show', 'forge@1.0.0', '--artifacts', artifacts]),
      await runCli(['bundles', 'show', 'forge@1.0.0', '--artifacts', artifacts, '--json']),
      await runCli(['predict', 'forge@1.0.0', '--artifacts', artifacts, '--input', join(EXAMPLES, 'penguins', 'penguins.csv')]),
    ];
    for (const run of runs) {
      cases++;
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.contain('"../../etc/passwd", which is not a plain file name inside the bundle');
      expect(run.stdout).to.not.contain('passwd');
      passed++;
    }
  });

  it('refuses a manifest whose model file is not among its listed files', async () => {
    const { artifacts, dir } = await freshStore();
    await rewriteManifest(dir, (m) => {
      m.model.compiled = 'other.bin';
    });
    await expectRefusedEverywhere(artifacts, 'other.bin', /model\.compiled is "other\.bin", which the manifest's files do not list/);
  });
});
