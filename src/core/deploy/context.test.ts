/**
 * The image's build context (core/deploy/context.ts) and its runtime dependency set: the set never
 * drifts from the root lockfile, holds none of the heavy packages, and is enough for `mlpipe serve` —
 * proved by serving predictions on the host from a written context, whose node_modules are that set alone.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, cleanupTempDirs, du, exampleRecords, packagedExample, runCli, tempDir } from '../../test-helpers/fixtures.js';
import { imageCacheDir, readRuntimeManifest, runtimeModules, verifyBakedBundle, writeBuildContext } from './context.js';

interface LockEntry {
  version?: string;
  integrity?: string;
  resolved?: string;
  dev?: boolean;
}
type Lock = { packages: Record<string, LockEntry> };

/** Packages the image must never hold (issue 14): loaders, drivers, the chart renderer, tsx, test tools. */
const NEVER_IN_IMAGE = ['danfojs-node', 'pg', 'pg-cursor', 'mysql2', 'better-sqlite3', 'vega', 'vega-lite', 'tsx', 'exceljs', 'xlsx', 'apache-arrow', 'hyparquet', 'typescript', 'mocha', 'chai', 'json-schema-to-typescript'];

describe('image runtime dependencies (deploy/image/package.json + package-lock.json)', () => {
  let root: Lock;
  let image: Lock;
  before(async () => {
    root = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
    image = JSON.parse(await readFile(join(ROOT, 'deploy', 'image', 'package-lock.json'), 'utf8')) as Lock;
  });

  it('pins each dependency to the version the root lockfile installs', async () => {
    const runtime = await readRuntimeManifest();
    expect(Object.keys(runtime.dependencies).length).to.be.greaterThan(5);
    for (const [name, version] of Object.entries(runtime.dependencies)) {
      expect(version, `${name} (make image-lock after changing the root lockfile)`).to.equal(root.packages[`node_modules/${name}`]?.version);
    }
  });

  it('has every package at the path, version and integrity of the root lockfile (no drift; make image-lock)', () => {
    const drift: string[] = [];
    for (const [path, entry] of Object.entries(image.packages)) {
      if (path === '') continue;
      const there = root.packages[path];
      if (!there) drift.push(`${path}: not in the root lockfile`);
      else if (there.version !== entry.version || there.integrity !== entry.integrity) drift.push(`${path}: ${entry.version}, the root lockfile has ${there.version}`);
    }
    expect(drift).to.deep.equal([]);
  });

  it('holds none of the loaders, database drivers, chart renderer, tsx or test tools', () => {
    const names = new Set(Object.keys(image.packages).map((p) => p.replace(/^.*node_modules\//, '')));
    for (const name of NEVER_IN_IMAGE) expect(names.has(name), name).to.equal(false);
    expect(Object.values(image.packages).some((e) => e.dev === true)).to.equal(false);
  });
});

describe('build context (core/deploy/context.ts)', function () {
  this.timeout(300_000);
  let artifacts: string;
  let nodeModules: string;

  before(async function () {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
      console.warn('    (skipped: dist/ is not built; make build)');
      this.skip();
    }
    ({ artifacts } = await packagedExample('peng'));
    nodeModules = await runtimeModules({ cacheDir: imageCacheDir() });
  });
  after(cleanupTempDirs);

  it('runtime node_modules: the runtime set alone, a fraction of the full install', async () => {
    const installed = new Set(await readdir(nodeModules));
    for (const name of NEVER_IN_IMAGE) expect(installed.has(name), name).to.equal(false);
    expect(installed.has('express')).to.equal(true);
    const runtimeBytes = await du(nodeModules);
    const fullBytes = await du(join(ROOT, 'node_modules'));
    console.log(`      runtime node_modules ${(runtimeBytes / 1e6).toFixed(1)} MB, full ${(fullBytes / 1e6).toFixed(1)} MB`);
    expect(runtimeBytes).to.be.lessThan(fullBytes / 5);
  });

  it('without a bundle: app/ (dist without source maps, bin, runtime package files), empty artifacts/ and keys/, the Dockerfile as it is', async () => {
    const out = join(await tempDir(), 'ctx');
    const context = await writeBuildContext({ out, nodeModules });
    expect(context.env).to.deep.equal({});
    expect((await readdir(out)).sort()).to.deep.equal(['Dockerfile', 'app', 'artifacts', 'keys', 'prune.mjs']);
    expect(await readdir(join(out, 'artifacts'))).to.deep.equal([]);
    expect(await readFile(join(out, 'Dockerfile'), 'utf8')).to.equal(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
    const pkg = JSON.parse(await readFile(join(out, 'app', 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
    const rootPkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(pkg.name).to.equal('mlpipe');
    expect(pkg.version).to.equal(rootPkg.version);
    expect(pkg.dependencies).to.deep.equal((await readRuntimeManifest()).dependencies);
    expect(existsSync(join(out, 'app', 'dist', 'cli', 'main.js'))).to.equal(true);
    expect(existsSync(join(out, 'app', 'dist', 'cli', 'main.js.map'))).to.equal(false);
  });

  it('mlpipe serve runs from the context with only the runtime node_modules, predicting as mlpipe predict does', async () => {
    const out = join(await tempDir(), 'ctx');
    await writeBuildContext({ out, nodeModules });
    const records = (await exampleRecords('penguins')).slice(0, 20).map(({ Species: _s, ...r }) => r);
    const child = spawn(process.execPath, [join(out, 'app', 'bin', 'mlpipe'), 'serve', 'peng@1.0.0', '--artifacts', artifacts, '--host', '127.0.0.1', '--port', '0'], {
      // NODE_PATH and a global folder must not help it find a package: nothing but app/node_modules.
      env: { PATH: process.env.PATH ?? '', HOME: out, NODE_PATH: '' },
      cwd: out,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!/listening on (\S+)/.test(stdout) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      const url = /listening on (\S+)/.exec(stdout)?.[1];
      expect(url, stderr).to.be.a('string');
      const res = await fetch(`${url}/predict/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records }) });
      expect(res.status).to.equal(200);
      const served = ((await res.json()) as { predictions: unknown[] }).predictions;
      const input = join(out, 'rows.ndjson');
      await writeFile(input, records.map((r) => JSON.stringify(r)).join('\n'));
      const cli = await runCli(['predict', 'peng@1.0.0', '--artifacts', artifacts, '--input', input]);
      expect(cli.code, cli.stderr).to.equal(0);
      expect(served).to.deep.equal(cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown));
      for (const route of ['/readyz', '/metrics', '/openapi.json', '/v2/models/peng']) expect((await fetch(`${url}${route}`)).status, route).to.equal(200);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    }
  });

  it('with a bundle: a verified copy in artifacts/, ENV MLPIPE_MODEL (and the keys with a required signature) appended to the Dockerfile', async () => {
    const keysDir = await tempDir();
    const gen = await runCli(['keys', 'generate', '--out', join(keysDir, 'release')]);
    expect(gen.code, gen.stderr).to.equal(0);
    const sign = await runCli(['bundles', 'sign', 'peng@1.0.0', '--artifacts', artifacts, '--key', join(keysDir, 'release.key.pem')]);
    expect(sign.code, sign.stderr).to.equal(0);
    const { readTrustedKeys } = await import('../bundle/signature.js');
    const pub = join(keysDir, 'release.pub.pem');
    const keys = await readTrustedKeys([pub]);
    const bundle = await verifyBakedBundle({ ref: 'peng', artifacts, requireSignature: { keys, files: [pub] } });
    expect(bundle.signedBy).to.equal(keys[0]?.keyId);
    const out = join(await tempDir(), 'ctx');
    const context = await writeBuildContext({ out, nodeModules, bundle });
    expect(context.model).to.equal('peng@1.0.0');
    expect(context.env).to.deep.equal({ MLPIPE_MODEL: 'peng@1.0.0', MLPIPE_REQUIRE_SIGNATURE: '/srv/mlpipe/keys/1-release.pub.pem' });
    expect(await readFile(join(out, 'keys', '1-release.pub.pem'), 'utf8')).to.equal(await readFile(pub, 'utf8'));
    const dockerfile = await readFile(join(out, 'Dockerfile'), 'utf8');
    expect(dockerfile).to.match(/ENV MLPIPE_MODEL="peng@1\.0\.0" \\\n {4}MLPIPE_REQUIRE_SIGNATURE="\/srv\/mlpipe\/keys\/1-release\.pub\.pem"\n$/);
    const copied = (await readdir(join(out, 'artifacts', 'peng', '1.0.0'))).sort();
    expect(copied).to.include.members(['manifest.json', 'model.json', 'signature.json']);
    const { verifyBundle } = await import('../bundle/verify.js');
    expect((await verifyBundle(join(out, 'artifacts', 'peng', '1.0.0'))).name).to.equal('peng');
  });

  it('refuses an unknown bundle, a tampered one and a bundle not signed by the required key, before writing anything', async () => {
    const { readTrustedKeys, generateKeyPair } = await import('../bundle/signature.js');
    const err = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);
    expect(await err(verifyBakedBundle({ ref: 'nope', artifacts }))).to.have.property('code', 'not_found');
    const other = await generateKeyPair(join(await tempDir(), 'other'));
    const keys = await readTrustedKeys([other.publicKeyFile]);
    const unsigned = (await packagedExample('plain')).artifacts;
    const refused = await err(verifyBakedBundle({ ref: 'plain', artifacts: unsigned, requireSignature: { keys, files: [other.publicKeyFile] } }));
    expect(refused).to.have.property('code', 'verification_failed');
    expect((refused as Error).message).to.contain('not signed');
    const model = join(unsigned, 'plain', '1.0.0', 'model.json');
    await writeFile(model, (await readFile(model, 'utf8')).replace('{', '{ '));
    const tampered = await err(verifyBakedBundle({ ref: 'plain@1.0.0', artifacts: unsigned }));
    expect(tampered).to.have.property('code', 'verification_failed');
    expect((tampered as Error).message).to.contain('model.json');
  });

  it('writes only into a new or empty folder', async () => {
    const out = join(await tempDir(), 'ctx');
    await mkdir(out);
    await writeFile(join(out, 'x'), 'x');
    const refused = await writeBuildContext({ out, nodeModules }).then(() => undefined, (e: unknown) => e);
    expect(refused).to.have.property('code', 'invalid_config');
    expect((refused as Error).message).to.contain(`${out}: not empty`);
  });
});
