import type { Server } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import { ServedModels } from './models.js';
import { buildExampleBundle, cleanupTempDirs, exampleRecords, tempDir } from '../test-helpers/fixtures.js';
import { byScale, countReliability } from '../test-helpers/reliability.js';
import { createApp } from './app.js';

/** Sends raw bytes on a fresh socket and resolves with the status (0 when the server closed without answering). */
function rawStatus(port: number, bytes: Buffer | string): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(bytes));
    let text = '';
    s.setEncoding('latin1').on('data', (d: string) => (text += d));
    s.on('error', () => {});
    s.on('close', () => resolve(Number(text.split(' ')[1]) || 0));
  });
}

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

describe('the server under hostile input and load (reliability)', function () {
  this.timeout(180_000);
  let server: Server;
  let url: string;
  let port: number;
  let row: Record<string, unknown>;

  before(async () => {
    const artifacts = await tempDir();
    const built = await buildExampleBundle({ artifacts, example: 'penguins' });
    const registry = new ServedModels();
    registry.add(await loadPredictor(built.package.ref, artifacts));
    registry.ready = true;
    server = createApp(registry, { rateLimit: 0, batchRateLimit: 0 }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
    url = `http://127.0.0.1:${port}`;
    const { Species: _target, ...rest } = (await exampleRecords('penguins'))[0] as Record<string, unknown>;
    row = rest;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await cleanupTempDirs();
  });

  it('hostile bodies, headers and methods on every predict route: a 4xx each, never a 5xx, and the server still predicts', async () => {
    const deep = (n: number, open: string, close: string) => `${open.repeat(n)}1${close.repeat(n)}`;
    const r = JSON.stringify(row).slice(1, -1);
    const wide = `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    const bodies: string[] = [
      '',
      ' ',
      '\ufeff',
      '{',
      '{"a":}',
      '{"a":1,}',
      '[1,]',
      '"\\x"',
      '"\u0001"',
      '01',
      '1.',
      '-',
      'nul',
      '{} {}',
      deep(5000, '[', ']'),
      deep(5000, '{"a":', '}'),
      `{"records":[${deep(5000, '[', ']')}]}`,
      `{${r},"x":${deep(3000, '{"$regex":', '}')}}`,
      `{${r},"x":{"$date":${deep(3000, '[', ']')}}}`,
      `{${r},"x":[{"$code":${deep(3000, '{"a":', '}')}}]}`,
      wide,
      `{"records":[${wide}]}`,
      `{"records":[${Array.from({ length: 3 }, (_, j) => `{${Array.from({ length: 600 }, (_, i) => `"r${j}k${i}":1`).join(',')}}`).join(',')}]}`,
      '{"records": {}}',
      '{"records": null}',
      '{"records": [null, 1, "x", [], {}]}',
      `{"__proto__": {"Island": 1}, ${r}}`,
      `{${r}, "constructor": {"prototype": 1}}`,
      '{"Island": {"$numberInt": "x"}}',
      `{${r}, "a.b": 1, "a": {"b": 2}}`,
      JSON.stringify({ ...row, Island: 'x'.repeat(100_000) }),
      '\u00ff\u00fe{',
    ];
    const routes = ['/predict', '/predict/batch', '/v1/models/penguins/predict', '/v1/models/penguins/predict/batch', '/v1/models/nope/predict'];
    let requests = 0;
    let fiveXx = 0;
    let cases = 0;
    let passed = 0;
    const check = (what: string, status: number) => {
      cases++;
      requests++;
      if (status >= 500) fiveXx++;
      const ok = status >= 200 && status < 500;
      if (ok) passed++;
      expect(ok, `${what}: ${status}`).to.equal(true);
    };
    const headerSets: Record<string, string>[] = [
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json; charset=latin1' },
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      { 'content-type': 'application/json', 'content-encoding': 'zz' },
    ];
    const rounds = byScale(1, 3);
    for (let round = 0; round < rounds; round++) {
      for (const route of routes) {
        for (const body of bodies) {
          const headers = headerSets[(cases + round) % headerSets.length] as Record<string, string>;
          const res = await fetch(`${url}${route}`, { method: 'POST', headers, body });
          await res.arrayBuffer();
          check(`POST ${route} ${JSON.stringify(headers)} ${body.slice(0, 40)}`, res.status);
        }
        for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) {
          const res = await fetch(`${url}${route}`, { method });
          await res.arrayBuffer();
          check(`${method} ${route}`, res.status);
        }
      }
    }
    // Bodies that are not what their head says, by hand.
    const good = JSON.stringify(row);
    for (const raw of [
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n`,
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`,
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{"a":1}`,
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\nConnection: close\r\n\r\n{}`,
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\nConnection: close\r\n\r\n`,
    ]) {
      const status = await rawStatus(port, raw);
      cases++;
      requests++;
      if (status >= 500) fiveXx++;
      if (status < 500) passed++;
      expect(status, raw).to.be.below(500);
    }
    const gz = zlib.gzipSync(Buffer.from(good)).subarray(0, 15);
    const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gz });
    check('truncated gzip', res.status);
    const alive = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: good });
    expect(alive.status).to.equal(200);
    expect(((await alive.json()) as { prediction: string }).prediction).to.equal('Adelie');
    countReliability('server: hostile bodies, headers and methods', { cases, passed, requests, fiveXx });
    expect(fiveXx).to.equal(0);
  });

  it('single predictions keep their latency while other clients loop big batches', async () => {
    const batchBody = JSON.stringify({ records: Array.from({ length: byScale(5000, 10_000) }, () => row) });
    const single = JSON.stringify(row);
    const post = async (body: string, path: string): Promise<number> => {
      const t0 = performance.now();
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.arrayBuffer();
      expect(res.status).to.equal(200);
      return performance.now() - t0;
    };
    // Idle: singles alone.
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) idle.push(await post(single, '/predict'));
    // Loaded: three clients loop batches while one client sends singles.
    let stop = false;
    const batchTimes: number[] = [];
    const loopers = Array.from({ length: 3 }, async () => {
      while (!stop) batchTimes.push(await post(batchBody, '/predict/batch'));
    });
    while (batchTimes.length === 0) await new Promise((r) => setTimeout(r, 20)); // batches are running
    const loaded: number[] = [];
    const windowEnd = performance.now() + byScale(3000, 15_000);
    while (performance.now() < windowEnd) loaded.push(await post(single, '/predict'));
    stop = true;
    await Promise.all(loopers);
    const report = `singles idle: median ${median(idle).toFixed(1)} ms; under load: ${loaded.length} answered, median ${median(loaded).toFixed(1)} ms, max ${Math.max(...loaded).toFixed(0)} ms; batches: ${batchTimes.length}, median ${median(batchTimes).toFixed(0)} ms`;
    console.log(`      ${report}`);
    countReliability('server: singles during big batches', { cases: 1, passed: median(loaded) < median(batchTimes) / 3 ? 1 : 0, requests: idle.length + loaded.length + batchTimes.length, fiveXx: 0 });
    // A single sent during a batch is answered long before the batch: between its slices, not after it.
    expect(median(loaded), report).to.be.below(median(batchTimes) / 3);
  });
});
