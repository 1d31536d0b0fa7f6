import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { type Predictor, type Prediction } from '../core/predictor/predictor.js';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import { ServedModels } from './models.js';
import { readPipelineConfig } from '../core/pipeline/config.js';
import { runPipeline } from '../core/pipeline/run.js';
import { buildExampleBundle, cleanupTempDirs, exampleRecords, tempDir } from '../test-helpers/fixtures.js';
import { type Reply, closeServers, listen, reply } from '../test-helpers/http.js';
import { createApp } from './app.js';
import type { AppOptions } from './options.js';

interface ErrorBody {
  error: { code: string; message: string; details: { path: string; message: string }[] };
}

interface PredictBody extends Prediction {
  model: { name: string; version: string };
}

interface BatchBody {
  predictions: Prediction[];
  model: { name: string; version: string };
}

/** Serves an app for `registry` on 127.0.0.1 (any free port) and returns its base URL. */
async function serve(registry: ServedModels, options: Partial<AppOptions> = {}): Promise<string> {
  return listen(createApp(registry, options));
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return reply(await fetch(url, { headers }));
}

/** POSTs `body` as JSON (a string is sent as is, so it may be invalid JSON). */
async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return reply(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

/** Asserts the one error shape `{"error": {"code", "message", "details"}}` and returns it. */
function expectError(r: Reply, status: number, code: string): ErrorBody['error'] {
  expect(r.status, r.text).to.equal(status);
  expect(r.headers.get('content-type')).to.match(/^application\/json/);
  expect(r.body).to.be.an('object').with.all.keys('error');
  const error = (r.body as ErrorBody).error;
  expect(error).to.have.all.keys('code', 'message', 'details');
  expect(error.code).to.equal(code);
  expect(error.message).to.be.a('string').that.is.not.empty;
  expect(error.details).to.be.an('array');
  for (const d of error.details) {
    expect(d).to.have.all.keys('path', 'message');
    expect(d.path).to.be.a('string');
    expect(d.message).to.be.a('string').that.is.not.empty;
  }
  return error;
}

function paths(error: ErrorBody['error']): string[] {
  return error.details.map((d) => d.path);
}

function sumOf(probabilities: Record<string, number> | undefined): number {
  return Object.values(probabilities ?? {}).reduce((a, b) => a + b, 0);
}

/** JSON round trip, so core results compare with what came over HTTP. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe('server app over HTTP', function () {
  this.timeout(120_000);

  let artifacts: string;
  let penguins: Predictor;
  let cars: Predictor;
  let odd: Predictor;
  let registry: ServedModels;
  let url: string;
  let oddUrl: string;
  let notReadyUrl: string;
  let penguinRows: Record<string, unknown>[];
  let carRows: Record<string, unknown>[];

  /** A penguin row without its target column, as a client sends it. */
  const penguinRow = (i: number): Record<string, unknown> => {
    const { Species: _target, ...rest } = penguinRows[i] as Record<string, unknown>;
    return rest;
  };
  const carRow = (i: number): Record<string, unknown> => {
    const { Miles_per_Gallon: _target, ...rest } = carRows[i] as Record<string, unknown>;
    return rest;
  };

  before(async () => {
    artifacts = await tempDir();
    const p = await buildExampleBundle({ artifacts, example: 'penguins' });
    const c = await buildExampleBundle({ artifacts, example: 'cars' });
    penguins = await loadPredictor(p.package.ref, artifacts);
    cars = await loadPredictor(c.package.ref, artifacts);
    registry = new ServedModels();
    registry.add(penguins);
    registry.add(cars);
    registry.ready = true;
    url = await serve(registry);

    const notReady = new ServedModels();
    notReady.add(penguins);
    notReady.add(cars);
    notReadyUrl = await serve(notReady);

    // Column names with "/" and "~" (escaped in JSON Pointers as ~1 and ~0, RFC 6901).
    const lines = ['size/weight,tag~x,label'];
    for (let i = 0; i < 40; i++) lines.push(`${(i % 10) + 0.5},${i % 3 === 0 ? 'a' : 'b'},${i < 20 ? 'small' : 'big'}`);
    const csv = join(artifacts, 'odd.csv');
    await writeFile(csv, `${lines.join('\n')}\n`);
    // Both inputs required by the config (features.required), so that a missing one is refused.
    const configFile = join(artifacts, 'odd.yaml');
    await writeFile(configFile, 'source: odd.csv\ntarget: label\nfeatures:\n  required: [size/weight, "tag~x"]\n');
    const o = await runPipeline({ config: await readPipelineConfig(configFile), name: 'odd', seed: 1, model: { trees: 5 }, artifacts, defaultArtifacts: artifacts });
    odd = await loadPredictor(o.package.ref, artifacts);
    const oddRegistry = new ServedModels();
    oddRegistry.add(odd);
    oddRegistry.ready = true;
    oddUrl = await serve(oddRegistry);

    penguinRows = await exampleRecords('penguins');
    carRows = await exampleRecords('cars');
  });

  after(async () => {
    await closeServers();
    await cleanupTempDirs();
  });

  describe('health and readiness', () => {
    it('GET /healthz answers 200 {"status": "ok"}', async () => {
      const r = await get(`${url}/healthz`);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal({ status: 'ok' });
    });

    it('GET /healthz answers 200 even when the models are not ready (liveness)', async () => {
      const r = await get(`${notReadyUrl}/healthz`);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal({ status: 'ok' });
    });

    it('GET /readyz answers 200 with the served models when ready', async () => {
      const r = await get(`${url}/readyz`);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal({ status: 'ready', models: ['penguins@1.0.0', 'cars-mpg@1.0.0'] });
    });

    it('GET /readyz answers 503 not_ready with Retry-After while not ready', async () => {
      const r = await get(`${notReadyUrl}/readyz`);
      expectError(r, 503, 'not_ready');
      expect(r.headers.get('retry-after')).to.match(/^\d+$/);
      expect(Number(r.headers.get('retry-after'))).to.be.greaterThan(0);
    });

    it('GET /readyz follows registry.ready as it changes', async () => {
      registry.ready = false;
      try {
        expectError(await get(`${url}/readyz`), 503, 'not_ready');
      } finally {
        registry.ready = true;
      }
      expect((await get(`${url}/readyz`)).status).to.equal(200);
    });
  });

  describe('GET /v1/models/:name/report', () => {
    it('serves the bundle\'s report.html, byte for byte, with a CSP that allows no script', async () => {
      const r = await get(`${url}/v1/models/cars-mpg/report`);
      expect(r.status).to.equal(200);
      expect(r.headers.get('content-type')).to.match(/^text\/html/);
      expect(r.headers.get('content-security-policy')).to.equal("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
      expect(r.text).to.equal(await readFile(join(cars.dir, 'report.html'), 'utf8'));
      expect(r.text).to.include('<h1>cars-mpg@1.0.0</h1>');
    });

    it('answers 404 for an unknown model and 405 for a POST', async () => {
      expectError(await get(`${url}/v1/models/nope/report`), 404, 'not_found');
      expectError(await post(`${url}/v1/models/penguins/report`, {}), 405, 'method_not_allowed');
    });
  });

  describe('GET /v1/models', () => {
    it('lists both models with version, task, default flag, metrics and links', async () => {
      const r = await get(`${url}/v1/models`);
      expect(r.status).to.equal(200);
      const { models } = r.body as { models: Record<string, unknown>[] };
      expect(models.map((m) => m.name)).to.deep.equal(['penguins', 'cars-mpg']);
      const [p, c] = models as [Record<string, unknown>, Record<string, unknown>];

      expect(p).to.include({ name: 'penguins', version: '1.0.0', default: true, task: 'classification', target: 'Species' });
      expect(p.classes).to.deep.equal(['Adelie', 'Chinstrap', 'Gentoo']);
      expect(p.createdAt).to.equal(penguins.manifest.createdAt);
      const pm = p.metrics as { accuracy: number; macroF1: number };
      expect(pm).to.have.all.keys('accuracy', 'macroF1');
      const holdout = penguins.manifest.metrics.holdout?.model as { accuracy: number; macroF1: number };
      expect(pm).to.deep.equal({ accuracy: holdout.accuracy, macroF1: holdout.macroF1 });
      expect(pm.accuracy).to.be.within(0, 1);
      expect(p.links).to.deep.equal({
        self: '/v1/models/penguins',
        predict: '/v1/models/penguins/predict',
        batch: '/v1/models/penguins/predict/batch',
        report: '/v1/models/penguins/report',
      });

      expect(c).to.include({ name: 'cars-mpg', version: '1.0.0', default: false, task: 'regression', target: 'Miles_per_Gallon' });
      expect(c).to.not.have.property('classes');
      const cm = c.metrics as { r2: number; rmse: number; mae: number };
      expect(cm).to.have.all.keys('r2', 'rmse', 'mae');
      const ch = cars.manifest.metrics.holdout?.model as { r2: number; rmse: number; mae: number };
      expect(cm).to.deep.equal({ r2: ch.r2, rmse: ch.rmse, mae: ch.mae });
      expect(cm.rmse).to.be.greaterThan(0);
    });

    it('GET /v1/models/:name gives the input schema and the details of one model', async () => {
      const r = await get(`${url}/v1/models/penguins`);
      expect(r.status).to.equal(200);
      const body = r.body as Record<string, unknown>;
      expect(body).to.include({ name: 'penguins', version: '1.0.0', default: true, task: 'classification' });
      expect(body.inputSchema).to.deep.equal(plain(penguins.manifest.inputSchema));
      const schema = body.inputSchema as { type: string; properties: Record<string, unknown>; required: string[] };
      expect(schema.type).to.equal('object');
      expect(Object.keys(schema.properties)).to.have.members(['Island', 'Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)', 'Sex']);
      // Every input is optional (a missing value is imputed) unless the config marks it required.
      expect(schema.required).to.deep.equal([]);
      expect(body.evaluation).to.deep.equal(plain(penguins.manifest.metrics));
      expect(body).to.include.keys('model', 'featurizer', 'lineage');

      const rc = await get(`${url}/v1/models/cars-mpg`);
      expect(rc.status).to.equal(200);
      const carsBody = rc.body as Record<string, unknown>;
      expect(carsBody).to.include({ name: 'cars-mpg', default: false, task: 'regression' });
      expect((carsBody.inputSchema as { required: string[] }).required).to.deep.equal([]);
      expect(((await get(`${oddUrl}/v1/models/odd`)).body as { inputSchema: { required: string[] } }).inputSchema.required).to.deep.equal(['size/weight', 'tag~x']);
    });

    it('GET /v1/models/:name answers 404 JSON for an unknown name, listing the served ones', async () => {
      const e = expectError(await get(`${url}/v1/models/nope`), 404, 'not_found');
      expect(e.message).to.contain('"nope"').and.contain('penguins').and.contain('cars-mpg');
      expect(e.details).to.deep.equal([]);
    });
  });

  describe('POST predict (one record)', () => {
    it('classification: prediction, probabilities summing to 1 and the model, equal to the core', async () => {
      for (const i of [0, 1, 150, 300]) {
        const record = penguinRow(i);
        const r = await post(`${url}/v1/models/penguins/predict`, record);
        expect(r.status, r.text).to.equal(200);
        const body = r.body as PredictBody;
        expect(body).to.have.all.keys('prediction', 'probabilities', 'model');
        expect(body.model).to.deep.equal({ name: 'penguins', version: '1.0.0' });
        expect(['Adelie', 'Chinstrap', 'Gentoo']).to.include(body.prediction);
        expect(Object.keys(body.probabilities ?? {})).to.have.members(['Adelie', 'Chinstrap', 'Gentoo']);
        expect(sumOf(body.probabilities)).to.be.closeTo(1, 1e-9);
        const { model: _model, ...prediction } = body;
        expect(prediction).to.deep.equal(plain(penguins.predictOne(record)));
      }
    });

    it('POST /predict uses the default (first added) model', async () => {
      const record = penguinRow(200);
      const named = await post(`${url}/v1/models/penguins/predict`, record);
      const dflt = await post(`${url}/predict`, record);
      expect(dflt.status, dflt.text).to.equal(200);
      expect((dflt.body as PredictBody).model).to.deep.equal({ name: 'penguins', version: '1.0.0' });
      expect(dflt.body).to.deep.equal(named.body);
    });

    it('regression: a number and no probabilities', async () => {
      const record = carRow(10);
      const r = await post(`${url}/v1/models/cars-mpg/predict`, record);
      expect(r.status, r.text).to.equal(200);
      const body = r.body as PredictBody;
      expect(body).to.have.all.keys('prediction', 'model');
      expect(body.prediction).to.be.a('number');
      expect(body.model).to.deep.equal({ name: 'cars-mpg', version: '1.0.0' });
      expect(body.prediction).to.equal(cars.predictOne(record).prediction);
    });

    it('accepts an unknown category and missing optional values, as the core does', async () => {
      const base = penguinRow(0);
      const { Sex: _sex, 'Body Mass (g)': _mass, ...absent } = base;
      const cases: Record<string, unknown>[] = [
        { ...base, Island: 'Atlantis' },
        { ...base, Sex: null, 'Beak Depth (mm)': null },
        absent,
        { Island: 'Atlantis' },
        { ...base, id: 'client-id-42' },
      ];
      for (const record of cases) {
        const r = await post(`${url}/v1/models/penguins/predict`, record);
        expect(r.status, `${JSON.stringify(record)}: ${r.text}`).to.equal(200);
        const { model: _model, ...prediction } = r.body as PredictBody;
        expect(prediction).to.deep.equal(plain(penguins.predictOne(record)));
        expect(sumOf(prediction.probabilities)).to.be.closeTo(1, 1e-9);
      }
    });

    it('accepts a possible date (1980-02-29, a leap day) for the cars model', async () => {
      const record = { ...carRow(0), Year: '1980-02-29' };
      const r = await post(`${url}/v1/models/cars-mpg/predict`, record);
      expect(r.status, r.text).to.equal(200);
      expect((r.body as PredictBody).prediction).to.equal(cars.predictOne(record).prediction);
    });
  });

  describe('POST predict/batch', () => {
    it('predicts in input order, equal to single-record predictions of the same records', async () => {
      const indexes = [0, 3, 17, 60, 151, 152, 220, 277, 299, 343, 1];
      const records = indexes.map(penguinRow);
      const r = await post(`${url}/v1/models/penguins/predict/batch`, { records });
      expect(r.status, r.text).to.equal(200);
      const body = r.body as BatchBody;
      expect(body).to.have.all.keys('predictions', 'model');
      expect(body.model).to.deep.equal({ name: 'penguins', version: '1.0.0' });
      expect(body.predictions).to.have.length(records.length);
      for (const [i, record] of records.entries()) {
        const single = await post(`${url}/v1/models/penguins/predict`, record);
        expect(single.status, single.text).to.equal(200);
        const { model: _model, ...one } = single.body as PredictBody;
        expect(body.predictions[i], `record ${i}`).to.deep.equal(one);
        expect(body.predictions[i]).to.deep.equal(plain(penguins.predictOne(record)));
      }
      // More than one class among the rows: the order check means something.
      expect(new Set(body.predictions.map((p) => p.prediction)).size).to.be.greaterThan(1);
    });

    it('POST /predict/batch uses the default model', async () => {
      const records = [5, 160, 290].map(penguinRow);
      const named = await post(`${url}/v1/models/penguins/predict/batch`, { records });
      const dflt = await post(`${url}/predict/batch`, { records });
      expect(dflt.status, dflt.text).to.equal(200);
      expect(dflt.body).to.deep.equal(named.body);
    });

    it('accepts unknown categories and null / absent optional values, as Predictor.predictOne does', async () => {
      const base = penguinRow(160);
      const { Sex: _sex, 'Flipper Length (mm)': _f, ...absent } = base;
      const records: Record<string, unknown>[] = [
        { ...base, Island: 'Atlantis' },
        { ...base, Sex: null },
        absent,
        { Island: 'Atlantis', 'Beak Length (mm)': null },
        base,
      ];
      const r = await post(`${url}/predict/batch`, { records });
      expect(r.status, r.text).to.equal(200);
      const { predictions } = r.body as BatchBody;
      expect(predictions).to.deep.equal(plain(records.map((rec) => penguins.predictOne(rec))));
    });

    it('regression batch: numbers in order, no probabilities, equal to single predictions', async () => {
      const records = [0, 50, 150, 300, 400].map(carRow);
      const r = await post(`${url}/v1/models/cars-mpg/predict/batch`, { records });
      expect(r.status, r.text).to.equal(200);
      const body = r.body as BatchBody;
      expect(body.model).to.deep.equal({ name: 'cars-mpg', version: '1.0.0' });
      for (const [i, p] of body.predictions.entries()) {
        expect(p).to.have.all.keys('prediction');
        expect(p.prediction).to.be.a('number');
        const single = await post(`${url}/v1/models/cars-mpg/predict`, records[i]);
        expect(p.prediction).to.equal((single.body as PredictBody).prediction);
      }
    });

    it('an empty batch gives no predictions', async () => {
      const r = await post(`${url}/predict/batch`, { records: [] });
      expect(r.status, r.text).to.equal(200);
      expect((r.body as BatchBody).predictions).to.deep.equal([]);
    });
  });

  describe('400 invalid input', () => {
    it('invalid JSON body', async () => {
      for (const route of ['/predict', '/predict/batch', '/v1/models/penguins/predict']) {
        const e = expectError(await post(`${url}${route}`, '{"Island": '), 400, 'invalid_json');
        expect(e.message).to.match(/not valid JSON/);
        expect(e.details).to.deep.equal([]);
      }
    });

    it('a record that is not a JSON object (single)', async () => {
      for (const body of ['[1, 2]', '42', '"Torgersen"', 'null']) {
        const e = expectError(await post(`${url}/predict`, body), 400, 'invalid_input');
        expect(paths(e), body).to.deep.equal(['']);
      }
    });

    it('a record that is not a JSON object (batch), with its path', async () => {
      const e = expectError(await post(`${url}/predict/batch`, { records: [penguinRow(0), 42, penguinRow(1), null, ['x']] }), 400, 'invalid_input');
      expect(paths(e)).to.deep.equal(['/records/1', '/records/3', '/records/4']);
      for (const d of e.details) expect(d.message).to.match(/must be a JSON object/);
    });

    it('a batch without a "records" array', async () => {
      for (const body of ['{}', '{"records": {}}', '{"records": "x"}', `[${JSON.stringify(penguinRow(0))}]`, 'null', '3']) {
        const e = expectError(await post(`${url}/v1/models/penguins/predict/batch`, body), 400, 'invalid_input');
        expect(paths(e), body).to.deep.equal(['/records']);
      }
    });

    it('invalid field types: every problem listed with its exact JSON path (batch)', async () => {
      const records = [0, 1, 2, 4, 5].map(penguinRow);
      records[1] = { ...records[1], 'Beak Length (mm)': 'long' };
      records[3] = { ...records[3], 'Beak Length (mm)': 'x', 'Body Mass (g)': true, Island: 5 };
      records[4] = { ...records[4], Sex: 1 };
      const e = expectError(await post(`${url}/predict/batch`, { records }), 400, 'invalid_input');
      expect(paths(e)).to.have.members([
        '/records/1/Beak Length (mm)',
        '/records/3/Island',
        '/records/3/Beak Length (mm)',
        '/records/3/Body Mass (g)',
        '/records/4/Sex',
      ]);
      expect(e.details).to.have.length(5);
      const at = (p: string) => e.details.find((d) => d.path === p)?.message ?? '';
      expect(at('/records/1/Beak Length (mm)')).to.match(/must be number/).and.contain('"long"');
      expect(at('/records/3/Body Mass (g)')).to.match(/must be number/).and.contain('true');
      expect(at('/records/3/Island')).to.match(/must be string/);
      expect(e.message).to.contain('/records/1/Beak Length (mm)');
    });

    it('invalid field types: every problem listed with its exact JSON path (single)', async () => {
      const record = { ...penguinRow(0), 'Flipper Length (mm)': '181mm', 'Beak Depth (mm)': [18.7] };
      const e = expectError(await post(`${url}/v1/models/penguins/predict`, record), 400, 'invalid_input');
      expect(paths(e)).to.have.members(['/Beak Depth (mm)', '/Flipper Length (mm)']);
      expect(e.details).to.have.length(2);
    });

    it('a field complete in training, missing (absent or null) in a request, is imputed: single and batch agree', async () => {
      const { Island: _island, ...absent } = penguinRow(0);
      const one = await post(`${url}/predict`, absent);
      expect(one.status, one.text).to.equal(200);
      const nulled = await post(`${url}/predict`, { ...penguinRow(0), Island: null });
      expect(nulled.body).to.deep.equal(one.body);
      const { model: _model, ...prediction } = one.body as PredictBody;
      expect(prediction).to.deep.equal(plain(penguins.predictOne(absent)));
      const batch = await post(`${url}/predict/batch`, { records: [penguinRow(1), absent] });
      expect(batch.status, batch.text).to.equal(200);
      expect((batch.body as { predictions: unknown[] }).predictions[1]).to.deep.equal(prediction);

      const cars1 = await post(`${url}/v1/models/cars-mpg/predict/batch`, { records: [carRow(0), { ...carRow(1), Weight_in_lbs: null }] });
      expect(cars1.status, cars1.text).to.equal(200);
    });

    it('a field the config marks required (features.required): absent or null is a 400 at its path', async () => {
      const e = expectError(await post(`${oddUrl}/predict`, { 'tag~x': 'a' }), 400, 'invalid_input');
      expect(e.details).to.deep.equal([{ path: '/size~1weight', message: 'is required (this model needs a value here)' }]);
      const n = expectError(await post(`${oddUrl}/predict`, { 'size/weight': null, 'tag~x': 'a' }), 400, 'invalid_input');
      expect(n.details).to.deep.equal([{ path: '/size~1weight', message: 'must not be null (this model needs a value here)' }]);
      const eb = expectError(await post(`${oddUrl}/predict/batch`, { records: [{ 'size/weight': 1, 'tag~x': 'a' }, { 'size/weight': 1 }] }), 400, 'invalid_input');
      expect(eb.details).to.deep.equal([{ path: '/records/1/tag~0x', message: 'is required (this model needs a value here)' }]);
    });

    it('property names with "/" and "~" are escaped as ~1 and ~0 (RFC 6901)', async () => {
      const e = expectError(await post(`${oddUrl}/predict`, { 'size/weight': 'heavy', 'tag~x': { nested: true } }), 400, 'invalid_input');
      expect(paths(e)).to.have.members(['/size~1weight', '/tag~0x']);
      expect(e.details).to.have.length(2);
      const missing = expectError(await post(`${oddUrl}/predict`, {}), 400, 'invalid_input');
      expect(paths(missing)).to.have.members(['/size~1weight', '/tag~0x']);
      expect(missing.details).to.have.length(2);
      const batch = expectError(
        await post(`${oddUrl}/predict/batch`, { records: [{ 'size/weight': 2.5, 'tag~x': 'a' }, { 'size/weight': null, 'tag~x': null }, { 'tag~x': 'b' }] }),
        400,
        'invalid_input',
      );
      expect(paths(batch)).to.have.members(['/records/1/size~1weight', '/records/1/tag~0x', '/records/2/size~1weight']);
      expect(batch.details).to.have.length(3);
      const ok = await post(`${oddUrl}/predict`, { 'size/weight': 2.5, 'tag~x': 'a' });
      expect(ok.status, ok.text).to.equal(200);
    });

    it('an impossible date (1980-02-30) for the cars model Year column: /Year and /records/N/Year', async () => {
      const bad = { ...carRow(0), Year: '1980-02-30' };
      const e = expectError(await post(`${url}/v1/models/cars-mpg/predict`, bad), 400, 'invalid_input');
      expect(paths(e)).to.deep.equal(['/Year']);
      expect(e.details[0]?.message).to.contain('1980-02-30');

      const eb = expectError(await post(`${url}/v1/models/cars-mpg/predict/batch`, { records: [carRow(0), carRow(1), bad] }), 400, 'invalid_input');
      expect(paths(eb)).to.deep.equal(['/records/2/Year']);
    });

    it('a date that does not look like a date is refused by the schema with its path', async () => {
      const e = expectError(await post(`${url}/v1/models/cars-mpg/predict`, { ...carRow(0), Year: 'last year' }), 400, 'invalid_input');
      expect(paths(e)).to.deep.equal(['/Year']);
    });
  });

  describe('400 for values nested 5,000 deep, at every entry point (never a stack overflow)', () => {
    const DEPTH = 5000;
    const deepArray = `${'['.repeat(DEPTH)}1${']'.repeat(DEPTH)}`;
    const deepObject = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
    const row = () => JSON.stringify(penguinRow(0)).slice(1, -1);
    /** [what, route, body, the path the first problem must start with] */
    const cases = (): [string, string, string, string][] => [
      ['a single body that is a deep array', '/predict', deepArray, ''],
      ['a batch element that is a deep array', '/predict/batch', `{"records":[${deepArray}]}`, '/records/0'],
      ['a batch element that is a deep array, after a good record', '/predict/batch', `{"records":[{${row()}},${deepArray}]}`, '/records/1'],
      ['a deep array as an input field value', '/predict', `{${row()},"Island":${deepArray}}`, '/Island'],
      ['a deep array as an extra field value', '/predict', `{${row()},"extra":${deepArray}}`, '/extra/0/0'],
      ['a deep object as an input field value', '/predict', `{${row()},"Island":${deepObject}}`, '/Island'],
      ['a deep object as an extra field value', '/predict', `{${row()},"extra":${deepObject}}`, '/extra/a/a'],
      ['a deep object in a batch record (nested record)', '/predict/batch', `{"records":[{${row()},"extra":${deepObject}}]}`, '/records/0/extra/a/a'],
      ['a kept Extended JSON value holding a deep array', '/predict', `{${row()},"extra":{"$regex":${deepArray}}}`, '/extra/$regex/0/0'],
      ['a kept Extended JSON value inside an array', '/predict', `{${row()},"extra":[{"$code":${deepObject}}]}`, '/extra/0/$code/a'],
      ['an Extended JSON $date holding a deep array', '/predict', `{${row()},"extra":{"$date":${deepArray}}}`, '/extra/$date'],
      ['an Extended JSON $numberInt holding a deep object', '/predict/batch', `{"records":[{${row()},"extra":{"$numberInt":${deepObject}}}]}`, '/records/0/extra/$numberInt'],
    ];

    it('answers 400 invalid_input at the JSON path, with a short message', async () => {
      for (const [what, route, body, path] of cases()) {
        const r = await post(`${url}${route}`, body);
        const e = expectError(r, 400, 'invalid_input');
        expect(e.details[0]?.path.startsWith(path), `${what}: ${e.details[0]?.path.slice(0, 80)}`).to.equal(true);
        // The value is previewed, never written out whole.
        expect(r.text.length, what).to.be.below(10_000);
      }
      // And the server still predicts.
      expect((await post(`${url}/predict`, penguinRow(0))).status).to.equal(200);
    });
  });

  describe('messages that name the real problem (empty body, JSON syntax, charset, encoding)', () => {
    /** Sends `head` (request line and headers, no blank line) and `body` on a fresh socket; the answer's status and JSON. */
    const raw = (base: string, head: string, body = ''): Promise<{ status: number; body: ErrorBody }> =>
      new Promise((resolve, reject) => {
        const { port } = new URL(base);
        const socket = net.connect(Number(port), '127.0.0.1', () => socket.end(`${head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n${body}`));
        let text = '';
        socket.setEncoding('latin1').on('data', (d: string) => (text += d));
        socket.on('error', reject);
        socket.on('close', () => {
          const status = Number(text.split(' ')[1]);
          const json = text.slice(text.indexOf('\r\n\r\n') + 4);
          try {
            resolve({ status, body: JSON.parse(json) as ErrorBody });
          } catch {
            reject(new Error(`not a JSON answer: ${text}`));
          }
        });
      });

    it('an empty body is a 400 that says the body is empty, with or without Content-Length', async () => {
      for (const route of ['/predict', '/v1/models/penguins/predict']) {
        for (const body of ['', '   \n', '\ufeff']) {
          const e = expectError(await post(`${url}${route}`, body), 400, 'invalid_input');
          expect(e.message, JSON.stringify(body)).to.equal('the request body is empty; send one record as a JSON object');
        }
        // Content-Type: application/json and no body at all (no Content-Length): was a 415 "(got application/json)".
        const r = await raw(url, `POST ${route} HTTP/1.1\r\nContent-Type: application/json`);
        expect(r.status).to.equal(400);
        expect(r.body.error.code).to.equal('invalid_input');
        expect(r.body.error.message).to.equal('the request body is empty; send one record as a JSON object');
      }
      const e = expectError(await post(`${url}/predict/batch`, ''), 400, 'invalid_input');
      expect(e.message).to.match(/^the request body is empty; send \{"records": \[/);
    });

    it('a JSON syntax error says where: line and column', async () => {
      const e = expectError(await post(`${url}/predict`, '{"Island": "Dream",\n "Sex": tru}'), 400, 'invalid_json');
      expect(e.message).to.contain('line 2, column 9');
      const cut = expectError(await post(`${url}/predict/batch`, '{"records": [{"Island": "Dream"}'), 400, 'invalid_json');
      expect(cut.message).to.contain('ends in the middle');
      const trailing = expectError(await post(`${url}/predict`, '{"Island": "Dream"} x'), 400, 'invalid_json');
      expect(trailing.message).to.contain("'x' after the end of the JSON value").and.contain('column 21');
    });

    it('a charset other than UTF-8 is a 415 naming it', async () => {
      const e = expectError(await post(`${url}/predict`, penguinRow(0), { 'content-type': 'application/json; charset=latin1' }), 415, 'unsupported_media_type');
      expect(e.message).to.contain('"latin1"').and.contain('UTF-8');
      const ok = await post(`${url}/predict`, penguinRow(0), { 'content-type': 'application/json; charset="UTF-8"' });
      expect(ok.status, ok.text).to.equal(200);
    });

    it('Content-Encoding: gzip, deflate and br bodies are read; a corrupt or unknown encoding is a 4xx naming it', async () => {
      const body = Buffer.from(JSON.stringify(penguinRow(0)));
      const plainAnswer = (await post(`${url}/predict`, penguinRow(0))).body;
      for (const [encoding, bytes] of [
        ['gzip', zlib.gzipSync(body)],
        ['deflate', zlib.deflateSync(body)],
        ['br', zlib.brotliCompressSync(body)],
      ] as const) {
        const r = await reply(await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body: bytes }));
        expect(r.status, `${encoding}: ${r.text}`).to.equal(200);
        expect(r.body).to.deep.equal(plainAnswer);
      }
      const corrupt = await reply(await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body }));
      expect(expectError(corrupt, 400, 'invalid_input').message).to.contain('could not be decompressed as Content-Encoding "gzip"');
      const unknown = await reply(await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'zz' }, body }));
      expect(expectError(unknown, 415, 'unsupported_media_type').message).to.contain('"zz"');
    });
  });

  describe('fields per record (--max-fields), checked before the body is parsed', () => {
    const withExtra = (n: number, prefix = 'extra'): Record<string, unknown> => {
      const r: Record<string, unknown> = { ...penguinRow(0) };
      for (let i = 0; i < n; i++) r[`${prefix}${i}`] = i;
      return r;
    };

    it('a record with far more fields than the model has inputs is a 400 naming its path and count', async () => {
      const inputs = penguins.transformer.pipeline.inputs.length;
      expect(Math.max(1000, 10 * inputs)).to.equal(1000);
      const record = withExtra(1500);
      const count = Object.keys(record).length;
      const single = expectError(await post(`${url}/predict`, record), 400, 'invalid_input');
      expect(single.details).to.deep.equal([{ path: '', message: `has ${count} fields; the limit is 1000 (--max-fields): a record holds the model's input fields and a few more` }]);
      const batch = expectError(await post(`${url}/predict/batch`, { records: [penguinRow(0), penguinRow(1), record] }), 400, 'invalid_input');
      expect(paths(batch)).to.deep.equal(['/records/2']);
      expect(batch.message).to.contain(`/records/2 has ${count} fields`);
      const nested = expectError(await post(`${url}/predict`, { ...penguinRow(0), extra: withExtra(1200, 'x') }), 400, 'invalid_input');
      expect(paths(nested)).to.deep.equal(['/extra']);
      // Up to the limit is fine.
      expect((await post(`${url}/predict`, withExtra(1000 - count + 1500))).status).to.equal(200);
    });

    it('a batch whose records use more distinct names than the limit is refused at the record that crossed it', async () => {
      const records = [withExtra(600, 'a'), withExtra(600, 'b'), withExtra(600, 'c')];
      const e = expectError(await post(`${url}/predict/batch`, { records }), 400, 'invalid_input');
      expect(paths(e)).to.deep.equal(['/records/1']);
      expect(e.message).to.contain('more than 1000 different field names');
    });

    it('maxFields sets the limit', async () => {
      const strict = await serve(registry, { maxFields: 10 });
      const e = expectError(await post(`${strict}/predict`, withExtra(10)), 400, 'invalid_input');
      expect(e.message).to.contain('the limit is 10');
      expect((await post(`${strict}/predict`, penguinRow(0))).status).to.equal(200);
    });

    it('a 10 MB record of 850,000 fields is refused in less time than JSON.parse alone takes on it', async () => {
      const parts: string[] = [];
      for (let i = 0; i < 850_000; i++) parts.push(`"k${i}":${i % 10}`);
      const body = `{${parts.join(',')}}`;
      const big = await serve(registry, { bodyLimit: '20mb' });
      const t0 = performance.now();
      const e = expectError(await post(`${big}/predict`, body), 400, 'invalid_input');
      const refusedMs = performance.now() - t0;
      expect(e.message).to.contain('has 850000 fields');
      const t1 = performance.now();
      JSON.parse(body);
      const parseMs = performance.now() - t1;
      console.log(`      850,000 fields: refused in ${refusedMs.toFixed(0)} ms over HTTP; JSON.parse alone takes ${parseMs.toFixed(0)} ms`);
      expect(refusedMs).to.be.below(parseMs);
    });
  });

  describe('404 and 405', () => {
    it('404 JSON for an unknown route', async () => {
      const e = expectError(await get(`${url}/nope`), 404, 'not_found');
      expect(e.message).to.contain('GET /nope');
      expectError(await post(`${url}/v1/nope`, {}), 404, 'not_found');
    });

    it('404 JSON for an unknown model on the predict routes', async () => {
      const e = expectError(await post(`${url}/v1/models/nope/predict`, penguinRow(0)), 404, 'not_found');
      expect(e.message).to.contain('"nope"');
      expectError(await post(`${url}/v1/models/nope/predict/batch`, { records: [penguinRow(0)] }), 404, 'not_found');
    });

    it('405 with an Allow header for GET on a predict route', async () => {
      for (const route of ['/predict', '/predict/batch', '/v1/models/penguins/predict', '/v1/models/penguins/predict/batch']) {
        const r = await get(`${url}${route}`);
        expectError(r, 405, 'method_not_allowed');
        expect(r.headers.get('allow'), route).to.equal('POST');
      }
    });

    it('405 with an Allow header for POST on a GET route', async () => {
      for (const route of ['/healthz', '/readyz', '/v1/models', '/v1/models/penguins']) {
        const r = await post(`${url}${route}`, {});
        expectError(r, 405, 'method_not_allowed');
        expect(r.headers.get('allow'), route).to.equal('GET, HEAD');
      }
    });
  });

  describe('413 too large', () => {
    it('a body over bodyLimit', async () => {
      const small = await serve(registry, { bodyLimit: '1kb' });
      const record = { ...penguinRow(0), note: 'x'.repeat(5000) };
      const e = expectError(await post(`${small}/predict`, record), 413, 'payload_too_large');
      expect(e.message).to.contain('1024');
      expectError(await post(`${small}/predict/batch`, { records: [record] }), 413, 'payload_too_large');
      const ok = await post(`${small}/predict`, penguinRow(0));
      expect(ok.status, ok.text).to.equal(200);
    });

    it('a batch over maxBatchRows', async () => {
      const bounded = await serve(registry, { maxBatchRows: 3 });
      const e = expectError(await post(`${bounded}/predict/batch`, { records: [0, 1, 2, 4].map(penguinRow) }), 413, 'payload_too_large');
      expect(e.message).to.contain('4 records').and.contain('3');
      const ok = await post(`${bounded}/predict/batch`, { records: [0, 1, 2].map(penguinRow) });
      expect(ok.status, ok.text).to.equal(200);
      expect((ok.body as BatchBody).predictions).to.have.length(3);
    });
  });

  describe('415 unsupported media type', () => {
    it('POST without Content-Type: application/json', async () => {
      const body = JSON.stringify(penguinRow(0));
      for (const route of ['/predict', '/predict/batch', '/v1/models/penguins/predict']) {
        const textPlain = await reply(await fetch(`${url}${route}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body }));
        const e = expectError(textPlain, 415, 'unsupported_media_type');
        expect(e.message).to.contain('text/plain');
        // A byte body: fetch sends no Content-Type at all.
        const none = await reply(await fetch(`${url}${route}`, { method: 'POST', body: new TextEncoder().encode(body) }));
        expectError(none, 415, 'unsupported_media_type');
      }
    });

    it('application/json with a charset is accepted', async () => {
      const r = await post(`${url}/predict`, penguinRow(0), { 'content-type': 'application/json; charset=utf-8' });
      expect(r.status, r.text).to.equal(200);
    });
  });

  describe('429 rate limits', () => {
    it('rateLimit: one request more than allowed gets 429 with Retry-After', async () => {
      const limited = await serve(registry, { rateLimit: 2 });
      for (let i = 0; i < 2; i++) expect((await post(`${limited}/predict`, penguinRow(i))).status).to.equal(200);
      const r = await post(`${limited}/predict`, penguinRow(2));
      const e = expectError(r, 429, 'rate_limited');
      expect(e.message).to.contain('2');
      expect(r.headers.get('retry-after')).to.match(/^\d+$/);
      expect(Number(r.headers.get('retry-after'))).to.be.greaterThan(0);
      // The batch routes have their own quota.
      expect((await post(`${limited}/predict/batch`, { records: [penguinRow(0)] })).status).to.equal(200);
    });

    it('batchRateLimit: one batch more than allowed gets 429 with Retry-After', async () => {
      const limited = await serve(registry, { batchRateLimit: 1 });
      const first = await post(`${limited}/predict/batch`, { records: [penguinRow(0)] });
      expect(first.status, first.text).to.equal(200);
      const r = await post(`${limited}/v1/models/penguins/predict/batch`, { records: [penguinRow(0)] });
      expectError(r, 429, 'rate_limited');
      expect(Number(r.headers.get('retry-after'))).to.be.greaterThan(0);
      // Single-record predictions have their own quota.
      expect((await post(`${limited}/predict`, penguinRow(0))).status).to.equal(200);
    });

    it('trustProxy 0: a spoofed X-Forwarded-For does not give a fresh quota, and is noted once in the log', async () => {
      const logged: string[] = [];
      const limited = await serve(registry, { rateLimit: 2, trustProxy: 0, log: (m) => logged.push(m) });
      const statuses: number[] = [];
      // Nothing may reach the console (express-rate-limit would print a stack trace there).
      const consoleError = console.error;
      const printed: unknown[] = [];
      console.error = (...args: unknown[]) => printed.push(args);
      try {
        for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
          statuses.push((await post(`${limited}/predict`, penguinRow(0), { 'x-forwarded-for': ip })).status);
        }
      } finally {
        console.error = consoleError;
      }
      expect(statuses).to.deep.equal([200, 200, 429]);
      expect(printed).to.deep.equal([]);
      expect(logged).to.have.length(1);
      expect(logged[0]).to.contain('X-Forwarded-For but --trust-proxy is 0');
    });

    it('trustProxy 1: different X-Forwarded-For clients are counted separately', async () => {
      const limited = await serve(registry, { rateLimit: 1, trustProxy: 1 });
      const status = async (ip: string) => (await post(`${limited}/predict`, penguinRow(0), { 'x-forwarded-for': ip })).status;
      expect(await status('203.0.113.1')).to.equal(200);
      expect(await status('203.0.113.2')).to.equal(200);
      expect(await status('203.0.113.1')).to.equal(429);
      expect(await status('203.0.113.2')).to.equal(429);
      expect(await status('203.0.113.3')).to.equal(200);
    });
  });

  describe('503 not ready', () => {
    it('predict routes answer 503 not_ready with Retry-After until the models are loaded', async () => {
      for (const [route, body] of [
        ['/predict', penguinRow(0)],
        ['/v1/models/penguins/predict', penguinRow(0)],
        ['/predict/batch', { records: [penguinRow(0)] }],
        ['/v1/models/cars-mpg/predict/batch', { records: [carRow(0)] }],
      ] as const) {
        const r = await post(`${notReadyUrl}${route}`, body);
        expectError(r, 503, 'not_ready');
        expect(Number(r.headers.get('retry-after')), route).to.be.greaterThan(0);
      }
    });
  });

  describe('500 internal errors', () => {
    it('never shows a stack; the log gets it', async () => {
      const broken = await loadPredictor('penguins@1.0.0', artifacts);
      const secret = 'boom: secret detail 7f3a';
      broken.predictOne = () => {
        throw new Error(secret);
      };
      broken.predictMany = () => {
        throw new Error(secret);
      };
      const reg = new ServedModels();
      reg.add(broken);
      reg.ready = true;
      const logged: string[] = [];
      const brokenUrl = await serve(reg, { log: (m) => logged.push(m) });

      for (const [route, body] of [
        ['/predict', penguinRow(0)],
        ['/predict/batch', { records: [penguinRow(0)] }],
      ] as const) {
        const r = await post(`${brokenUrl}${route}`, body);
        expectError(r, 500, 'internal');
        expect(r.body).to.deep.equal({ error: { code: 'internal', message: 'internal error', details: [] } });
        expect(r.text).to.not.contain('boom');
        expect(r.text).to.not.contain('secret');
        expect(r.text).to.not.match(/\bat /);
        expect(r.text).to.not.contain('.ts');
      }
      expect(logged).to.have.length(2);
      for (const line of logged) {
        expect(line).to.contain(secret);
        expect(line).to.match(/\n\s+at /);
      }
    });
  });

  describe('headers', () => {
    it('no x-powered-by header, on success and on errors', async () => {
      const replies = [await get(`${url}/healthz`), await get(`${url}/v1/models`), await get(`${url}/nope`), await post(`${url}/predict`, '{'), await post(`${url}/predict`, penguinRow(0))];
      for (const r of replies) expect(r.headers.has('x-powered-by')).to.equal(false);
    });
  });
});
