import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { type Predictor, type Prediction } from '../core/predictor/predictor.js';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import { ServedModels } from './models.js';
import { ValidationError } from '../core/errors.js';
import { runPipeline } from '../core/pipeline/run.js';
import { cleanupTempDirs, tempDir } from '../test-helpers/fixtures.js';
import { type FixtureUser, fixtureUsers, mongoExport, userRecord } from '../test-helpers/mongo-fixture.js';
import { createApp } from './app.js';

interface Reply {
  status: number;
  body: unknown;
  text: string;
}

interface ErrorBody {
  error: { code: string; message: string; details: { path: string; message: string }[] };
}

async function post(url: string, body: unknown): Promise<Reply> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as unknown, text };
}

function errorOf(r: Reply): ErrorBody['error'] {
  expect(r.status, r.text).to.equal(400);
  return (r.body as ErrorBody).error;
}

describe('serving a model trained on nested records (mongoexport), over HTTP', function () {
  this.timeout(120_000);
  const servers: Server[] = [];
  let model: Predictor;
  let url: string;
  let users: FixtureUser[];

  before(async () => {
    const dir = await tempDir();
    users = fixtureUsers();
    await writeFile(join(dir, 'users.ndjson'), mongoExport(users));
    const run = await runPipeline({
      source: { kind: 'command', command: `cat '${join(dir, 'users.ndjson')}'` },
      target: 'plan',
      name: 'users',
      seed: 7,
      model: { trees: 20 },
      artifacts: join(dir, 'store'),
      defaultArtifacts: join(dir, 'store'),
    });
    model = await loadPredictor(run.package.ref, join(dir, 'store'));
    const registry = new ServedModels();
    registry.add(model);
    registry.ready = true;
    const app = createApp(registry, { rateLimit: 0, batchRateLimit: 0 });
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    servers.push(server);
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await cleanupTempDirs();
  });

  it('the model’s inputs are the flattened names', () => {
    expect(model.transformer.pipeline.inputs.map((i) => i.name).sort()).to.deep.equal(
      ['account.age', 'account.region', 'meta.signup', 'tags', 'usage.hours', 'usage.sessions'].sort(),
    );
  });

  it('one record: the flat and the nested form (Extended JSON, array) get identical predictions', async () => {
    const seen = new Set<unknown>();
    for (const u of users.slice(0, 12)) {
      const flat = await post(`${url}/v1/models/users/predict`, userRecord(u, 'flat'));
      const nested = await post(`${url}/predict`, userRecord(u, 'nested'));
      expect(flat.status, flat.text).to.equal(200);
      expect(nested.status, nested.text).to.equal(200);
      expect(nested.body).to.deep.equal(flat.body);
      seen.add((flat.body as Prediction).prediction);
    }
    // Both classes occur: the comparison is not between two constant answers.
    expect([...seen].sort()).to.deep.equal(['free', 'pro']);
  });

  it('a batch: flat, nested and mixed records get the same predictions as one by one', async () => {
    const some = users.slice(0, 30);
    const flat = await post(`${url}/predict/batch`, { records: some.map((u) => userRecord(u, 'flat')) });
    const nested = await post(`${url}/v1/models/users/predict/batch`, { records: some.map((u) => userRecord(u, 'nested')) });
    const mixed = await post(`${url}/predict/batch`, { records: some.map((u, i) => userRecord(u, i % 2 ? 'flat' : 'nested')) });
    expect(flat.status, flat.text).to.equal(200);
    expect(nested.body).to.deep.equal(flat.body);
    expect(mixed.body).to.deep.equal(flat.body);
    const singles = some.map((u) => model.predictOne(userRecord(u, 'nested')));
    expect((flat.body as { predictions: Prediction[] }).predictions).to.deep.equal(JSON.parse(JSON.stringify(singles)));
  });

  it('canonical Extended JSON in a request is read as the relaxed form', async () => {
    const u = users[3] as FixtureUser;
    const canonical = {
      ...userRecord(u, 'nested'),
      usage: { hours: { $numberDouble: String(u.hours) }, sessions: { $numberInt: String(u.sessions) } },
      account: { region: u.region, age: { $numberLong: String(u.age) } },
      meta: { signup: { $date: { $numberLong: String(Date.parse(u.signup)) } } },
    };
    const a = await post(`${url}/predict`, canonical);
    const b = await post(`${url}/predict`, userRecord(u, 'flat'));
    expect(a.status, a.text).to.equal(200);
    expect(a.body).to.deep.equal(b.body);
  });

  it('an invalid nested value is reported at its nested path; a flat one at its flat name', async () => {
    const u = users[0] as FixtureUser;
    const nested = userRecord(u, 'nested');
    const bad = await post(`${url}/predict`, { ...nested, usage: { hours: 'x', sessions: 1 } });
    expect(errorOf(bad)).to.deep.equal({
      code: 'invalid_input',
      message: 'invalid input: /usage/hours must be number, got "x"',
      details: [{ path: '/usage/hours', message: 'must be number, got "x"' }],
    });
    const flat = await post(`${url}/predict`, { ...userRecord(u, 'flat'), 'usage.hours': 'x' });
    expect(errorOf(flat).details).to.deep.equal([{ path: '/usage.hours', message: 'must be number, got "x"' }]);
  });

  it('batch errors carry /records/<i> and the nested path, for every record at fault', async () => {
    const [a, b, c] = users as [FixtureUser, FixtureUser, FixtureUser];
    const r = await post(`${url}/predict/batch`, {
      records: [
        { ...userRecord(a, 'nested'), usage: { hours: 'x', sessions: 1 } },
        userRecord(b, 'flat'),
        { ...userRecord(c, 'flat'), 'account.age': 'old' },
      ],
    });
    expect(errorOf(r).details).to.deep.equal([
      { path: '/records/0/usage/hours', message: 'must be number, got "x"' },
      { path: '/records/2/account.age', message: 'must be number, got "old"' },
    ]);
  });

  it('a field missing under a nested object is imputed, as when it is null in the flat form', async () => {
    const u = users[0] as FixtureUser;
    const r = await post(`${url}/predict`, { ...userRecord(u, 'nested'), account: { age: u.age } });
    expect(r.status, r.text).to.equal(200);
    const flat = await post(`${url}/predict`, { ...userRecord(u, 'flat'), 'account.region': null });
    expect(flat.status, flat.text).to.equal(200);
    expect(r.body).to.deep.equal(flat.body);
  });

  it('a value the column’s reader refuses (a bad date under a nested key) is reported at the nested path', async () => {
    const u = users[0] as FixtureUser;
    const r = await post(`${url}/predict/batch`, { records: [userRecord(u, 'flat'), { ...userRecord(u, 'nested'), meta: { signup: 'someday' } }] });
    const details = errorOf(r).details;
    expect(details).to.have.length(1);
    expect(details[0]?.path).to.equal('/records/1/meta/signup');
    expect(details[0]?.message).to.contain('"someday"');
  });

  it('a malformed Extended JSON value and two values for one name are 400s naming the path', async () => {
    const u = users[0] as FixtureUser;
    const badDate = await post(`${url}/predict`, { ...userRecord(u, 'nested'), meta: { signup: { $date: 'soon' } } });
    expect(errorOf(badDate).details).to.deep.equal([
      { path: '/meta/signup/$date', message: 'Extended JSON $date must be an ISO 8601 date (like 2024-01-02T03:04:05Z) or {"$numberLong": "<milliseconds>"}, got "soon"' },
    ]);
    const clash = await post(`${url}/predict/batch`, { records: [userRecord(u, 'flat'), { ...userRecord(u, 'nested'), 'usage.hours': 3 }] });
    expect(errorOf(clash).details).to.deep.equal([
      { path: '/records/1/usage.hours', message: 'two values flatten to the name "usage.hours": /usage/hours and /usage.hours; rename one of them' },
    ]);
  });

  it('Predictor.predictOne throws the same nested paths in process (mlpipe predict and the server share it)', () => {
    const u = users[0] as FixtureUser;
    try {
      model.predictOne({ ...userRecord(u, 'nested'), usage: { hours: 'x', sessions: 1 } }, '/7');
      expect.fail('expected a ValidationError');
    } catch (err) {
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).details).to.deep.equal([{ path: '/7/usage/hours', message: 'must be number, got "x"' }]);
    }
  });
});
