/**
 * End to end, through the real CLI (bin/mlpipe → dist/, plain node): a pipeline.yaml names a custom
 * featurizer written in TypeScript; `mlpipe run` trains with it; the bundle holds no code, only the
 * module's name and sha256; `serve` refuses to start without the module or with a changed one, and
 * with the right one serves the predictions `mlpipe predict` makes.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { sha256 } from '../src/core/fs-util.js';
import type { Manifest } from '../src/core/bundle/manifest.js';
import type { FittedPipeline } from '../src/core/features/types.js';
import { BIN, EXAMPLES, ROOT, cleanupTempDirs, exampleRecords, runCli, tempDir } from '../src/test-helpers/fixtures.js';

/** `mlpipe serve …` as a child process, with its output so far and its exit. */
function spawnServe(args: string[], cwd: string): { child: ChildProcessWithoutNullStreams; url: Promise<string>; exit: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd, env: process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    void exit.then(({ code }) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
  });
  return { child, url, exit };
}

/** A user-facing error: exit 1 and exactly one line on stderr. */
function oneLine(run: { code: number | null; stderr: string }): string {
  expect(run.code, run.stderr).to.equal(1);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).to.have.length(1);
  return lines[0]!;
}

describe('custom featurizer, end to end through the CLI', function () {
  this.timeout(240_000);
  let dir: string;
  let store: string;
  let ref: string;
  let bundleDir: string;
  let moduleSha: string;

  before(async () => {
    dir = await tempDir();
    store = join(dir, 'store');
    await copyFile(join(ROOT, 'test', 'fixtures', 'zip-prefix.ts'), join(dir, 'zip-prefix.ts'));
    moduleSha = sha256(await readFile(join(dir, 'zip-prefix.ts')));
    // The same module with one byte changed (in a comment: it would compute the same thing).
    const text = await readFile(join(dir, 'zip-prefix.ts'), 'utf8');
    await writeFile(join(dir, 'changed.ts'), text.replace('A custom featurizer', 'A custom featurizeR'));
    await writeFile(
      join(dir, 'pipeline.yaml'),
      [
        'name: penguins-zip',
        `source: ${join(EXAMPLES, 'penguins', 'penguins.csv')}`,
        'target: Species',
        'seed: 11',
        'features:',
        '  custom:',
        '    zip-prefix: zip-prefix.ts',
        '  columns:',
        '    Island: {kind: zip-prefix, digits: 2}',
        'model:',
        '  trees: 15',
        '',
      ].join('\n'),
    );
    const run = await runCli(['run', 'pipeline.yaml', '--artifacts', store], { cwd: dir });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('Island (category) → zip-prefix: share of rows by the first 2 characters: Bi… 0.488, Dr… 0.36, To… 0.151; unseen → 0');
    ref = run.stdout.trimEnd().split('\n').pop()!;
    expect(ref).to.equal('penguins-zip@1.0.0');
    bundleDir = join(store, 'penguins-zip', '1.0.0');
  });
  after(cleanupTempDirs);

  it('the bundle has no code, records the module by name and sha256, and bundles show says so', async () => {
    const files = await readdir(bundleDir);
    expect(files.filter((f) => /\.(m?[jt]s|c[jt]s)$/.test(f))).to.deep.equal([]);
    const manifest = JSON.parse(await readFile(join(bundleDir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.customFeaturizers).to.deep.equal([{ name: 'zip-prefix', sha256: moduleSha, module: 'zip-prefix.ts' }]);
    const featurizer = await readFile(join(bundleDir, 'featurizer.json'), 'utf8');
    expect(featurizer).not.to.contain(dir);
    const step = (JSON.parse(featurizer) as FittedPipeline).steps.find((s) => s.column === 'Island')!;
    expect(step.kind).to.equal('zip-prefix');
    expect(step.custom).to.deep.include({ sha256: moduleSha, module: 'zip-prefix.ts' });
    const show = await runCli(['bundles', 'show', ref, '--artifacts', store], { cwd: dir });
    expect(show.code, show.stderr).to.equal(0);
    expect(show.stdout).to.contain(`custom featurizers (their code is not in the bundle: serve and predict load it with --featurizer-module name=path, checked against this sha256):\n  zip-prefix: zip-prefix.ts  sha256 ${moduleSha}\n`);
    const verify = await runCli(['bundles', 'verify', ref, '--artifacts', store], { cwd: dir });
    expect(verify.code, verify.stderr).to.equal(0);
  });

  it('serve without the module refuses to start, naming the kind, the bundle and the flag', async () => {
    const { exit } = spawnServe([ref, '--artifacts', store, '--port', '0'], dir);
    const line = oneLine(await exit);
    expect(line).to.equal(
      `mlpipe: ${ref} (${bundleDir}) uses the custom featurizer "zip-prefix" (module zip-prefix.ts, sha256 ${moduleSha}); a bundle never contains code: give the module with --featurizer-module zip-prefix=<path to zip-prefix.ts>`,
    );
  });

  it('serve with a module changed by one byte refuses to start, with both hashes', async () => {
    const changedSha = sha256(await readFile(join(dir, 'changed.ts')));
    expect(changedSha).not.to.equal(moduleSha);
    const { exit } = spawnServe([ref, '--artifacts', store, '--port', '0', '--featurizer-module', 'zip-prefix=changed.ts'], dir);
    const line = oneLine(await exit);
    expect(line).to.equal(
      `mlpipe: --featurizer-module zip-prefix=changed.ts: ${join(dir, 'changed.ts')} has sha256 ${changedSha}, but ${ref} (${bundleDir}) was made with the module whose sha256 is ${moduleSha}: refusing to load a different module; give the zip-prefix.ts that ${ref} was trained with, or train again with this one`,
    );
  });

  it('serve refuses a module no bundle uses (a misspelt name)', async () => {
    const { exit } = spawnServe(['--artifacts', store, '--port', '0', '--featurizer-module', 'zip-prefix=zip-prefix.ts', '--featurizer-module', 'zip-prefx=zip-prefix.ts'], dir);
    expect(oneLine(await exit)).to.equal(`mlpipe: --featurizer-module zip-prefx=zip-prefix.ts: no custom featurizer "zip-prefx" is used by ${ref} (did you mean "zip-prefix"?); used: zip-prefix`);
  });

  it('predict refuses to run without the module, like serve', async () => {
    const r = await runCli(['predict', ref, '--artifacts', store, '--input', join(EXAMPLES, 'penguins', 'penguins.csv')], { cwd: dir });
    expect(oneLine(r)).to.contain(`uses the custom featurizer "zip-prefix" (module zip-prefix.ts, sha256 ${moduleSha}); a bundle never contains code: give the module with --featurizer-module zip-prefix=<path to zip-prefix.ts>`);
  });

  it('with the right module, serve answers over HTTP exactly what mlpipe predict writes', async () => {
    const out = join(dir, 'predictions.ndjson');
    const predict = await runCli(['predict', ref, '--artifacts', store, '--input', join(EXAMPLES, 'penguins', 'penguins.csv'), '--out', out, '--featurizer-module', 'zip-prefix=zip-prefix.ts'], { cwd: dir });
    expect(predict.code, predict.stderr).to.equal(0);
    const expected = (await readFile(out, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    const records = (await exampleRecords('penguins')).map(({ Species: _species, ...rest }) => rest);
    expect(expected).to.have.length(records.length);

    // serve with no reference: every bundle in the store, the module applying to all that use it
    const serve = spawnServe(['--artifacts', store, '--port', '0', '--featurizer-module', 'zip-prefix=zip-prefix.ts'], dir);
    try {
      const url = await serve.url;
      const res = await fetch(`${url}/v1/models/penguins-zip/predict/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records }) });
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { predictions: unknown[] }).predictions).to.deep.equal(expected);
      const info = (await (await fetch(`${url}/v1/models/penguins-zip`)).json()) as { customFeaturizers: unknown };
      expect(info.customFeaturizers).to.deep.equal([{ name: 'zip-prefix', sha256: moduleSha, module: 'zip-prefix.ts' }]);
      const one = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records[200]) });
      const { model: _model, ...prediction } = (await one.json()) as Record<string, unknown>;
      expect(prediction).to.deep.equal(expected[200]);
    } finally {
      serve.child.kill('SIGTERM');
      expect((await serve.exit).code).to.equal(0);
    }
  });
});
