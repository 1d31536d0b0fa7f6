/**
 * `mlpipe containerize` as a real process: bad input is one line and exit 1 (unknown bundle, tampered
 * bundle, unsigned bundle with --require-signature, an invalid --tag, --build with no container tool);
 * without a tool the context is written and the build command printed. The build with podman is
 * test/image.test.ts's: it builds its image with this command.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expectOneLineError } from '../test-helpers/expect-cli.js';
import { cleanupTempDirs, packagedExample, runCli, runCommand, tempDir } from '../test-helpers/fixtures.js';

describe('mlpipe containerize', function () {
  this.timeout(300_000);
  let artifacts: string;
  /** A PATH with node and npm but no podman or docker. */
  let noToolsPath: string;

  before(async () => {
    ({ artifacts } = await packagedExample('peng'));
    const bin = join(await tempDir(), 'bin');
    await mkdir(bin);
    await symlink(process.execPath, join(bin, 'node'));
    const npm = (await runCommand('bash', ['-c', 'command -v npm'])).stdout.trim();
    await symlink(npm, join(bin, 'npm'));
    noToolsPath = bin;
  });
  after(cleanupTempDirs);

  it('an unknown bundle: one line naming it, exit 1', async () => {
    expectOneLineError(await runCli(['containerize', 'nope', '--artifacts', artifacts, '--no-build']), 'nope: no bundle named "nope"');
  });

  it('a tampered bundle: one line naming the changed file, exit 1, nothing written', async () => {
    const { artifacts: store } = await packagedExample('tamp');
    const model = join(store, 'tamp', '1.0.0', 'model.json');
    await writeFile(model, (await readFile(model, 'utf8')).replace('{', '{ '));
    const out = join(await tempDir(), 'ctx');
    expectOneLineError(await runCli(['containerize', 'tamp', '--artifacts', store, '--no-build', '--out', out]), 'model.json');
    expect(existsSync(out)).to.equal(false);
  });

  it('--require-signature with an unsigned bundle: one line, exit 1', async () => {
    const keys = await tempDir();
    expect((await runCli(['keys', 'generate', '--out', join(keys, 'k')])).code).to.equal(0);
    expectOneLineError(await runCli(['containerize', 'peng', '--artifacts', artifacts, '--no-build', '--require-signature', join(keys, 'k.pub.pem')]), 'not signed');
  });

  it('an invalid --tag: one line naming it, exit 1, before the bundle is read', async () => {
    expectOneLineError(await runCli(['containerize', 'nope', '--artifacts', artifacts, '--tag', 'Mlpipe/Penguins:1']), '--tag: "Mlpipe/Penguins:1" is not a valid image reference', 'lowercase');
    expectOneLineError(await runCli(['containerize', 'peng', '--artifacts', artifacts, '--tag', 'penguins:1:2']), '--tag: "penguins:1:2"');
  });

  it('--build with no container tool: one line naming podman and docker, exit 1', async () => {
    const run = await runCli(['containerize', 'peng', '--artifacts', artifacts, '--build'], { env: { PATH: noToolsPath } });
    expectOneLineError(run, '--build: no container tool works here (podman: not on the PATH; docker: not on the PATH)');
  });

  it('no container tool: writes the build context and prints the command that builds it', async () => {
    const out = join(await tempDir(), 'ctx');
    const run = await runCli(['containerize', 'peng@1.0.0', '--artifacts', artifacts, '--out', out], { env: { PATH: noToolsPath } });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.equal(
      [
        `wrote the build context of peng@1.0.0 in ${out}`,
        'build it (no container tool works here: podman: not on the PATH; docker: not on the PATH) with:',
        `  podman build --format docker -t localhost/mlpipe-peng:1.0.0 ${out}`,
        `or with docker: docker build -t localhost/mlpipe-peng:1.0.0 ${out}`,
        '',
      ].join('\n'),
    );
    expect(await readFile(join(out, 'Dockerfile'), 'utf8')).to.match(/\nENV MLPIPE_MODEL="peng@1\.0\.0"\n$/);
    expect(existsSync(join(out, 'artifacts', 'peng', '1.0.0', 'manifest.json'))).to.equal(true);
    expect(existsSync(join(out, 'app', 'node_modules', 'express'))).to.equal(true);
  });

  it('--no-build --json: the context, tag and command as one JSON document', async () => {
    const out = join(await tempDir(), 'ctx');
    const run = await runCli(['containerize', 'peng', '--artifacts', artifacts, '--no-build', '--out', out, '--tag', 'registry.example.com:5000/ml/peng:v1', '--base', 'node:20-bookworm-slim', '--json']);
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.deep.equal({
      context: out,
      tag: 'registry.example.com:5000/ml/peng:v1',
      model: 'peng@1.0.0',
      signedBy: null,
      built: false,
      command: `podman build --format docker --build-arg BASE=node:20-bookworm-slim -t registry.example.com:5000/ml/peng:v1 ${out}`,
    });
  });
});
