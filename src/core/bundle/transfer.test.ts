import { expect } from 'chai';
import { cp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTempDirs, packagedExample, tempDir } from '../../test-helpers/fixtures.js';
import { ConflictError, VerificationError } from '../errors.js';
import { sha256 } from '../fs-util.js';
import type { Manifest } from './manifest.js';
import { serializeManifest } from './package.js';
import { listVersions } from './store.js';
import { firstDifference, publishExisting } from './transfer.js';
import { verifyBundle } from './verify.js';

/** Every file under a folder with its sha256 (hidden ones included). */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile())) {
    const path = join(e.parentPath, e.name);
    out.push(`${path.slice(dir.length)} ${sha256(await readFile(path))}`);
  }
  return out.sort();
}

/** A copy of a bundle folder with its manifest rewritten by `change` (its own checksum recomputed). */
async function variant(dir: string, change: (m: Omit<Manifest, 'manifestSha256'>) => Omit<Manifest, 'manifestSha256'>): Promise<string> {
  const copy = join(await tempDir(), 'bundle');
  await cp(dir, copy, { recursive: true });
  const { manifestSha256: _, ...rest } = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8')) as Manifest;
  await writeFile(join(copy, 'manifest.json'), serializeManifest(change(rest)));
  return copy;
}

describe('publishExisting (a bundle folder into a store at its own name and version)', function () {
  this.timeout(120_000);
  let source: string;
  let dir: string;

  before(async () => {
    ({ artifacts: source } = await packagedExample('moved'));
    dir = join(source, 'moved', '1.0.0');
  });
  after(cleanupTempDirs);

  it('publishes a verified copy, then is a no-op for the same bundle', async () => {
    const target = join(await tempDir(), 'store');
    const first = await publishExisting(target, dir);
    expect(first).to.deep.equal({ ref: 'moved@1.0.0', name: 'moved', version: '1.0.0', status: 'published', store: target, golden: { records: 20, present: true } });
    await verifyBundle(join(target, 'moved', '1.0.0'));
    expect(await snapshot(join(target, 'moved', '1.0.0'))).to.deep.equal(await snapshot(dir));
    const before = await snapshot(target);
    const second = await publishExisting(target, dir);
    expect(second.status).to.equal('unchanged');
    expect(await snapshot(target)).to.deep.equal(before);
  });

  it('refuses a bundle that does not verify, and publishes nothing', async () => {
    const copy = join(await tempDir(), 'bundle');
    await cp(dir, copy, { recursive: true });
    await writeFile(join(copy, 'metrics.json'), '{}\n');
    const target = join(await tempDir(), 'store');
    try {
      await publishExisting(target, copy);
      expect.fail('should refuse');
    } catch (err) {
      expect(err).to.be.instanceOf(VerificationError);
      expect((err as VerificationError).file).to.equal('metrics.json');
    }
    expect(await listVersions(target, 'moved')).to.deep.equal([]);
  });

  describe('a different bundle under the same name and version', () => {
    let target: string;
    let before: string[];

    beforeEach(async () => {
      target = join(await tempDir(), 'store');
      await publishExisting(target, dir);
      before = await snapshot(target);
    });

    async function expectConflict(other: string, file: string): Promise<void> {
      try {
        await publishExisting(target, other);
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(ConflictError);
        expect((err as Error).message).to.equal(
          `moved@1.0.0 already exists in ${target} with different contents (first difference: ${file}); bundles are immutable: nothing was changed (package the model again under a new version)`,
        );
      }
      expect(await snapshot(target), 'the store is unchanged').to.deep.equal(before);
    }

    it('names the first file whose sha256 differs', async () => {
      const other = await variant(dir, (m) => m);
      await writeFile(join(other, 'training.json'), '{"changed": true}\n');
      const changed = await readFile(join(other, 'training.json'));
      const fixed = await variant(other, (m) => ({ ...m, files: { ...m.files, 'training.json': { sha256: sha256(changed), bytes: changed.length } } }));
      await expectConflict(fixed, 'training.json');
    });

    it('names a file only one of them has', async () => {
      const fewer = await variant(dir, (m) => {
        const files = { ...m.files };
        delete files['report.json'];
        return { ...m, files };
      });
      await rm(join(fewer, 'report.json'));
      await expectConflict(fewer, 'report.json');
      const more = await variant(dir, (m) => ({ ...m, files: { ...m.files, 'notes.txt': { sha256: sha256('hi\n'), bytes: 3 } } }));
      await writeFile(join(more, 'notes.txt'), 'hi\n');
      await expectConflict(more, 'notes.txt');
    });

    it('says manifest.json when only the metadata differs', async () => {
      await expectConflict(await variant(dir, (m) => ({ ...m, createdAt: '2001-01-01T00:00:00.000Z' })), 'manifest.json');
    });
  });

  it('firstDifference: files in the order of the new manifest, then extra ones, then manifest.json', () => {
    const f = (sha: string) => ({ sha256: sha.repeat(64), bytes: 1 });
    expect(firstDifference({ files: { a: f('1'), b: f('2') } }, { files: { a: f('1'), b: f('3') } })).to.equal('b');
    expect(firstDifference({ files: { a: f('1') } }, { files: { a: f('1'), z: f('9') } })).to.equal('z');
    expect(firstDifference({ files: { a: f('1') } }, { files: { a: f('1') } })).to.equal('manifest.json');
    expect(firstDifference({ files: { a: f('1') } }, undefined)).to.equal('manifest.json');
  });
});
