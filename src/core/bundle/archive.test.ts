import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Header, Pax } from 'tar';
import { cleanupTempDirs, packagedExample, runCli, tempDir } from '../../test-helpers/fixtures.js';
import { sha256 } from '../fs-util.js';
import type { Manifest } from './manifest.js';
import { serializeManifest } from './package.js';
import { verifyBundle } from './verify.js';
import { expectOneLineError } from '../../test-helpers/expect-cli.js';

/** One entry of a hand-made archive: any type, any path, so the importer can be shown forged ones. */
interface Crafted {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  data?: Buffer;
  linkpath?: string;
}

/** Writes raw tar headers (node-tar's Header, a pax header for long paths) and data, gzip-compressed. */
async function craft(file: string, entries: Crafted[]): Promise<string> {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const type = e.type ?? 'File';
    const size = type === 'File' ? data.length : 0;
    const block = Buffer.alloc(512);
    const fields = { path: e.path, type, size, mode: type === 'Directory' ? 0o755 : 0o644, uid: 0, gid: 0, mtime: new Date(0), uname: '', gname: '', devmaj: 0, devmin: 0, ...(e.linkpath ? { linkpath: e.linkpath } : {}) };
    if (new Header(fields).encode(block)) blocks.push(new Pax({ path: e.path, size }).encode());
    blocks.push(block);
    if (size > 0) blocks.push(data, Buffer.alloc((512 - (size % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  await writeFile(file, gzipSync(Buffer.concat(blocks)));
  return file;
}

/** Every path under a folder (hidden ones included) with the sha256 of each file: equal snapshots, unchanged store. */
async function snapshot(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(join(dir, prefix));
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    const rel = prefix ? `${prefix}/${e}` : e;
    const st = await lstat(join(dir, rel));
    if (st.isDirectory()) out.push(`${rel}/`, ...(await snapshot(dir, rel)));
    else out.push(`${rel} ${createHash('sha256').update(await readFile(join(dir, rel))).digest('hex')}`);
  }
  return out;
}


describe('bundles export / import (.tar.gz)', function () {
  this.timeout(180_000);
  let artifacts: string;
  let bundleDir: string;
  let work: string;
  /** A private TMPDIR for the CLI: the importer's temporary folders must all be gone after each run. */
  let tmp: string;
  let manifest: Manifest;
  const TOP = 'arc-1.0.0';
  const cli = (args: string[]) => runCli(args, { cwd: work, env: { MLPIPE_ARTIFACTS: artifacts, TMPDIR: tmp } });

  /** The bundle's own entries, manifest first, as export writes them. */
  async function bundleEntries(): Promise<Crafted[]> {
    const entries: Crafted[] = [{ path: `${TOP}/manifest.json`, data: await readFile(join(bundleDir, 'manifest.json')) }];
    for (const f of Object.keys(manifest.files).sort()) entries.push({ path: `${TOP}/${f}`, data: await readFile(join(bundleDir, f)) });
    return entries;
  }

  before(async () => {
    ({ artifacts } = await packagedExample('arc'));
    bundleDir = join(artifacts, 'arc', '1.0.0');
    manifest = await verifyBundle(bundleDir);
    work = await tempDir();
    tmp = await tempDir();
  });
  after(cleanupTempDirs);

  describe('export', () => {
    it('writes <name>-<version>.tar.gz: one top folder, manifest first, regular files with a fixed mode, mtime and owner', async () => {
      const r = await cli(['bundles', 'export', 'arc@1.0.0']);
      expect(r.code, r.stderr).to.equal(0);
      const count = Object.keys(manifest.files).length + 1;
      expect(r.stdout).to.match(new RegExp(`^wrote arc-1\\.0\\.0\\.tar\\.gz: arc@1\\.0\\.0, ${count} files, [\\d,]+ bytes, sha256 [0-9a-f]{64}\\n$`));
      const { list } = await import('tar');
      const seen: { path: string; type: string; mode?: number; mtime?: Date; uid?: number; size?: number }[] = [];
      await list({ file: join(work, 'arc-1.0.0.tar.gz'), onReadEntry: (e) => void seen.push({ path: e.path, type: e.type, mode: e.mode, mtime: e.mtime, uid: e.uid, size: e.size }) });
      expect(seen.map((e) => e.path)).to.deep.equal([`${TOP}/manifest.json`, ...Object.keys(manifest.files).sort().map((f) => `${TOP}/${f}`)]);
      for (const e of seen) {
        expect(e).to.include({ type: 'File', mode: 0o644, uid: 0 });
        expect(e.mtime?.toISOString()).to.equal('1985-10-26T08:15:00.000Z');
      }
      expect(await readdir(work)).to.deep.equal(['arc-1.0.0.tar.gz']);
    });

    it('is portable: the same bundle gives the same bytes, exported twice or from another store it was imported into', async () => {
      const a = await cli(['bundles', 'export', 'arc', '--out', 'a.tar.gz', '--json']);
      const b = await cli(['bundles', 'export', 'arc@1.0.0', '--out', 'b.tar.gz', '--json']);
      expect(a.code, a.stderr).to.equal(0);
      expect(b.code, b.stderr).to.equal(0);
      const shaA = (JSON.parse(a.stdout) as { sha256: string }).sha256;
      expect(shaA).to.equal(sha256(await readFile(join(work, 'a.tar.gz'))));
      expect(sha256(await readFile(join(work, 'b.tar.gz')))).to.equal(shaA);
      const other = join(await tempDir(), 'store');
      expect((await cli(['bundles', 'import', 'a.tar.gz', '--artifacts', other])).code).to.equal(0);
      const c = await cli(['bundles', 'export', 'arc@1.0.0', '--artifacts', other, '--out', 'c.tar.gz']);
      expect(c.code, c.stderr).to.equal(0);
      expect(sha256(await readFile(join(work, 'c.tar.gz')))).to.equal(shaA);
    });

    it('refuses a changed bundle before writing anything, naming the file', async () => {
      const store = await tempDir();
      await cp(artifacts, store, { recursive: true });
      const metrics = join(store, 'arc', '1.0.0', 'metrics.json');
      await writeFile(metrics, `${await readFile(metrics, 'utf8')} `);
      const r = await cli(['bundles', 'export', 'arc@1.0.0', '--artifacts', store, '--out', 'changed.tar.gz']);
      expectOneLineError(r, `${metrics}: size`);
      expect(await readdir(work)).not.to.include('changed.tar.gz');
      expect((await readdir(work)).filter((f) => f.includes('.tmp-'))).to.deep.equal([]);
    });

    it('says which bundle is missing', async () => {
      expectOneLineError(await cli(['bundles', 'export', 'nope@1.0.0']), 'no bundle named "nope"');
    });
  });

  describe('import', () => {
    let store: string;
    let before: string[];

    beforeEach(async () => {
      // A store that already holds another bundle: a refused import must leave it as it was.
      store = join(await tempDir(), 'store');
      await cp(artifacts, store, { recursive: true });
      await cp(join(store, 'arc'), join(store, 'kept'), { recursive: true });
      before = await snapshot(store);
    });

    async function expectRefused(archive: string, entry: string | undefined, problem: string, extra: string[] = []): Promise<string> {
      // The store has no arc bundle yet, so a refusal that published anything would show.
      const target = join(await tempDir(), 'target');
      await cp(join(store, 'kept'), join(target, 'kept'), { recursive: true });
      const targetBefore = await snapshot(target);
      const r = await runCli(['bundles', 'import', archive, '--artifacts', target, ...extra], { cwd: work, env: { TMPDIR: tmp } });
      const line = expectOneLineError(r, archive, problem, ...(entry !== undefined ? [`entry ${JSON.stringify(entry)}`] : []));
      expect(line).to.contain('refusing the archive (nothing was imported)');
      expect(await snapshot(target)).to.deep.equal(targetBefore);
      expect(await readdir(tmp), 'the temporary folder is removed').to.deep.equal([]);
      return line;
    }

    it('imports an exported archive, then says a second import is identical (a no-op)', async () => {
      expect((await cli(['bundles', 'export', 'arc@1.0.0', '--out', 'good.tar.gz'])).code).to.equal(0);
      const target = join(await tempDir(), 'target');
      const first = await runCli(['bundles', 'import', 'good.tar.gz', '--artifacts', target], { cwd: work, env: { TMPDIR: tmp } });
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout).to.equal(`imported arc@1.0.0 into ${target}\n`);
      expect(await snapshot(join(target, 'arc', '1.0.0'))).to.deep.equal(await snapshot(bundleDir));
      await verifyBundle(join(target, 'arc', '1.0.0'));
      const after = await snapshot(target);
      const second = await runCli(['bundles', 'import', 'good.tar.gz', '--artifacts', target, '--json'], { cwd: work, env: { TMPDIR: tmp } });
      expect(second.code, second.stderr).to.equal(0);
      expect(JSON.parse(second.stdout)).to.deep.include({ ref: 'arc@1.0.0', status: 'unchanged', store: target });
      const text = await runCli(['bundles', 'import', 'good.tar.gz', '--artifacts', target], { cwd: work, env: { TMPDIR: tmp } });
      expect(text.stdout).to.equal(`arc@1.0.0 already in ${target} (identical)\n`);
      expect(await snapshot(target)).to.deep.equal(after);
      expect(await readdir(tmp)).to.deep.equal([]);
      const verify = await runCli(['bundles', 'verify', '--artifacts', target]);
      expect(verify.stdout).to.contain('ok arc@1.0.0');
    });

    it('removes what an import or export killed half-way left (their process gone), nothing else', async () => {
      const dead = 2_147_483_000;
      await mkdir(join(tmp, `mlpipe-import-${dead}-AbC123`, 'bundle'), { recursive: true });
      await mkdir(join(tmp, `mlpipe-import-${process.pid}-AbC123`));
      await writeFile(join(work, `.late.tar.gz.tmp-${dead}-0a1b2c3d`), 'half an archive');
      const r = await cli(['bundles', 'export', 'arc@1.0.0', '--out', 'late.tar.gz']);
      expect(r.code, r.stderr).to.equal(0);
      expect((await readdir(work)).filter((f) => f.startsWith('.late'))).to.deep.equal([]);
      const i = await runCli(['bundles', 'import', 'late.tar.gz', '--artifacts', join(await tempDir(), 'store')], { cwd: work, env: { TMPDIR: tmp } });
      expect(i.code, i.stderr).to.equal(0);
      // This test process is alive: its folder stays.
      expect(await readdir(tmp)).to.deep.equal([`mlpipe-import-${process.pid}-AbC123`]);
      await rm(join(tmp, `mlpipe-import-${process.pid}-AbC123`), { recursive: true });
    });

    it('accepts an archive with a folder entry for the top folder and a leading "./" (GNU tar)', async () => {
      const entries = (await bundleEntries()).map((e) => ({ ...e, path: `./${e.path}` }));
      const archive = await craft(join(work, 'gnu.tar.gz'), [{ path: `./${TOP}/`, type: 'Directory' }, ...entries]);
      const target = join(await tempDir(), 'target');
      const r = await runCli(['bundles', 'import', archive, '--artifacts', target], { cwd: work, env: { TMPDIR: tmp } });
      expect(r.code, r.stderr).to.equal(0);
      await verifyBundle(join(target, 'arc', '1.0.0'));
    });

    it('refuses a different bundle under the same name and version, naming the first differing file; the store is unchanged', async () => {
      // Another arc@1.0.0: packaged again from the same model folder, so its report.html and manifest differ.
      const { artifacts: other } = await packagedExample('arc');
      expect((await cli(['bundles', 'export', 'arc@1.0.0', '--artifacts', other, '--out', 'other.tar.gz'])).code).to.equal(0);
      const r = await cli(['bundles', 'import', 'other.tar.gz', '--artifacts', store]);
      expectOneLineError(r, `arc@1.0.0 already exists in ${store} with different contents (first difference: `, 'nothing was changed');
      expect(await snapshot(store)).to.deep.equal(before);
      expect(await readdir(tmp)).to.deep.equal([]);
    });

    it('refuses an absolute path', async () => {
      const archive = await craft(join(work, 'absolute.tar.gz'), [...(await bundleEntries()), { path: '/etc/cron.d/evil', data: Buffer.from('x') }]);
      await expectRefused(archive, '/etc/cron.d/evil', 'an absolute path');
    });

    it('refuses a path with ".."', async () => {
      const archive = await craft(join(work, 'dotdot.tar.gz'), [{ path: `${TOP}/../../evil.sh`, data: Buffer.from('x') }, ...(await bundleEntries())]);
      await expectRefused(archive, `${TOP}/../../evil.sh`, 'a path with ".."');
    });

    it('refuses a symbolic link', async () => {
      const archive = await craft(join(work, 'symlink.tar.gz'), [...(await bundleEntries()), { path: `${TOP}/model.link`, type: 'SymbolicLink', linkpath: '/etc/passwd' }]);
      await expectRefused(archive, `${TOP}/model.link`, 'a symbolic link (to "/etc/passwd")');
    });

    it('refuses a hard link', async () => {
      const archive = await craft(join(work, 'hardlink.tar.gz'), [{ path: `${TOP}/x`, type: 'Link', linkpath: '/etc/shadow' }, ...(await bundleEntries())]);
      await expectRefused(archive, `${TOP}/x`, 'a hard link (to "/etc/shadow")');
    });

    it('refuses a device file', async () => {
      const archive = await craft(join(work, 'device.tar.gz'), [...(await bundleEntries()), { path: `${TOP}/null`, type: 'CharacterDevice' }]);
      await expectRefused(archive, `${TOP}/null`, 'a device file');
    });

    it('refuses a FIFO', async () => {
      const archive = await craft(join(work, 'fifo.tar.gz'), [...(await bundleEntries()), { path: `${TOP}/pipe`, type: 'FIFO' }]);
      await expectRefused(archive, `${TOP}/pipe`, 'a FIFO');
    });

    it('refuses an entry outside the single top folder', async () => {
      const archive = await craft(join(work, 'outside.tar.gz'), [...(await bundleEntries()), { path: 'other-1.0.0/model.json', data: Buffer.from('{}') }]);
      await expectRefused(archive, 'other-1.0.0/model.json', `outside the archive's single top folder "${TOP}"`);
    });

    it('refuses a file in a sub-folder', async () => {
      const archive = await craft(join(work, 'nested.tar.gz'), [...(await bundleEntries()), { path: `${TOP}/sub/model.json`, data: Buffer.from('{}') }]);
      await expectRefused(archive, `${TOP}/sub/model.json`, 'a file in a sub-folder');
    });

    it('refuses an entry the manifest does not list (after the manifest, and before it)', async () => {
      const entries = await bundleEntries();
      const after = await craft(join(work, 'unlisted.tar.gz'), [...entries, { path: `${TOP}/payload.js`, data: Buffer.from('process.exit(1)') }]);
      await expectRefused(after, `${TOP}/payload.js`, 'not listed in arc-1.0.0/manifest.json');
      const first = await craft(join(work, 'unlisted-first.tar.gz'), [{ path: `${TOP}/payload.js`, data: Buffer.from('x') }, ...entries]);
      await expectRefused(first, `${TOP}/payload.js`, 'not listed in arc-1.0.0/manifest.json');
    });

    it('refuses a duplicate entry', async () => {
      const entries = await bundleEntries();
      const model = entries.find((e) => e.path.endsWith('/model.json')) as Crafted;
      const archive = await craft(join(work, 'duplicate.tar.gz'), [...entries, model]);
      await expectRefused(archive, `${TOP}/model.json`, 'a duplicate entry');
    });

    it('refuses an entry over the size bound', async () => {
      const entries = await bundleEntries();
      const archive = await craft(join(work, 'big-entry.tar.gz'), entries);
      const first = entries.find((e) => (e.data as Buffer).length > 20_000) as Crafted;
      await expectRefused(archive, first.path, `over the bound of 20,000 bytes an entry may have (a tar bomb?)`, ['--max-entry-size', '20000']);
    });

    it('refuses an archive whose total unpacked size is over the bound', async () => {
      const archive = await craft(join(work, 'big-total.tar.gz'), await bundleEntries());
      const line = await expectRefused(archive, undefined, `over the bound of 50,000 bytes (a tar bomb?)`, ['--max-size', '50000']);
      expect(line).to.match(/entry "arc-1\.0\.0\/[^"]+": brings the archive's unpacked total to [\d,]+ bytes/);
    });

    it('refuses a tar bomb by its ratio: 40 MiB of zeros in a ~40 KB archive', async () => {
      const entries = await bundleEntries();
      const archive = await craft(join(work, 'bomb.tar.gz'), [...entries, { path: `${TOP}/zeros.bin`, data: Buffer.alloc(40 * 1024 * 1024) }]);
      expect((await readFile(archive)).length).to.be.below(200_000);
      await expectRefused(archive, `${TOP}/zeros.bin`, 'a ratio over 200 (a tar bomb?)');
    });

    it('refuses a file whose checksum fails', async () => {
      const entries = await bundleEntries();
      const model = entries.find((e) => e.path.endsWith('/model.json')) as Crafted;
      const forged = Buffer.from(model.data as Buffer);
      forged[forged.length - 2] = forged[forged.length - 2] === 0x30 ? 0x31 : 0x30;
      const archive = await craft(join(work, 'checksum.tar.gz'), entries.map((e) => (e === model ? { ...e, data: forged } : e)));
      await expectRefused(archive, `${TOP}/model.json`, 'checksum mismatch');
    });

    it('refuses a manifest changed after the bundle was written (its own checksum)', async () => {
      const entries = await bundleEntries();
      const text = (entries[0]?.data as Buffer).toString('utf8').replace(/"createdAt": "[^"]+"/, '"createdAt": "2001-01-01T00:00:00.000Z"');
      const archive = await craft(join(work, 'manifest.tar.gz'), [{ path: `${TOP}/manifest.json`, data: Buffer.from(text) }, ...entries.slice(1)]);
      await expectRefused(archive, `${TOP}/manifest.json`, 'the manifest was changed after the bundle was written');
    });

    it('refuses an archive missing a file the manifest lists', async () => {
      const entries = (await bundleEntries()).filter((e) => !e.path.endsWith('/model.bin'));
      await expectRefused(await craft(join(work, 'missing.tar.gz'), entries), `${TOP}/model.bin`, 'listed in arc-1.0.0/manifest.json but missing from the archive');
    });

    it('refuses an archive with no manifest', async () => {
      const entries = (await bundleEntries()).slice(1);
      await expectRefused(await craft(join(work, 'no-manifest.tar.gz'), entries), undefined, `no manifest.json in its top folder "${TOP}"`);
    });

    it('refuses a file that is not gzip, and a gzip file that is not a tar', async () => {
      await writeFile(join(work, 'plain.tar.gz'), 'just some text, not an archive\n');
      await expectRefused(join(work, 'plain.tar.gz'), undefined, 'not a gzip file');
      await writeFile(join(work, 'text.tar.gz'), gzipSync(Buffer.from('hello\n'.repeat(500))));
      await expectRefused(join(work, 'text.tar.gz'), undefined, 'not a valid tar archive inside the gzip');
      expect((await cli(['bundles', 'export', 'arc@1.0.0', '--out', 'whole.tar.gz'])).code).to.equal(0);
      const good = await readFile(join(work, 'whole.tar.gz'));
      await writeFile(join(work, 'truncated.tar.gz'), good.subarray(0, Math.floor(good.length / 2)));
      await expectRefused(join(work, 'truncated.tar.gz'), undefined, 'not a valid gzip file (unexpected end of file)');
      // A whole gzip of a tar cut in the middle of an entry: the entry is named.
      const cut = gunzipSync(good).subarray(0, 512 + 1000);
      await writeFile(join(work, 'cut.tar.gz'), gzipSync(cut));
      await expectRefused(join(work, 'cut.tar.gz'), `${TOP}/manifest.json`, 'not a valid tar archive inside the gzip (Truncated input');
    });

    it('a bundle folder is imported too; a forged manifest in it is refused by the same checks', async () => {
      const target = join(await tempDir(), 'target');
      const r = await runCli(['bundles', 'import', bundleDir, '--artifacts', target]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.equal(`imported arc@1.0.0 into ${target}\n`);
      const forged = join(await tempDir(), 'forged');
      await mkdir(forged);
      await cp(bundleDir, forged, { recursive: true });
      const m = JSON.parse(await readFile(join(forged, 'manifest.json'), 'utf8')) as Manifest;
      const { manifestSha256: _, ...rest } = m;
      await writeFile(join(forged, 'manifest.json'), serializeManifest({ ...rest, files: { ...m.files, '../../escape': { sha256: '0'.repeat(64), bytes: 0 } } }));
      const before = await snapshot(target);
      expectOneLineError(await runCli(['bundles', 'import', forged, '--artifacts', target]), 'not a plain file name inside the bundle');
      expect(await snapshot(target)).to.deep.equal(before);
    });
  });
});
