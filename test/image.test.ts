/**
 * The container image, built and run for real with podman (make image-test; part of make test where
 * podman can run). The penguins example is trained and baked in by `mlpipe containerize` (the image
 * built with podman from the repository's Dockerfile on the offline base; the tampered one from a
 * context of core/deploy/context.ts, the same code, with a file of the bundle changed),
 * and its containers run with a read-only root filesystem on a free loopback port. Skipped, with the
 * reason, where podman cannot run images (no podman, `podman info` failing, no base image: make
 * image-base); .ci/run sets MLPIPE_IMAGE_REQUIRED=1 once it has made the base, and then a skip is a failure.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExampleBundle, cleanupTempDirs, exampleRecords, runCli, tempDir } from '../src/test-helpers/fixtures.js';
import {
  buildImage,
  containerLogs,
  containerState,
  podman,
  podmanEnv,
  podmanOk,
  podmanUnusable,
  removeAll,
  startContainer,
  uniqueName,
  waitReady,
  type Container,
} from '../src/test-helpers/podman.js';

const execFileAsync = promisify(execFile);

interface Prediction {
  prediction: unknown;
  probabilities?: Record<string, number>;
}

describe('the container image (podman)', function () {
  this.timeout(900_000);
  let env: NodeJS.ProcessEnv;
  let artifacts: string;
  let ref: string;
  let image: string;
  let tampered: string;
  const containers: string[] = [];
  const images: string[] = [];
  let c: Container;
  let records: Record<string, unknown>[];

  before(async function () {
    env = await podmanEnv();
    const unusable = await podmanUnusable(env);
    if (unusable) {
      if (process.env.MLPIPE_IMAGE_REQUIRED === '1') throw new Error(`podman cannot run images here: ${unusable} (MLPIPE_IMAGE_REQUIRED=1)`);
      console.warn(`    (skipped: ${unusable})`);
      this.skip();
    }
    artifacts = await tempDir();
    const run = await buildExampleBundle({ artifacts, example: 'penguins', trees: 25, seed: 11, name: 'penguins' });
    ref = run.package.ref;
    image = `localhost/${uniqueName('mlpipe-image-test')}:1`;
    tampered = `localhost/${uniqueName('mlpipe-image-tampered')}:1`;
    images.push(image, tampered);
    // Built by mlpipe containerize itself (podman found on the PATH), as a user would.
    const built = await runCli(['containerize', ref, '--artifacts', artifacts, '--tag', image], { env, timeoutMs: 900_000 });
    if (built.code !== 0) throw new Error(`mlpipe containerize failed (exit ${built.code}): ${built.stderr}`);
    expect(built.stdout).to.match(new RegExp(`^built ${image.replace(/[.]/g, '\\.')} with podman: ${ref.replace(/[.]/g, '\\.')}, \\d+ MB\\n`));
    c = await startContainer(env, image);
    containers.push(c.name);
    records = (await exampleRecords('penguins')).slice(0, 60).map(({ Species: _species, ...rest }) => rest);
  });

  after(async () => {
    if (env) await removeAll(env, containers, images);
    await cleanupTempDirs();
  });

  it('becomes ready on /readyz, serving the baked bundle, configured by MLPIPE_* (0.0.0.0:8080)', async () => {
    await waitReady(env, c);
    const models = (await (await fetch(`${c.url}/v1/models`)).json()) as { models?: Array<{ name: string; version: string }> };
    expect(JSON.stringify(models)).to.contain('penguins').and.contain(ref.split('@')[1]);
    const logs = await containerLogs(env, c.name);
    expect(logs).to.contain('listening on http://0.0.0.0:8080');
    expect(logs).to.contain(`serving ${ref}`);
  });

  it('answers predictions equal to mlpipe predict for the same rows', async () => {
    await waitReady(env, c);
    const res = await fetch(`${c.url}/predict/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records }) });
    expect(res.status).to.equal(200);
    const served = ((await res.json()) as { predictions: Prediction[] }).predictions;
    const dir = await tempDir();
    const input = join(dir, 'rows.ndjson');
    await writeFile(input, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const cli = await runCli(['predict', ref, '--artifacts', artifacts, '--input', input, '--out', '-']);
    expect(cli.code, cli.stderr).to.equal(0);
    const predicted = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as Prediction);
    expect(served).to.have.length(records.length);
    expect(served).to.deep.equal(predicted);
  });

  it('runs as a user that is not root (uid 10001), as PID 1, with a read-only root filesystem', async () => {
    expect(await podmanOk(env, ['exec', c.name, 'id', '-u'])).to.equal('10001');
    const top = await podmanOk(env, ['top', c.name, 'user', 'pid', 'args']);
    const line = top.split('\n').find((l) => l.includes('mlpipe serve'));
    expect(line, top).to.match(/^mlpipe\s+1\s+node \/srv\/mlpipe\/app\/bin\/mlpipe serve/);
    const write = await podman(env, ['exec', c.name, 'sh', '-c', 'echo x > /srv/mlpipe/x']);
    expect(write.code).to.not.equal(0);
    expect(write.stderr).to.match(/Read-only file system/);
    expect(await podmanOk(env, ['inspect', c.name, '--format', '{{.HostConfig.ReadonlyRootfs}}'])).to.equal('true');
  });

  it('has a HEALTHCHECK on /healthz in the saved image config, and it passes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mlpipe-image-save-'));
    try {
      const archive = join(dir, 'image.tar');
      await podmanOk(env, ['save', '--format', 'docker-archive', '-o', archive, image]);
      const manifest = await execFileAsync('tar', ['-xOf', archive, 'manifest.json']);
      const configName = (JSON.parse(manifest.stdout) as Array<{ Config: string }>)[0]?.Config as string;
      const config = JSON.parse((await execFileAsync('tar', ['-xOf', archive, configName])).stdout) as {
        config: { Healthcheck?: { Test: string[] }; User: string; ExposedPorts: Record<string, unknown>; Env: string[] };
      };
      expect(config.config.Healthcheck?.Test.join(' ')).to.contain('/healthz');
      expect(config.config.User).to.equal('10001:10001');
      expect(config.config.ExposedPorts).to.have.property('8080/tcp');
      expect(config.config.Env).to.include.members(['MLPIPE_HOST=0.0.0.0', 'MLPIPE_PORT=8080']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await waitReady(env, c);
    const check = await podman(env, ['healthcheck', 'run', c.name]);
    expect(check.code, check.stdout + check.stderr).to.equal(0);
  });

  it('SIGTERM to PID 1 drains an in-flight batch, answers it, then exits 0', async () => {
    const d = await startContainer(env, image);
    containers.push(d.name);
    await waitReady(env, d);
    // A batch whose body is still arriving when SIGTERM comes: in flight for as long as the test wants.
    const body = Buffer.from(JSON.stringify({ records }));
    const half = Math.floor(body.length / 2);
    const answer = new Promise<{ status: number; text: string }>((resolvePromise, reject) => {
      const req = request(`${d.url}/predict/batch`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => (text += s));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.write(body.subarray(0, half));
      void (async () => {
        // The head and half the body are in; then SIGTERM, and the rest only once the server is draining.
        await new Promise((r) => setTimeout(r, 500));
        await podmanOk(env, ['kill', '--signal', 'TERM', d.name]);
        const deadline = Date.now() + 60_000;
        while (!(await containerLogs(env, d.name)).includes('SIGTERM: draining') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect((await containerState(env, d.name)).running, 'still running while the batch is in flight').to.equal(true);
        req.end(body.subarray(half));
      })().catch(reject);
    });
    const res = await answer;
    expect(res.status, res.text).to.equal(200);
    expect((JSON.parse(res.text) as { predictions: unknown[] }).predictions).to.have.length(records.length);
    const exit = await podmanOk(env, ['wait', d.name], 120_000);
    expect(exit).to.equal('0');
    const logs = await containerLogs(env, d.name);
    expect(logs).to.contain('SIGTERM: draining in-flight requests');
    expect(logs).to.match(/"pid":1\b/);
    expect(logs).to.contain('stopped');
  });

  it('a tampered baked-in bundle keeps the container from becoming ready: it exits non-zero, the reason in its log', async () => {
    const [name, version] = ref.split('@') as [string, string];
    await buildImage(env, tampered, {
      bundle: { ref, artifacts },
      alter: async (context) => {
        const model = join(context, 'artifacts', name, version, 'model.json');
        const text = await readFile(model, 'utf8');
        await writeFile(model, text.replace(/"/, ' "'));
      },
    });
    const t = await startContainer(env, tampered);
    containers.push(t.name);
    const exit = await podmanOk(env, ['wait', t.name], 120_000);
    expect(Number(exit)).to.not.equal(0);
    const ready = await fetch(`${t.url}/readyz`).then((r) => r.status, () => 0);
    expect(ready).to.not.equal(200);
    const logs = await containerLogs(env, t.name);
    expect(logs).to.match(/model\.json/);
    expect(logs).to.match(/changed after the bundle was written|sha256/);
  });
});
