import net from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { type ApiKeyLimits, ApiKeySet, addApiKey, readApiKeys } from '../core/api-keys.js';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import type { Predictor } from '../core/predictor/predictor.js';
import { buildExampleBundle, cleanupTempDirs, exampleRecords, tempDir } from '../test-helpers/fixtures.js';
import { OwnRedis, deletePrefix, limitClient } from '../test-helpers/redis.js';
import { type AppParts, createApp } from './app.js';
import { ApiKeyRing } from './auth.js';
import { ServedModels } from './models.js';
import type { AppOptions } from './options.js';
import { NO_TELEMETRY, type Telemetry } from './telemetry.js';
import { closeServers, listen } from '../test-helpers/http.js';

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: { error?: { code: string; message: string }; predictions?: unknown[]; prediction?: unknown };
}

async function serve(registry: ServedModels, options: Partial<AppOptions> = {}, parts: AppParts = {}): Promise<string> {
  return listen(createApp(registry, options, parts));
}

async function call(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  let body: Reply['body'] = {};
  try {
    body = JSON.parse(text) as Reply['body'];
  } catch {
    // not JSON (e.g. /metrics would be text)
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** A request whose head and part of its body are sent, the rest held back until `finish()`. */
async function heldRequest(url: string, path: string, body: string, headers: Record<string, string> = {}) {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  let data = '';
  socket.setEncoding('latin1').on('data', (d: string) => (data += d));
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body.slice(0, 5)}`);
  return {
    finish: () => socket.write(body.slice(5)),
    /** The status line and the body of the answer, once the connection has closed or a full answer came. */
    answer: async (): Promise<{ status: number; text: string }> => {
      for (let i = 0; i < 300 && !/\r\n\r\n[\s\S]*\}$/.test(data); i++) await Promise.race([closed, new Promise((r) => setTimeout(r, 50))]);
      return { status: Number(data.split(' ')[1]), text: data };
    },
    end: () => socket.destroy(),
  };
}

describe('who may call, and how much (keys, limits, overload, deadline)', function () {
  this.timeout(60_000);

  let artifacts: string;
  let penguins: Predictor;
  let registry: ServedModels;
  let rows: Record<string, unknown>[];
  let keyFile: string;
  const keys: Record<string, string> = {};
  let ring: ApiKeyRing;

  const row = (i: number) => {
    const { Species: _target, ...rest } = rows[i % rows.length] as Record<string, unknown>;
    return rest;
  };
  const batch = (n: number) => ({ records: Array.from({ length: n }, (_, i) => row(i)) });
  const bearer = (name: string) => ({ authorization: `Bearer ${keys[name] as string}` });

  before(async () => {
    artifacts = await tempDir();
    const built = await buildExampleBundle({ artifacts, example: 'penguins', trees: 3 });
    penguins = await loadPredictor(built.package.ref, artifacts);
    registry = new ServedModels();
    registry.add(penguins);
    registry.ready = true;
    rows = await exampleRecords('penguins');
    keyFile = join(artifacts, 'keys.json');
    const limits: Record<string, ApiKeyLimits> = { ci: { rateLimit: 2 }, ops: {}, rows: { rowsPerMinute: 10 }, free: { rowsPerMinute: 0, batchRateLimit: 0, rateLimit: 0 } };
    for (const [name, l] of Object.entries(limits)) keys[name] = (await addApiKey(keyFile, name, l)).key;
    ring = new ApiKeyRing(new ApiKeySet((await readApiKeys(keyFile)).keys));
  });

  after(async () => {
    await closeServers();
    await cleanupTempDirs();
  });

  describe('API keys', () => {
    it('401 unauthorized with WWW-Authenticate for a missing, malformed or unknown key; Bearer and X-API-Key both let a known key in', async () => {
      const url = await serve(registry, {}, { apiKeys: ring });
      const missing = await call(`${url}/predict`, { body: row(0) });
      expect(missing.status).to.equal(401);
      expect(missing.body.error?.code).to.equal('unauthorized');
      expect(missing.headers.get('www-authenticate')).to.equal('Bearer realm="mlpipe"');
      const wrong = `${keys.ops as string}x`;
      const attempts: Record<string, string>[] = [{ authorization: `Bearer ${wrong}` }, { 'x-api-key': wrong }, { authorization: `Basic ${keys.ops as string}` }, { authorization: `Bearer ${keys.ops as string}`, 'x-api-key': keys.ci as string }];
      for (const headers of attempts) {
        const r = await call(`${url}/predict`, { body: row(0), headers });
        expect(r.status, JSON.stringify(headers)).to.equal(401);
        expect(r.body.error?.code).to.equal('unauthorized');
        expect(r.headers.get('www-authenticate')).to.equal('Bearer realm="mlpipe", error="invalid_token"');
        // No error quotes a presented key, right or wrong.
        expect(r.text).to.not.contain(keys.ops as string);
        expect(r.text).to.not.contain(keys.ci as string);
      }
      expect((await call(`${url}/predict`, { body: row(0), headers: bearer('ops') })).status).to.equal(200);
      expect((await call(`${url}/predict`, { body: row(0), headers: { 'x-api-key': keys.ops as string } })).status).to.equal(200);
      expect((await call(`${url}/predict/batch`, { body: batch(3), headers: { authorization: `bearer ${keys.ops as string}` } })).status).to.equal(200);
      // Model listings need a key too; an unknown route says 401, not which routes exist.
      expect((await call(`${url}/v1/models`)).status).to.equal(401);
      expect((await call(`${url}/no/such/route`)).status).to.equal(401);
      expect((await call(`${url}/no/such/route`, { headers: bearer('ops') })).status).to.equal(404);
    });

    it('health, readiness and the public routes answer without a key; near misses need one; publicRoutes [] protects everything', async () => {
      const url = await serve(registry, {}, { apiKeys: ring });
      expect((await call(`${url}/healthz`)).status).to.equal(200);
      expect((await call(`${url}/readyz`)).status).to.equal(200);
      expect((await call(`${url}/v2/health/live`)).status).to.equal(200);
      expect((await call(`${url}/ping`)).status).to.equal(200);
      expect((await call(`${url}/metrics`)).status).to.equal(200);
      expect((await call(`${url}/openapi.json`)).status).to.equal(200);
      // A missing key on a standard protocol's route is refused in that protocol's own error form.
      const v2 = await call(`${url}/v2/models/${registry.default?.name ?? ''}/infer`, { body: { inputs: [] } });
      expect(v2.status).to.equal(401);
      expect(v2.headers.get('www-authenticate')).to.equal('Bearer realm="mlpipe"');
      expect(Object.keys(v2.body)).to.deep.equal(['error']);
      const mlflow = await call(`${url}/invocations`, { body: { instances: [] } });
      expect(mlflow.status).to.equal(401);
      expect((mlflow.body as { error_code?: string }).error_code).to.equal('UNAUTHENTICATED');
      expect((await call(`${url}/healthz/`)).status).to.equal(401);
      expect((await call(`${url}/HEALTHZ`)).status).to.equal(401);
      const locked = await serve(registry, { publicRoutes: [] }, { apiKeys: ring });
      expect((await call(`${locked}/healthz`)).status).to.equal(401);
      expect((await call(`${locked}/healthz`, { headers: bearer('ops') })).status).to.equal(200);
    });

    it('limits are per key NAME (one address, two keys, two budgets), and a key\'s own limits override the server\'s', async () => {
      const url = await serve(registry, { rateLimit: 100 }, { apiKeys: ring });
      const statuses = async (name: string, n: number) => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) out.push((await call(`${url}/predict`, { body: row(i), headers: bearer(name) })).status);
        return out;
      };
      // ci: its own 2 per minute; ops: the server's 100.
      expect(await statuses('ci', 3)).to.deep.equal([200, 200, 429]);
      expect(await statuses('ops', 3)).to.deep.equal([200, 200, 200]);
      const limited = await call(`${url}/predict`, { body: row(0), headers: bearer('ci') });
      expect(limited.body.error?.message).to.contain('the limit is 2 per 60 s');
      expect(Number(limited.headers.get('retry-after'))).to.be.greaterThan(0);
      // 0 in a key's limits: no limit for that key, whatever the server's default.
      const strict = await serve(registry, { rateLimit: 1, batchRateLimit: 1, rowsPerMinute: 1 }, { apiKeys: ring });
      for (let i = 0; i < 3; i++) {
        expect((await call(`${strict}/predict`, { body: row(i), headers: bearer('free') })).status).to.equal(200);
        expect((await call(`${strict}/predict/batch`, { body: batch(5), headers: bearer('free') })).status).to.equal(200);
      }
    });

    it('never logs a key, never puts one in an error: the log holds names only', async () => {
      const logged: string[] = [];
      const url = await serve(registry, { rateLimit: 1, log: (m) => logged.push(m) }, { apiKeys: ring });
      const bodies: string[] = [];
      const attempts: Record<string, string>[] = [bearer('ops'), bearer('ops'), { 'x-api-key': `${keys.ci as string}0` }, { ...bearer('ops'), 'x-forwarded-for': '203.0.113.9' }];
      for (const headers of attempts) {
        bodies.push((await call(`${url}/predict`, { body: { bill_length_mm: 'not a number' }, headers })).text);
        bodies.push((await call(`${url}/v1/models/nope/predict`, { body: row(0), headers })).text);
      }
      const everything = [...bodies, ...logged].join('\n');
      for (const key of Object.values(keys)) expect(everything).to.not.contain(key);
      for (const key of Object.values(keys)) expect(everything).to.not.contain(key.slice(4, 20));
      expect(bodies.some((b) => b.includes('rate_limited'))).to.equal(true);
    });
  });

  describe('row budget (chargeRows)', () => {
    it('a batch costs its records: all or nothing, 429 rate_limited with Retry-After; too big for any budget says so', async () => {
      const url = await serve(registry, { rowsPerMinute: 10 });
      expect((await call(`${url}/predict/batch`, { body: batch(6) })).status).to.equal(200);
      const over = await call(`${url}/predict/batch`, { body: batch(5) });
      expect(over.status).to.equal(429);
      expect(over.body.error?.code).to.equal('rate_limited');
      expect(over.body.error?.message).to.contain('4 of this client');
      expect(Number(over.headers.get('retry-after'))).to.be.within(1, 60);
      // The refused 5 took nothing: 4 still fit.
      expect((await call(`${url}/v1/models/penguins/predict/batch`, { body: batch(4) })).status).to.equal(200);
      expect((await call(`${url}/predict/batch`, { body: batch(1) })).status).to.equal(429);
      // Single-record routes are limited by requests, not rows.
      expect((await call(`${url}/predict`, { body: row(0) })).status).to.equal(200);
      const huge = await serve(registry, { rowsPerMinute: 10 });
      const r = await call(`${huge}/predict/batch`, { body: batch(11) });
      expect(r.status).to.equal(429);
      expect(r.body.error?.message).to.contain('smaller batches');
    });

    it("a key's own row budget applies to that key only", async () => {
      const url = await serve(registry, { rowsPerMinute: 1000 }, { apiKeys: ring });
      expect((await call(`${url}/predict/batch`, { body: batch(10), headers: bearer('rows') })).status).to.equal(200);
      expect((await call(`${url}/predict/batch`, { body: batch(1), headers: bearer('rows') })).status).to.equal(429);
      expect((await call(`${url}/predict/batch`, { body: batch(50), headers: bearer('ops') })).status).to.equal(200);
    });
  });

  describe('overload and time', () => {
    it('maxInflight: past N requests in progress, 503 overloaded with Retry-After; health still answers; the slot frees when the request ends', async () => {
      const url = await serve(registry, { maxInflight: 1 });
      const body = JSON.stringify(row(0));
      const held = await heldRequest(url, '/predict', body);
      // The held request is in progress (its head is parsed); give the server a moment to see it.
      let over: Reply | undefined;
      for (let i = 0; i < 50; i++) {
        over = await call(`${url}/predict`, { body: row(1) });
        if (over.status === 503) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(over?.status).to.equal(503);
      expect(over?.body.error?.code).to.equal('overloaded');
      expect(over?.headers.get('retry-after')).to.equal('1');
      expect((await call(`${url}/healthz`)).status).to.equal(200);
      held.finish();
      expect((await held.answer()).status).to.equal(200);
      held.end();
      expect((await call(`${url}/predict`, { body: row(1) })).status).to.equal(200);
    });

    it('requestDeadlineMs: a request not answered in time gets 503 timeout; a batch past it stops between slices (work abandoned)', async () => {
      const url = await serve(registry, { requestDeadlineMs: 300 });
      const held = await heldRequest(url, '/predict', JSON.stringify(row(0)));
      const answer = await held.answer();
      held.end();
      expect(answer.status).to.equal(503);
      expect(answer.text).to.contain('"code":"timeout"');
      expect(answer.text.toLowerCase()).to.contain('connection: close');

      // A slow model: every slice of a batch takes 120 ms, so 2,000 records (8 slices) take ~1 s.
      const slow = await loadPredictor(penguins.ref, artifacts);
      let slices = 0;
      // A big batch is featurized a slice at a time (server/predict.ts), the forest's work then off the loop.
      const featurizeRows = slow.featurizeRows.bind(slow);
      slow.featurizeRows = (records, rowPath) => {
        slices++;
        const until = Date.now() + 120;
        while (Date.now() < until);
        return featurizeRows(records, rowPath);
      };
      const slowModels = new ServedModels();
      slowModels.add(slow);
      slowModels.ready = true;
      let predicted = 0;
      const telemetry: Telemetry = { ...NO_TELEMETRY, predicted: () => predicted++ };
      const slowUrl = await serve(slowModels, { requestDeadlineMs: 300 }, { telemetry });
      const r = await call(`${slowUrl}/predict/batch`, { body: batch(2000) });
      expect(r.status).to.equal(503);
      expect(r.body.error?.code).to.equal('timeout');
      // Give abandoned work time to run on, if it (wrongly) did.
      await new Promise((res) => setTimeout(res, 1200));
      expect(slices).to.be.below(8);
      expect(predicted).to.equal(0);
      // The server still answers.
      expect((await call(`${slowUrl}/predict`, { body: row(0) })).status).to.equal(200);
    });
  });

  describe('shared limits in Redis', () => {
    let shared: Redis;
    const prefix = `mlpipe-test-access-${process.pid}-${Date.now()}:`;

    before(async () => {
      shared = await limitClient('redis://127.0.0.1:6379');
    });
    after(async () => {
      await deletePrefix(shared, prefix);
      shared.disconnect();
    });

    it('two app instances on one Redis share one request budget and one row budget', async () => {
      const other = await limitClient('redis://127.0.0.1:6379');
      try {
        const a = await serve(registry, { rateLimit: 3, rowsPerMinute: 10, redisPrefix: prefix }, { redis: shared });
        const b = await serve(registry, { rateLimit: 3, rowsPerMinute: 10, redisPrefix: prefix }, { redis: other });
        const statuses: number[] = [];
        for (const url of [a, b, a, b]) statuses.push((await call(`${url}/predict`, { body: row(0) })).status);
        expect(statuses).to.deep.equal([200, 200, 200, 429]);
        expect((await call(`${a}/predict/batch`, { body: batch(7) })).status).to.equal(200);
        const refused = await call(`${b}/predict/batch`, { body: batch(4) });
        expect(refused.status).to.equal(429);
        expect(refused.body.error?.message).to.contain('3 of this client');
        expect((await call(`${b}/predict/batch`, { body: batch(3) })).status).to.equal(200);
        const stored = await shared.keys(`${prefix}*`);
        expect(stored.length).to.be.greaterThan(0);
        // Keys in Redis hold the client (address here), never more.
        for (const k of stored) expect(k).to.match(/:(single|batch|rows):(ip|key):/);
      } finally {
        other.disconnect();
      }
    });

    it('Redis killed mid-traffic: fails OPEN with one log line and a counted error per request; limits work again once it is back', async () => {
      const redis = await OwnRedis.start();
      const client = await limitClient(redis.url);
      const logged: string[] = [];
      const failures: [string, boolean][] = [];
      const telemetry: Telemetry = { ...NO_TELEMETRY, limitStoreError: (reason, open) => failures.push([reason, open]) };
      try {
        const url = await serve(registry, { rateLimit: 2, rowsPerMinute: 5, redisPrefix: prefix, redisWhere: redis.url, log: (m) => logged.push(m) }, { redis: client, telemetry });
        expect((await call(`${url}/predict`, { body: row(0) })).status).to.equal(200);
        await redis.kill();
        const during: number[] = [];
        for (let i = 0; i < 5; i++) during.push((await call(`${url}/predict`, { body: row(i) })).status);
        during.push((await call(`${url}/predict/batch`, { body: batch(20) })).status);
        expect(during).to.deep.equal([200, 200, 200, 200, 200, 200]);
        const outage = logged.filter((l) => l.includes('failed'));
        expect(outage, logged.join('\n')).to.have.length(1);
        expect(outage[0]).to.contain('failing OPEN');
        expect(failures.length).to.be.at.least(6);
        expect(failures.every(([reason, open]) => open && ['unreachable', 'timeout', 'error'].includes(reason))).to.equal(true);

        await redis.start();
        let back: number[] = [];
        for (let attempt = 0; attempt < 40; attempt++) {
          back = [];
          for (let i = 0; i < 3; i++) back.push((await call(`${url}/predict`, { body: row(i) })).status);
          if (back.includes(429)) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        // The fresh Redis has no counts: 2 pass, the third is limited.
        expect(back.slice(-1)).to.deep.equal([429]);
        expect(logged.some((l) => l.includes('answers again'))).to.equal(true);
      } finally {
        client.disconnect();
        await redis.kill();
      }
    });

    it('Redis down when the app is made, up later: the limits start working once it answers (the stores initialize again)', async () => {
      const redis = await OwnRedis.start();
      await redis.kill();
      const client = await limitClient(redis.url).catch(() => undefined);
      expect(client).to.equal(undefined);
      const lazy = new (await import('ioredis')).Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000, retryStrategy: (t: number) => Math.min(100 * t, 300) });
      lazy.on('error', () => {});
      await lazy.connect().catch(() => {});
      try {
        const url = await serve(registry, { rateLimit: 2, redisPrefix: prefix }, { redis: lazy });
        expect((await call(`${url}/predict`, { body: row(0) })).status).to.equal(200);
        await redis.start();
        let statuses: number[] = [];
        for (let attempt = 0; attempt < 40 && !statuses.includes(429); attempt++) {
          statuses = [];
          for (let i = 0; i < 3; i++) statuses.push((await call(`${url}/predict`, { body: row(i) })).status);
          if (!statuses.includes(429)) await new Promise((r) => setTimeout(r, 250));
        }
        expect(statuses).to.include(429);
      } finally {
        lazy.disconnect();
        await redis.kill();
      }
    });

    it('--redis-failure closed: 503 limits_unavailable with Retry-After while Redis is down, 200 again once it is back', async () => {
      const redis = await OwnRedis.start();
      const client = await limitClient(redis.url);
      const logged: string[] = [];
      try {
        const url = await serve(registry, { rateLimit: 100, redisPrefix: prefix, redisFailure: 'closed', log: (m) => logged.push(m) }, { redis: client });
        expect((await call(`${url}/predict`, { body: row(0) })).status).to.equal(200);
        await redis.kill();
        for (const [path, body] of [['/predict', row(0)], ['/predict/batch', batch(2)]] as const) {
          const r = await call(`${url}${path}`, { body });
          expect(r.status, path).to.equal(503);
          expect(r.body.error?.code).to.equal('limits_unavailable');
          expect(r.headers.get('retry-after')).to.equal('5');
        }
        expect((await call(`${url}/healthz`)).status).to.equal(200);
        expect(logged.filter((l) => l.includes('failing CLOSED'))).to.have.length(1);
        await redis.start();
        let status = 0;
        for (let attempt = 0; attempt < 40 && status !== 200; attempt++) {
          status = (await call(`${url}/predict`, { body: row(0) })).status;
          if (status !== 200) await new Promise((r) => setTimeout(r, 250));
        }
        expect(status).to.equal(200);
      } finally {
        client.disconnect();
        await redis.kill();
      }
    });
  });
});
