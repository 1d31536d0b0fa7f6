import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { BIN, EXAMPLES, ROOT, cleanupTempDirs, packagedExample, runCli, tempDir } from '../test-helpers/fixtures.js';
import { type S3Server, startS3Server } from '../test-helpers/s3.js';
import { type ServeProcess, startServeProcess } from '../test-helpers/serve.js';

/** A static file server (express.static, no folder listings) over `dir` on 127.0.0.1. */
async function staticServer(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use(express.static(dir, { dotfiles: 'allow' }));
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('every store kind from the CLI: folder, s3:// (s3rver) and read-only https:// (a static file server)', function () {
  this.timeout(300_000);
  let s3: S3Server;
  let env: NodeJS.ProcessEnv;
  let modelDir: string;
  let local: string;
  const store = 's3://models/cli';
  const serves: ServeProcess[] = [];
  const others: ChildProcess[] = [];

  before(async () => {
    s3 = await startS3Server();
    env = { ...s3.env, MLPIPE_CACHE: await tempDir(), MLPIPE_USER: 'ci-bot' };
    ({ artifacts: local, modelDir } = await packagedExample('penguins'));
  });
  after(async () => {
    for (const s of serves) s.child.kill('SIGKILL');
    for (const c of others) c.kill('SIGKILL');
    await s3.close();
    await cleanupTempDirs();
  });

  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { env: { ...env, ...extra } });

  it('package, list, show, verify, promote and report work on an s3:// store as on a folder', async () => {
    const pkg = await cli(['package', modelDir, '--name', 'penguins', '--artifacts', store]);
    expect(pkg.stderr).to.equal('');
    expect(pkg.code).to.equal(0);
    expect(pkg.stdout).to.contain('wrote s3://models/cli/penguins/1.0.0');
    const list = await cli(['bundles', 'list', '--artifacts', store, '--json']);
    expect(list.code).to.equal(0);
    const listed = JSON.parse(list.stdout) as { artifacts: string; bundles: { name: string; version: string; task: string }[] };
    expect(listed.artifacts).to.equal(store);
    expect(listed.bundles.map((b) => `${b.name}@${b.version}:${b.task}`)).to.deep.equal(['penguins@1.0.0:classification']);
    const show = await cli(['bundles', 'show', 'penguins', '--artifacts', store]);
    expect(show.code).to.equal(0);
    expect(show.stdout).to.match(/^penguins@1\.0\.0 /);
    const verify = await cli(['bundles', 'verify', '--artifacts', store]);
    expect(verify.stdout).to.match(/^ok penguins@1\.0\.0 \(\d+ files, 20 golden records identical\)$/m);
    expect(verify.code).to.equal(0);
    const promote = await cli(['bundles', 'promote', 'penguins@1.0.0', '--alias', 'production', '--artifacts', store]);
    expect(promote.stderr).to.equal('');
    expect(promote.stdout.trim()).to.equal('penguins@production → 1.0.0');
    const report = await cli(['report', 'penguins@production', '--artifacts', store, '--out', join(await tempDir(), 'r.html')]);
    expect(report.code).to.equal(0);
  });

  it('run packages straight into s3:// and names the report there', async () => {
    const run = await cli(['run', join(EXAMPLES, 'penguins', 'pipeline.yaml'), '--trees', '3', '--name', 'direct', '--artifacts', store]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('wrote s3://models/cli/direct/1.0.0\n');
    expect(run.stdout).to.contain('report: s3://models/cli/direct/1.0.0/report.html\n');
  });

  it('predict and serve read straight from the s3:// store through the verified cache, with the same predictions as from a folder', async () => {
    const input = join(EXAMPLES, 'penguins', 'penguins.csv');
    const fromS3 = await cli(['predict', 'penguins@production', '--artifacts', store, '--input', input, '--out', '-']);
    expect(fromS3.code).to.equal(0);
    const fromFolder = await cli(['predict', 'penguins@1.0.0', '--artifacts', local, '--input', input, '--out', '-']);
    expect(fromS3.stdout).to.equal(fromFolder.stdout);
    expect(fromS3.stdout.split('\n').length).to.be.greaterThan(300);

    const serve = startServeProcess(['--artifacts', store, '--port', '0'], { env });
    serves.push(serve);
    const port = await serve.port();
    // Logs are written asynchronously (pino): the line may follow `listening on` by a moment.
    await serve.waitFor('stderr', /serving penguins@1\.0\.0/);
    const record = { Island: 'Biscoe', 'Culmen Length (mm)': 45.2, 'Culmen Depth (mm)': 14.8, 'Flipper Length (mm)': 212, 'Body Mass (g)': 5200, Sex: 'FEMALE' };
    const res = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(record) });
    expect(res.status).to.equal(200);
    expect(((await res.json()) as { prediction: string }).prediction).to.equal('Gentoo');
    serve.child.kill('SIGTERM');
    await serve.exited;
  });

  it('a bundle signed after it was cached is seen as signed (the cache fetches signature.json again); serve --require-signature reads it from s3://', async () => {
    const keys = await tempDir();
    expect((await cli(['keys', 'generate', '--out', join(keys, 'release')])).code).to.equal(0);
    const sign = await cli(['bundles', 'sign', 'penguins@1.0.0', '--artifacts', store, '--key', join(keys, 'release.key.pem')]);
    expect(sign.code, sign.stderr).to.equal(0);
    const verify = await cli(['bundles', 'verify', 'penguins@1.0.0', '--artifacts', store, '--key', join(keys, 'release.pub.pem')]);
    expect(verify.stderr).to.equal('');
    expect(verify.stdout).to.match(/^ok penguins@1\.0\.0 \(\d+ files, 20 golden records identical, signed by [0-9a-f]{16}\)$/m);
    const serve = startServeProcess(['penguins@1.0.0', '--artifacts', store, '--port', '0', '--require-signature', join(keys, 'release.pub.pem')], { env });
    serves.push(serve);
    await serve.port();
    serve.child.kill('SIGTERM');
    await serve.exited;
  });

  it('bundles gc <name> --keep N removes old versions from s3:// but never one an alias points at', async () => {
    for (let i = 0; i < 3; i++) expect((await cli(['package', modelDir, '--name', 'kept', '--artifacts', store])).code).to.equal(0);
    expect((await cli(['bundles', 'promote', 'kept@1.0.0', 'production', '--artifacts', store])).code).to.equal(0);
    const gc = await cli(['bundles', 'gc', 'kept', '--keep', '1', '--artifacts', store]);
    expect(gc.code, gc.stderr).to.equal(0);
    const list = await cli(['bundles', 'list', '--artifacts', store, '--json']);
    const kept = (JSON.parse(list.stdout) as { bundles: { name: string; version: string }[] }).bundles.filter((b) => b.name === 'kept').map((b) => b.version);
    expect(kept).to.deep.equal(['1.0.0', '1.0.2']);
  });

  it('a package killed during its upload leaves nothing visible; bundles gc removes what it left', async () => {
    const marker = join(await tempDir(), 'paused');
    const child = spawn(process.execPath, [BIN, 'package', modelDir, '--name', 'penguins', '--artifacts', store], {
      cwd: ROOT,
      env: { ...process.env, ...env, MLPIPE_TEST_FAULT: `pause:s3:upload:model.bin:${marker}` },
      stdio: 'ignore',
      detached: true,
    });
    others.push(child);
    for (let i = 0; i < 600 && !(await readFile(marker).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 100));
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const list = await cli(['bundles', 'list', '--artifacts', store, '--json']);
    expect((JSON.parse(list.stdout) as { bundles: { name: string; version: string }[] }).bundles.filter((b) => b.name === 'penguins').map((b) => b.version)).to.deep.equal(['1.0.0']);
    const gc = await cli(['bundles', 'gc', '--artifacts', store]);
    expect(gc.code).to.equal(0);
    expect(gc.stdout).to.match(/^removed unfinished upload s3:\/\/models\/cli\/penguins\/1\.0\.1\/: its owner, process \d+ on .*, is gone$/m);
    const again = await cli(['bundles', 'gc', '--artifacts', store]);
    expect(again.stdout.trim()).to.equal(`nothing to clean in ${store}`);
  });

  it('an https:// store is read-only and needs no listing once bundles index wrote index.json; a file changed on the server is refused', async () => {
    const copy = await tempDir();
    await cp(local, copy, { recursive: true });
    const index = await cli(['bundles', 'index', '--artifacts', copy]);
    expect(index.stdout.trim()).to.equal(`wrote ${join(copy, 'index.json')}: 1 name(s), 1 version(s)`);
    const web = await staticServer(copy);
    try {
      const list = await cli(['bundles', 'list', '--artifacts', web.url, '--json']);
      expect(list.code).to.equal(0);
      expect((JSON.parse(list.stdout) as { bundles: { name: string; version: string }[] }).bundles.map((b) => `${b.name}@${b.version}`)).to.deep.equal(['penguins@1.0.0']);
      const input = join(EXAMPLES, 'penguins', 'penguins.csv');
      const predicted = await cli(['predict', 'penguins', '--artifacts', web.url, '--input', input, '--out', '-']);
      expect(predicted.code).to.equal(0);
      expect(predicted.stdout).to.equal((await cli(['predict', 'penguins@1.0.0', '--artifacts', local, '--input', input, '--out', '-'])).stdout);
      const refused = await cli(['package', modelDir, '--name', 'penguins', '--artifacts', web.url]);
      expect(refused.code).to.equal(1);
      expect(refused.stderr.trim()).to.equal(`mlpipe: ${web.url}: an http(s) store is read-only; cannot publish a bundle (publish to a folder or s3:// store and serve its files)`);
      // A file changed on the server: refused, naming its address; nothing is cached.
      const metrics = join(copy, 'penguins', '1.0.0', 'metrics.json');
      const text = await readFile(metrics, 'utf8');
      await writeFile(metrics, text.replace('"', "'"));
      const fresh = { MLPIPE_CACHE: await tempDir() };
      const verify = await cli(['bundles', 'verify', 'penguins@1.0.0', '--artifacts', web.url], fresh);
      expect(verify.code).to.equal(1);
      expect(verify.stderr).to.match(new RegExp(`^mlpipe: penguins@1\\.0\\.0: ${web.url.replace(/[.]/g, '\\.')}penguins/1\\.0\\.0/metrics\\.json: checksum mismatch`));
      expect(await readdir(fresh.MLPIPE_CACHE, { recursive: true })).to.satisfy((entries: string[]) => !entries.some((e) => e.endsWith('metrics.json')));
    } finally {
      await web.close();
    }
  });

  it('a store over python3 -m http.server is listed from its folder pages (no index.json)', async () => {
    const copy = await tempDir();
    await cp(local, copy, { recursive: true });
    const py = spawn('python3', ['-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', copy], { stdio: ['ignore', 'pipe', 'pipe'] });
    others.push(py);
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const on = (d: Buffer): void => {
        out += d.toString();
        const m = /port (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      };
      py.stdout.on('data', on);
      py.stderr.on('data', on);
      py.once('exit', () => reject(new Error(`python3 http.server ended: ${out}`)));
    });
    const list = await cli(['bundles', 'list', '--artifacts', `http://127.0.0.1:${port}/`, '--json']);
    expect(list.stderr).to.equal('');
    expect((JSON.parse(list.stdout) as { bundles: { name: string; version: string }[] }).bundles.map((b) => `${b.name}@${b.version}`)).to.deep.equal(['penguins@1.0.0']);
    py.kill();
  });

  it('bundles push and pull copy a bundle between a folder and s3://, verified, idempotent, refusing a different bundle under the same version', async () => {
    const to = 's3://models/pushed';
    const push = await cli(['bundles', 'push', 'penguins@1.0.0', '--artifacts', local, '--to', to]);
    expect(push.stderr).to.equal('');
    expect(push.stdout.trim()).to.equal(`copied penguins@1.0.0 from ${local} to ${to} (every checksum verified)`);
    const again = await cli(['bundles', 'push', 'penguins@1.0.0', '--artifacts', local, '--to', to, '--json']);
    expect(JSON.parse(again.stdout)).to.deep.equal({ bundle: 'penguins@1.0.0', from: local, to, status: 'unchanged' });
    // Another model packaged under the same name and version: refused, naming the first differing file; the store keeps the first.
    const other = await tempDir();
    const retrain = await cli(['package', modelDir, '--name', 'penguins', '--artifacts', other]);
    expect(retrain.code).to.equal(0);
    const refused = await cli(['bundles', 'push', 'penguins@1.0.0', '--artifacts', other, '--to', to]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr.trim()).to.match(/^mlpipe: penguins@1\.0\.0 already exists in s3:\/\/models\/pushed with different contents \(first difference: report\.html\)/);
    const pulled = await tempDir();
    const pull = await cli(['bundles', 'pull', 'penguins', '--from', to, '--artifacts', pulled]);
    expect(pull.stdout.trim()).to.equal(`copied penguins@1.0.0 from ${to} to ${pulled} (every checksum verified, 20 golden records identical)`);
    expect(await readFile(join(pulled, 'penguins', '1.0.0', 'manifest.json'), 'utf8')).to.equal(await readFile(join(local, 'penguins', '1.0.0', 'manifest.json'), 'utf8'));
    expect((await cli(['bundles', 'verify', '--artifacts', pulled])).code).to.equal(0);
    expect((await cli(['bundles', 'pull', 'penguins', '--from', to, '--artifacts', pulled, '--json'])).stdout).to.contain('"status": "unchanged"');
  });

  it('bad stores are one line naming what and where, exit 1', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['bundles', 'list', '--artifacts', 'ftp://host/x'], {}, /^mlpipe: "ftp:\/\/host\/x": unknown bundle store scheme "ftp:" \(use a folder, s3:\/\/bucket\/prefix or https:\/\/host\/path\/\)$/],
      [['bundles', 'list', '--artifacts', 's3://missing-bucket/x'], {}, /^mlpipe: s3:\/\/missing-bucket\/x: no bucket "missing-bucket" at http:\/\/127\.0\.0\.1:\d+$/],
      [['bundles', 'list', '--artifacts', store], { MLPIPE_S3_ENDPOINT: 'http://127.0.0.1:9' }, /^mlpipe: s3:\/\/models\/cli: cannot reach the S3 endpoint at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)$/],
      [['bundles', 'list', '--artifacts', store], { AWS_ACCESS_KEY_ID: 'NOTAKEY', AWS_SECRET_ACCESS_KEY: 'sekrit-value' }, /^mlpipe: s3:\/\/models\/cli: access denied at http:\/\/127\.0\.0\.1:\d+ \(InvalidAccessKeyId\)/],
      [['bundles', 'show', 'penguins', '--artifacts', `http://127.0.0.1:${closed}/store/`], {}, new RegExp(`^mlpipe: http://127\\.0\\.0\\.1:${closed}/store/index\\.json: cannot reach the store \\(ECONNREFUSED\\)$`)],
    ];
    for (const [args, extra, expected] of cases) {
      const run = await cli(args, extra);
      expect(run.code, args.join(' ')).to.equal(1);
      expect(run.stderr.trim().split('\n')).to.have.length(1);
      expect(run.stderr.trim()).to.match(expected);
      expect(run.stderr + run.stdout).to.not.contain('sekrit-value').and.not.contain('S3RVER');
    }
  });
});
