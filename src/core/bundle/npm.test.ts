/**
 * Bundles as npm packages, end to end against a real private registry (Verdaccio, started here on
 * 127.0.0.1 with a config of its own: storage in a temporary folder, htpasswd auth, no uplinks):
 * `bundles export --npm`, `npm publish`, `npm install` in a project, then `mlpipe serve npm:…` from
 * that project answering predictions equal to `mlpipe predict`'s, and `bundles import npm:…`.
 * Resolution errors (not installed, another version installed, not a model package) are tested on
 * a hand-made node_modules, without the registry.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { extract } from 'tar';
import { ROOT, cleanupTempDirs, exampleRecords, packagedExample, runCli, runCommand, tempDir } from '../../test-helpers/fixtures.js';
import { expectOneLineError } from '../../test-helpers/expect-cli.js';
import { startServeProcess } from '../../test-helpers/serve.js';
import { ConfigError, NotFoundError, VerificationError } from '../errors.js';
import { sha256 } from '../fs-util.js';
import type { Manifest } from './manifest.js';
import { exportNpmPackage, npmPackageName, parseNpmRef, resolveNpmRef } from './npm.js';
import { serializeManifest } from './package.js';
import { resolveRef } from './store.js';

/** Verdaccio on 127.0.0.1, port chosen by the system, in a child process; resolves to its URL. */
async function startVerdaccio(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    [
      `storage: ${JSON.stringify(join(dir, 'storage'))}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
      '    max_users: 1',
      'uplinks: {}',
      'packages:',
      "  '@*/*': { access: $authenticated, publish: $authenticated }",
      "  '**': { access: $authenticated, publish: $authenticated }",
      'web: { enable: false }',
      'log: { type: stderr, format: pretty, level: error }',
      '',
    ].join('\n'),
  );
  const script = `const { runServer } = require(${JSON.stringify(join(ROOT, 'node_modules', 'verdaccio'))});
runServer(${JSON.stringify(config)}).then((app) => app.listen(0, '127.0.0.1', () => console.log('PORT ' + app.address().port)), (e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`verdaccio did not start within 30 s: ${err}`)), 30_000);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^PORT (\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}/`);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`verdaccio exited with ${code}: ${err}`));
    });
  });
  return { child, url };
}

describe('bundles as npm packages', function () {
  this.timeout(120_000);
  let artifacts: string;
  let work: string;
  let tgz: string;

  before(async () => {
    ({ artifacts } = await packagedExample('penguins'));
    work = await tempDir();
    tgz = (await exportNpmPackage({ ref: 'penguins@1.0.0', artifacts, scope: '@acme', out: await tempDir() })).file;
  });
  after(cleanupTempDirs);

  describe('export --npm', () => {
    it('writes <scope>-model-<name>-<version>.tgz: package.json, README.md and the bundle under package/, same bytes every time', async () => {
      const r = await runCli(['bundles', 'export', 'penguins@1.0.0', '--npm', '--scope', '@acme', '--artifacts', artifacts], { cwd: work });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/^wrote acme-model-penguins-1\.0\.0\.tgz: @acme\/model-penguins@1\.0\.0 \(bundle penguins@1\.0\.0, \d+ files, [\d,]+ bytes\)\n$/);
      const first = sha256(await readFile(join(work, 'acme-model-penguins-1.0.0.tgz')));
      expect(sha256(await readFile(tgz))).to.equal(first);
      const again = await runCli(['bundles', 'export', 'penguins', '--npm', '--scope', 'acme', '--artifacts', artifacts, '--out', 'again', '--json'], { cwd: work });
      expect(again.code, again.stderr).to.equal(0);
      const doc = JSON.parse(again.stdout) as { file: string; sha256: string; integrity: string; package: string };
      expect(doc.file).to.equal(join(work, 'again', 'acme-model-penguins-1.0.0.tgz'));
      expect(doc.sha256).to.equal(first);
      expect(doc.integrity).to.match(/^sha512-[A-Za-z0-9+/]+=*$/);
      expect(doc.package).to.equal('@acme/model-penguins@1.0.0');

      const unpacked = await tempDir();
      await extract({ file: tgz, cwd: unpacked });
      const pkg = JSON.parse(await readFile(join(unpacked, 'package', 'package.json'), 'utf8')) as Record<string, unknown>;
      const manifest = JSON.parse(await readFile(join(unpacked, 'package', 'bundle', 'manifest.json'), 'utf8')) as { manifestSha256: string };
      expect(pkg).to.deep.include({ name: '@acme/model-penguins', version: '1.0.0', license: 'UNLICENSED', keywords: ['mlpipe', 'model'] });
      expect(pkg.description).to.equal('mlpipe model bundle penguins@1.0.0: classification of Species (Adelie, Chinstrap, Gentoo)');
      expect(pkg.mlpipe).to.deep.equal({ bundle: 'bundle', name: 'penguins', version: '1.0.0', manifestSha256: manifest.manifestSha256 });
      const readme = await readFile(join(unpacked, 'package', 'README.md'), 'utf8');
      expect(readme).to.contain('# @acme/model-penguins');
      expect(readme).to.contain('mlpipe serve npm:@acme/model-penguins@1.0.0');
      expect(readme).to.contain('Island');
      expect((await readdir(join(unpacked, 'package', 'bundle'))).sort()).to.include.members(['manifest.json', 'model.bin', 'model.json']);
    });

    it('without a scope the package is model-<name>; a bad scope or a --scope without --npm is one line', async () => {
      const r = await runCli(['bundles', 'export', 'penguins', '--npm', '--artifacts', artifacts, '--out', 'plain'], { cwd: work });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('wrote plain/model-penguins-1.0.0.tgz: model-penguins@1.0.0');
      expectOneLineError(await runCli(['bundles', 'export', 'penguins', '--npm', '--scope', '@Acme!', '--artifacts', artifacts], { cwd: work }), '--scope: "@Acme!" is not an npm scope');
      expectOneLineError(await runCli(['bundles', 'export', 'penguins', '--scope', '@acme', '--artifacts', artifacts], { cwd: work }), '--scope is for npm packages: add --npm');
      expect(npmPackageName('Penguins_V2', '@acme')).to.equal('@acme/model-penguins_v2');
    });

    it("uses the bundle's own README.md (its model card) as the package's README when the bundle has one", async () => {
      const carded = join(await tempDir(), 'carded');
      await cp(join(artifacts, 'penguins', '1.0.0'), carded, { recursive: true });
      const card = '# penguins\n\nA model card written when the bundle was packaged.\n';
      await writeFile(join(carded, 'README.md'), card);
      const { manifestSha256: _, ...m } = JSON.parse(await readFile(join(carded, 'manifest.json'), 'utf8')) as Manifest;
      await writeFile(join(carded, 'manifest.json'), serializeManifest({ ...m, files: { ...m.files, 'README.md': { sha256: sha256(card), bytes: Buffer.byteLength(card) } } }));
      const r = await exportNpmPackage({ ref: carded, artifacts, out: join(await tempDir(), 'x.tgz') });
      const unpacked = await tempDir();
      await extract({ file: r.file, cwd: unpacked });
      const readme = await readFile(join(unpacked, 'package', 'README.md'), 'utf8');
      expect(readme).to.match(/^# model-penguins\n/);
      expect(readme).to.contain('mlpipe serve npm:model-penguins@1.0.0');
      expect(readme.endsWith(card)).to.equal(true);
      expect(await readFile(join(unpacked, 'package', 'bundle', 'README.md'), 'utf8')).to.equal(card);
      expect(r.file.endsWith('x.tgz')).to.equal(true);
    });
  });

  describe('npm: references to an installed package', () => {
    let project: string;

    before(async () => {
      // A project with the package installed as npm lays it out, made by hand (no registry needed here).
      project = await tempDir();
      const pkgDir = join(project, 'node_modules', '@acme', 'model-penguins');
      await mkdir(pkgDir, { recursive: true });
      await extract({ file: tgz, cwd: pkgDir, strip: 1 });
      await mkdir(join(project, 'node_modules', 'left-pad'), { recursive: true });
      await writeFile(join(project, 'node_modules', 'left-pad', 'package.json'), '{"name": "left-pad", "version": "1.3.0"}\n');
      await mkdir(join(project, 'src', 'deep'), { recursive: true });
    });

    it('parses npm:@scope/name@version, the version being optional', () => {
      expect(parseNpmRef('npm:@acme/model-penguins@1.0.0')).to.deep.equal({ packageName: '@acme/model-penguins', version: '1.0.0' });
      expect(parseNpmRef('npm:@acme/model-penguins')).to.deep.equal({ packageName: '@acme/model-penguins' });
      expect(parseNpmRef('npm:model-penguins@2.0.1')).to.deep.equal({ packageName: 'model-penguins', version: '2.0.1' });
      expect(() => parseNpmRef('npm:../etc')).to.throw(NotFoundError, 'not an npm package reference');
      expect(() => parseNpmRef('npm:@Acme/X')).to.throw(NotFoundError, 'not an npm package reference');
    });

    it('resolves the installed bundle from the project folder and below it, with or without the version', async () => {
      const bundle = join(project, 'node_modules', '@acme', 'model-penguins', 'bundle');
      expect(await resolveNpmRef('npm:@acme/model-penguins@1.0.0', project)).to.deep.equal({ dir: bundle, name: 'penguins', version: '1.0.0' });
      expect((await resolveNpmRef('npm:@acme/model-penguins', join(project, 'src', 'deep'))).dir).to.equal(bundle);
    });

    it('says which version is installed, that a package is missing, or that it is not a model package', async () => {
      try {
        await resolveNpmRef('npm:@acme/model-penguins@2.0.0', project);
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(NotFoundError);
        expect((err as Error).message).to.equal(`npm:@acme/model-penguins@2.0.0: @acme/model-penguins 1.0.0 is installed (${join(project, 'node_modules', '@acme', 'model-penguins')}), not 2.0.0; run npm install @acme/model-penguins@2.0.0`);
      }
      try {
        await resolveNpmRef('npm:@acme/model-nothere', project);
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(NotFoundError);
        expect((err as Error).message).to.equal(`npm:@acme/model-nothere: package @acme/model-nothere is not installed (looked in node_modules from ${project} upwards); run npm install @acme/model-nothere`);
      }
      try {
        await resolveNpmRef('npm:left-pad', project);
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as Error).message).to.contain('npm:left-pad: ');
        expect((err as Error).message).to.contain('has no "mlpipe": {"bundle": …}; it is not an mlpipe model package');
      }
    });

    it('refuses a bundle replaced inside the package (package.json records the manifest sha256), and a changed file when loading', async () => {
      const copy = await tempDir();
      await cp(project, copy, { recursive: true });
      const pkgJson = join(copy, 'node_modules', '@acme', 'model-penguins', 'package.json');
      const pkg = JSON.parse(await readFile(pkgJson, 'utf8')) as { mlpipe: { manifestSha256: string } };
      await writeFile(pkgJson, JSON.stringify({ ...pkg, mlpipe: { ...pkg.mlpipe, manifestSha256: '0'.repeat(64) } }));
      try {
        await resolveNpmRef('npm:@acme/model-penguins', copy);
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(VerificationError);
        expect((err as Error).message).to.contain('the bundle was replaced after the package was made');
      }
      await writeFile(pkgJson, JSON.stringify(pkg));
      await writeFile(join(copy, 'node_modules', '@acme', 'model-penguins', 'bundle', 'metrics.json'), '{}');
      const r = await runCli(['predict', 'npm:@acme/model-penguins', '--input', '-', '--out', '-'], { cwd: copy, input: '{"Island": "Dream"}\n' });
      expectOneLineError(r, 'metrics.json', 'the file was changed after the bundle was written');
    });

    it('resolveRef takes npm: references first (from the current folder)', async () => {
      const cwd = process.cwd();
      process.chdir(project);
      try {
        expect((await resolveRef('npm:@acme/model-penguins@1.0.0', join(work, 'no-store'))).version).to.equal('1.0.0');
      } finally {
        process.chdir(cwd);
      }
    });
  });

  describe('through a private registry (Verdaccio 6.8 on 127.0.0.1)', () => {
    let registry: { child: ChildProcess; url: string } | undefined;
    let npmrc: string;
    let npmEnv: NodeJS.ProcessEnv;
    let project: string;
    const REF = 'npm:@acme/model-penguins@1.0.0';

    before(async function () {
      const dir = await tempDir('mlpipe-verdaccio-');
      try {
        registry = await startVerdaccio(dir);
      } catch (err) {
        // Only when the registry itself cannot start: everything else fails loudly.
        console.warn(`skipped: verdaccio could not start (${(err as Error).message})`);
        this.skip();
      }
      const url = registry.url;
      const user = await fetch(`${url}-/user/org.couchdb.user:ci`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'ci', password: 'not-a-real-secret-1', type: 'user', roles: [] }),
      });
      expect(user.status, await user.clone().text()).to.equal(201);
      const { token } = (await user.json()) as { token: string };
      const host = url.replace(/^http:/, '');
      npmrc = join(dir, '.npmrc');
      await writeFile(npmrc, `registry=${url}\n${host}:_authToken=${token}\n`);
      npmEnv = { npm_config_cache: join(dir, 'npm-cache'), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
      project = await tempDir('mlpipe-project-');
      await writeFile(join(project, 'package.json'), '{"name": "scoring-service", "version": "1.0.0", "private": true}\n');
    });

    after(() => {
      registry?.child.kill('SIGTERM');
    });

    it('npm publish accepts the tarball; npm install puts it in a project', async () => {
      const pub = await runCommand('npm', ['publish', tgz, '--userconfig', npmrc, '--registry', registry!.url], { cwd: work, env: npmEnv, timeoutMs: 60_000 });
      expect(pub.code, pub.stderr).to.equal(0);
      expect(pub.stdout).to.contain('+ @acme/model-penguins@1.0.0');
      // The registry shows the package with its README (the model card).
      const meta = (await (await fetch(`${registry!.url}@acme%2fmodel-penguins`, { headers: { authorization: `Bearer ${/_authToken=(.*)/.exec(await readFile(npmrc, 'utf8'))![1]}` } })).json()) as { versions: Record<string, { mlpipe?: unknown }>; readme?: string };
      expect(Object.keys(meta.versions)).to.deep.equal(['1.0.0']);
      expect(meta.versions['1.0.0']?.mlpipe).to.have.property('bundle', 'bundle');
      expect(meta.readme).to.contain('# @acme/model-penguins');
      const install = await runCommand('npm', ['install', '@acme/model-penguins@1.0.0', '--userconfig', npmrc, '--registry', registry!.url, '--no-audit', '--no-fund'], { cwd: project, env: npmEnv, timeoutMs: 60_000 });
      expect(install.code, install.stderr).to.equal(0);
      const installed = JSON.parse(await readFile(join(project, 'node_modules', '@acme', 'model-penguins', 'package.json'), 'utf8')) as { version: string };
      expect(installed.version).to.equal('1.0.0');
    });

    it('mlpipe serve npm:… from the project answers the predictions mlpipe predict makes', async () => {
      const records = (await exampleRecords('penguins')).slice(0, 25).map(({ Species: _, ...rest }) => rest);
      await writeFile(join(project, 'rows.ndjson'), records.map((r) => JSON.stringify(r)).join('\n'));
      // An empty store: the bundle can only come from the installed package.
      const env = { MLPIPE_ARTIFACTS: join(project, 'empty-store') };
      const predicted = await runCli(['predict', REF, '--input', 'rows.ndjson', '--out', '-'], { cwd: project, env });
      expect(predicted.code, predicted.stderr).to.equal(0);
      const expected = predicted.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { prediction: string; probabilities: Record<string, number> });
      expect(expected).to.have.length(records.length);
      const fromStore = await runCli(['predict', 'penguins@1.0.0', '--input', 'rows.ndjson', '--out', '-', '--artifacts', artifacts], { cwd: project });
      expect(fromStore.stdout).to.equal(predicted.stdout);

      const serve = startServeProcess([REF, '--port', '0'], { cwd: project, env });
      try {
        const url = `http://127.0.0.1:${await serve.port()}`;
        const models = (await (await fetch(`${url}/v1/models`)).json()) as { models: { name: string; version: string }[] };
        expect(models.models.map((m) => `${m.name}@${m.version}`)).to.deep.equal(['penguins@1.0.0']);
        const batch = await fetch(`${url}/v1/models/penguins/predict/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records }) });
        expect(batch.status).to.equal(200);
        const body = (await batch.json()) as { predictions: { prediction: string; probabilities: Record<string, number> }[] };
        expect(body.predictions.map((p) => ({ prediction: p.prediction, probabilities: p.probabilities }))).to.deep.equal(expected);
        const one = (await (await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records[0]) })).json()) as { prediction: string };
        expect(one.prediction).to.equal(expected[0]?.prediction);
      } finally {
        serve.child.kill('SIGTERM');
        await serve.exited;
      }
    });

    it('bundles import npm:… publishes the installed bundle into a store (then a no-op); so does the package folder', async () => {
      const store = join(await tempDir(), 'store');
      const first = await runCli(['bundles', 'import', REF, '--artifacts', store], { cwd: project });
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout).to.equal(`imported penguins@1.0.0 into ${store}\n`);
      const again = await runCli(['bundles', 'import', REF, '--artifacts', store], { cwd: project });
      expect(again.stdout).to.equal(`penguins@1.0.0 already in ${store} (identical)\n`);
      const folder = await runCli(['bundles', 'import', join('node_modules', '@acme', 'model-penguins'), '--artifacts', store], { cwd: project });
      expect(folder.stdout).to.equal(`penguins@1.0.0 already in ${store} (identical)\n`);
      const original = await readFile(join(artifacts, 'penguins', '1.0.0', 'manifest.json'));
      expect(await readFile(join(store, 'penguins', '1.0.0', 'manifest.json'))).to.deep.equal(original);
      const verify = await runCli(['bundles', 'verify', '--artifacts', store]);
      expect(verify.stdout).to.contain('ok penguins@1.0.0');
      expectOneLineError(await runCli(['bundles', 'import', 'npm:@acme/model-penguins@9.9.9', '--artifacts', store], { cwd: project }), '@acme/model-penguins 1.0.0 is installed');
      await rm(join(project, 'empty-store'), { recursive: true, force: true });
    });
  });
});
