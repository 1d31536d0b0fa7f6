import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { expect } from 'chai';
import { ROOT, buildExampleBundle, cleanupTempDirs, exampleRecords, tempDir } from '../test-helpers/fixtures.js';
import { freePort } from '../test-helpers/http.js';

/** One POST on a connection of its own (so that the cluster's round robin spreads them over the workers). */
function post(port: number, path: string, body: unknown): Promise<{ status: number; worker: string; text: string }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, worker: String(res.headers['x-worker']), text }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('limits under node:cluster without Redis (setupClusterLimits)', function () {
  this.timeout(60_000);
  let child: ChildProcess | undefined;

  after(async () => {
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child?.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    await cleanupTempDirs();
  });

  it('two workers share one request budget and one row budget, kept by the primary', async () => {
    const artifacts = await tempDir();
    const built = await buildExampleBundle({ artifacts, example: 'penguins', trees: 3 });
    const rows = (await exampleRecords('penguins')).map(({ Species: _t, ...rest }) => rest);
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/test-helpers/cluster-limits-server.ts')], {
      cwd: ROOT,
      env: { ...process.env, WORKERS: '2', BUNDLE: built.package.ref, ARTIFACTS: artifacts, PORT: String(port), RATE_LIMIT: '3', ROWS_PER_MINUTE: '10' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    await new Promise<void>((resolve, reject) => {
      child?.stdout?.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve());
      child?.once('exit', (code) => reject(new Error(`the cluster exited (${code}): ${err}`)));
    });

    const singles = [];
    for (let i = 0; i < 6; i++) singles.push(await post(port, '/predict', rows[i]));
    expect(singles.map((r) => r.status)).to.deep.equal([200, 200, 200, 429, 429, 429]);
    // Both workers answered, and the budget was one: the limit is the server's, not each worker's.
    expect(new Set(singles.map((r) => r.worker)).size).to.equal(2);

    const b1 = await post(port, '/predict/batch', { records: rows.slice(0, 6) });
    const b2 = await post(port, '/predict/batch', { records: rows.slice(0, 5) });
    const b3 = await post(port, '/predict/batch', { records: rows.slice(0, 4) });
    expect([b1.status, b2.status, b3.status], `${b1.text}\n${b2.text}\n${b3.text}`).to.deep.equal([200, 429, 200]);
    expect(new Set([b1.worker, b2.worker, b3.worker]).size).to.equal(2);
    expect(err).to.equal('');
  });
});
