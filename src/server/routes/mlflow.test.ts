import { expect } from 'chai';
import { mlpipeVersion } from '../../core/version.js';
import { join } from 'node:path';
import { cleanupTempDirs, runCli, tempDir } from '../../test-helpers/fixtures.js';
import { startServeProcess } from '../../test-helpers/serve.js';
import { CHURN_COLUMNS, type ProtocolModels, type Reply, buildProtocolModels, churnRecords, closeServers, get, post, serveModels, v1Predictions } from '../../test-helpers/protocols.js';

/** Asserts MLflow's error body `{"error_code", "message"}` with `status` and `code`; returns the message. */
function expectMlflowError(r: Reply, status: number, code: string, pattern?: RegExp): string {
  expect(r.status, r.text).to.equal(status);
  expect(r.headers.get('content-type')).to.match(/^application\/json/);
  expect(r.body).to.be.an('object').with.all.keys('error_code', 'message');
  const body = r.body as { error_code: string; message: string };
  expect(body.error_code).to.equal(code);
  expect(body.message).to.be.a('string').that.is.not.empty;
  expect(body.message).not.to.match(/\n\s+at /);
  if (pattern) expect(body.message).to.match(pattern);
  return body.message;
}

/** A CSV field as pandas' to_csv writes it (quoted when it holds a comma, quote or line break). */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvOf(columns: readonly string[], records: Record<string, unknown>[]): string {
  return `${[columns.map(csvField).join(','), ...records.map((r) => columns.map((c) => csvField(r[c])).join(','))].join('\n')}\n`;
}

describe('MLflow scoring-server compatibility (routes/mlflow.ts) over HTTP', function () {
  this.timeout(120_000);

  let m: ProtocolModels;
  /** churn is the default model. */
  let url: string;
  let store: string;

  before(async () => {
    const dir = await tempDir();
    store = join(dir, 'store');
    m = await buildProtocolModels(dir);
    // No batch rate limit here: the tests make many batch requests (the limit is tested on its own server).
    url = await serveModels([m.churn, m.penguins, m.cars, m.numeric], { batchRateLimit: 0 });
  });

  after(async () => {
    await closeServers();
    await cleanupTempDirs();
  });

  const invoke = (body: unknown, contentType: string | null = 'application/json', path = '/invocations') => post(`${url}${path}`, body, contentType);
  const labels = async (model: string, records: Record<string, unknown>[]) => (await v1Predictions(url, model, records)).map((p) => p.prediction);

  describe('GET /ping, /health, /version', () => {
    it('/ping and /health answer 200 with a newline, as MLflow does', async () => {
      for (const path of ['/ping', '/health']) {
        const r = await get(`${url}${path}`);
        expect(r.status).to.equal(200);
        expect(r.text).to.equal('\n');
        expect(r.headers.get('content-type')).to.match(/^application\/json/);
      }
    });

    it("/version answers mlpipe's version as bare text, as MLflow answers its own", async () => {
      const r = await get(`${url}/version`);
      expect(r.status).to.equal(200);
      expect(r.text).to.equal(mlpipeVersion());
    });

    it('while not ready: /ping is 503 TEMPORARILY_UNAVAILABLE, and so is /invocations', async () => {
      const notReady = await serveModels([m.churn], {}, false);
      expectMlflowError(await get(`${notReady}/ping`), 503, 'TEMPORARILY_UNAVAILABLE', /not ready/);
      expectMlflowError(await post(`${notReady}/invocations`, { dataframe_records: churnRecords(1) }), 503, 'TEMPORARILY_UNAVAILABLE');
      expect((await get(`${notReady}/version`)).status).to.equal(200);
    });

    it('`mlpipe serve --help` lists both protocols\' routes (the CLI as a real process, from dist/)', async () => {
      const r = await runCli(['serve', '--help']);
      expect(r.code, r.stderr).to.equal(0);
      for (const route of ['/v2/health/ready', 'POST /v2/models/<name>[/versions/<v>]/infer', 'GET  /ping, /health, /version', 'POST /invocations (the default model), /v1/models/<name>/invocations']) {
        expect(r.stdout).to.include(route);
      }
    });

    it('the real `mlpipe serve` process (from dist/) answers both protocols with the same predictions as /v1', async () => {
      const serve = startServeProcess(['churn', 'penguins', '--artifacts', store, '--port', '0']);
      try {
        const base = `http://127.0.0.1:${await serve.port()}`;
        const records = churnRecords(8, 31);
        const expected = await v1Predictions(base, 'churn', records);
        const csv = csvOf([...CHURN_COLUMNS], records);
        expect((await post(`${base}/invocations`, csv, 'text/csv')).body).to.deep.equal({ predictions: expected.map((p) => p.prediction) });
        const inputs = CHURN_COLUMNS.map((c) => ({ name: c, shape: [records.length], datatype: 'BYTES', data: records.map((r) => (r[c] === undefined || r[c] === null ? null : String(r[c]))) }))
          .filter((t) => t.name === 'plan type' || t.name === 'signup date');
        const v2 = await post(`${base}/v2/models/churn/infer`, { inputs });
        expect(v2.status, v2.text).to.equal(200);
        const subset = records.map((r) => ({ 'plan type': r['plan type'], 'signup date': r['signup date'] ?? null }));
        expect((v2.body as { outputs: { data: unknown[] }[] }).outputs[0]!.data).to.deep.equal((await v1Predictions(base, 'churn', subset)).map((p) => p.prediction));
        expect((await get(`${base}/v2/health/ready`)).body).to.deep.equal({ ready: true });
      } finally {
        serve.child.kill('SIGTERM');
        await serve.exited;
      }
    });

    it('a wrong method is 405 with Allow, in the MLflow form', async () => {
      const r = await get(`${url}/ping`, 'POST');
      expectMlflowError(r, 405, 'ENDPOINT_NOT_FOUND');
      expect(r.headers.get('allow')).to.equal('GET, HEAD');
      const i = await get(`${url}/invocations`);
      expectMlflowError(i, 405, 'ENDPOINT_NOT_FOUND');
      expect(i.headers.get('allow')).to.equal('POST');
    });
  });

  describe('POST /invocations', () => {
    it('dataframe_split (as pandas to_dict(orient="split") writes it, with index): labels in the target\'s own values, equal to /v1', async () => {
      const records = churnRecords(40);
      const expected = await labels('churn', records);
      const columns = [...CHURN_COLUMNS];
      const data = records.map((r) => columns.map((c) => (Object.hasOwn(r, c) ? r[c] : null)));
      const r = await invoke({ dataframe_split: { index: records.map((_, i) => i), columns, data } });
      expect(r.status, r.text).to.equal(200);
      expect(r.body).to.deep.equal({ predictions: expected });
      expect(new Set(expected)).to.deep.equal(new Set(['Yes', 'No']));
    });

    it('dataframe_records, instances (records and arrays in input order) and inputs (columnar and rows) all predict the same', async () => {
      const records = churnRecords(30, 7);
      const expected = { predictions: await labels('churn', records) };
      const columns = m.churn.transformer.pipeline.inputs.map((c) => c.name);
      const arrays = records.map((r) => columns.map((c) => (Object.hasOwn(r, c) ? r[c] : null)));
      const columnar = Object.fromEntries(columns.map((c) => [c, records.map((r) => (Object.hasOwn(r, c) ? r[c] : null))]));
      expect((await invoke({ dataframe_records: records })).body).to.deep.equal(expected);
      expect((await invoke({ instances: records })).body).to.deep.equal(expected);
      expect((await invoke({ instances: arrays })).body).to.deep.equal(expected);
      expect((await invoke({ inputs: columnar, params: { unrelated: 1 } })).body).to.deep.equal(expected);
      expect((await invoke({ inputs: records })).body).to.deep.equal(expected);
    });

    it("MLflow docs' request bodies (columns a, b, c) and KServe-style rows ([[…]]) against an all-numeric model", async () => {
      const rows = [
        { a: 1, b: 2, c: 3 },
        { a: 4, b: 5, c: 6 },
      ];
      const expected = { predictions: await labels('numeric', rows) };
      const path = '/v1/models/numeric/invocations';
      expect((await invoke({ dataframe_split: { columns: ['a', 'b', 'c'], data: [[1, 2, 3], [4, 5, 6]] } }, 'application/json', path)).body).to.deep.equal(expected);
      expect((await invoke({ dataframe_records: [{ a: 1, b: 2, c: 3 }, { a: 4, b: 5, c: 6 }] }, 'application/json', path)).body).to.deep.equal(expected);
      expect((await invoke({ inputs: { a: [1, 4], b: [2, 5], c: [3, 6] } }, 'application/json', path)).body).to.deep.equal(expected);
      const full = { predictions: await labels('numeric', [{ a: 6.8, b: 2.8, c: 4.8, d: 1.4 }]) };
      expect((await invoke({ inputs: [[6.8, 2.8, 4.8, 1.4]] }, 'application/json', path)).body).to.deep.equal(full);
    });

    it('text/csv: a header then rows, cells typed as the model reads them (empty and NA are missing), equal to /v1', async () => {
      const records = churnRecords(35, 17);
      const expected = { predictions: await labels('churn', records) };
      const csv = csvOf([...CHURN_COLUMNS], records).replace(/^(\d+),,/m, '$1,NA,'); // pandas' missing-value words too
      const r = await invoke(csv.replace(',NA,', ',basic,'), 'text/csv');
      expect(r.status, r.text).to.equal(200);
      expect(r.body).to.deep.equal(expected);
      expect((await invoke(csv, 'text/csv; charset=utf-8')).status).to.equal(200);
      // Columns in another order, and one the model does not read, as a DataFrame may have them.
      const reordered = csvOf(['id', ...[...CHURN_COLUMNS].reverse()], records.map((rec, i) => ({ ...rec, id: `c${i}` })));
      expect((await invoke(reordered, 'text/csv')).body).to.deep.equal(expected);
    });

    it('multi-class with spaces in column names and missing values: JSON and CSV equal /v1', async () => {
      const records = m.penguinRows.slice(0, 50);
      expect(records.some((r) => r.Sex === null)).to.equal(true);
      const expected = { predictions: await labels('penguins', records) };
      expect((await invoke({ dataframe_records: records }, 'application/json', '/v1/models/penguins/invocations')).body).to.deep.equal(expected);
      const columns = Object.keys(records[0]!);
      expect((await invoke(csvOf(columns, records), 'text/csv', '/v1/models/penguins/invocations')).body).to.deep.equal(expected);
    });

    it('regression: numbers, equal to /v1, from JSON and from CSV (dates in CSV cells)', async () => {
      const records = m.carRows.slice(0, 40);
      const expected = { predictions: await labels('cars-mpg', records) };
      expect(expected.predictions.every((p) => typeof p === 'number')).to.equal(true);
      const path = '/v1/models/cars-mpg/invocations';
      expect((await invoke({ dataframe_records: records }, 'application/json', path)).body).to.deep.equal(expected);
      expect((await invoke(csvOf(Object.keys(records[0]!), records), 'text/csv', path)).body).to.deep.equal(expected);
    });

    it('params.predict_proba: each prediction is the list of class probabilities in the model\'s class order', async () => {
      const records = churnRecords(10);
      const expected = (await v1Predictions(url, 'churn', records)).map((p) => ['No', 'Yes'].map((c) => p.probabilities![c]));
      const r = await invoke({ dataframe_records: records, params: { predict_proba: true } });
      expect(r.body).to.deep.equal({ predictions: expected });
      expect((await invoke({ dataframe_records: records, params: { predict_proba: false } })).body).to.deep.equal({ predictions: await labels('churn', records) });
    });
  });

  describe('bad input: MLflow status, error code and form, the value at fault', () => {
    it('an unsupported Content-Type, charset or parameter: 415 in plain text, as MLflow answers', async () => {
      const plain = await invoke('a,b\n1,2\n', 'text/plain');
      expect(plain.status).to.equal(415);
      expect(plain.headers.get('content-type')).to.match(/^text\/plain/);
      expect(plain.text).to.equal("This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got 'text/plain'.");
      const latin = await invoke('{}', 'application/json; charset=latin-1');
      expect([latin.status, latin.text]).to.deep.equal([415, 'The scoring server only supports UTF-8']);
      const format = await invoke('{}', 'application/json; format=pandas-split');
      expect([format.status, format.text]).to.deep.equal([415, 'Unrecognized content type parameters: format.']);
      expect((await invoke('{}', null)).status).to.equal(415);
    });

    it('JSON that is not one of the four forms: 400 BAD_REQUEST saying which fields it needs', async () => {
      expectMlflowError(await invoke([{ a: 1 }]), 400, 'BAD_REQUEST', /exactly one of the input fields "dataframe_split", "dataframe_records", "instances", "inputs"; received a list/);
      expectMlflowError(await invoke({ data: [] }), 400, 'BAD_REQUEST', /received a JSON object with the fields \["data"\]/);
      expectMlflowError(await invoke({ dataframe_records: [], instances: [] }), 400, 'BAD_REQUEST', /exactly one/);
      expectMlflowError(await invoke('{"dataframe_records": [}'), 400, 'BAD_REQUEST', /line 1, column/);
      expectMlflowError(await invoke(''), 400, 'BAD_REQUEST', /empty/);
      expectMlflowError(await invoke({ dataframe_split: { columns: ['a'], data: [[1, 2]] } }), 400, 'BAD_REQUEST', /\/dataframe_split\/data\/0 must be an array of 1 values/);
      expectMlflowError(await invoke({ dataframe_split: { data: [[1]] } }), 400, 'BAD_REQUEST', /\/dataframe_split\/columns must be an array of column names/);
      expectMlflowError(await invoke({ dataframe_records: [1] }), 400, 'BAD_REQUEST', /\/dataframe_records\/0 must be a record/);
      expectMlflowError(await invoke({ instances: [[1, 2]] }), 400, 'BAD_REQUEST', /\/instances\/0 has 2 values; a row given as an array holds the 5 inputs of churn@1\.0\.0 in order/);
      expectMlflowError(await invoke({ inputs: { 'plan type': ['pro'], 'age.years': [1, 2] } }), 400, 'BAD_REQUEST', /has 2 values, but "plan type" has 1/);
      expectMlflowError(await invoke({ dataframe_records: [], params: [1] }), 400, 'BAD_REQUEST', /\/params must be a JSON object/);
      expectMlflowError(await invoke({ dataframe_records: [], params: { predict_proba: 'yes' } }), 400, 'BAD_REQUEST', /\/params\/predict_proba must be true or false/);
      expectMlflowError(await invoke({ dataframe_records: [{}], params: { predict_proba: true } }, 'application/json', '/v1/models/cars-mpg/invocations'), 400, 'BAD_REQUEST', /regression model/);
    });

    it('values the model refuses: 400 with the JSON path of each in the form the client sent', async () => {
      const split = await invoke({ dataframe_split: { columns: ['plan type', 'monthly.fee ($)'], data: [['pro', 10], [null, 'lots']] } });
      expectMlflowError(split, 400, 'BAD_REQUEST', /^invalid input: \/dataframe_split\/data\/1\/0 must not be null.*; \/dataframe_split\/data\/1\/1 must be number, got "lots"$/);
      expectMlflowError(await invoke({ dataframe_records: [{ 'plan type': 'pro', 'signup date': 'soon' }] }), 400, 'BAD_REQUEST', /\/dataframe_records\/0\/signup date/);
      expectMlflowError(await invoke({ inputs: { 'plan type': ['pro', 'pro'], 'auto pay': [true, 'perhaps'] } }), 400, 'BAD_REQUEST', /\/inputs\/auto pay\/1/);
      expectMlflowError(await invoke({ instances: [[30, 'pro', true, null, 'soon']] }), 400, 'BAD_REQUEST', /^invalid input: \/instances\/0\/2 must be number, got true$/);
      expectMlflowError(await invoke({ dataframe_records: [{ 'age.years': 40 }] }), 400, 'BAD_REQUEST', /\/dataframe_records\/0\/plan type is required/);
    });

    it('CSV that does not parse, rows of the wrong length, cells of the wrong type: 400 naming the line and column', async () => {
      expectMlflowError(await invoke('plan type,age.years\n"pro,30\n', 'text/csv'), 400, 'BAD_REQUEST', /not valid CSV: unclosed quote/);
      expectMlflowError(await invoke('plan type,age.years\npro,30,7\n', 'text/csv'), 400, 'BAD_REQUEST', /line 2 has 3 fields; the header has 2/);
      expectMlflowError(await invoke('plan type,age.years\npro,30\nbasic,old\n', 'text/csv'), 400, 'BAD_REQUEST', /^invalid input: line 3, column "age\.years": expected a number, got "old"$/);
      expectMlflowError(await invoke('plan type,age.years\n,30\n', 'text/csv'), 400, 'BAD_REQUEST', /line 2, column "plan type": must not be null/);
      expectMlflowError(await invoke('', 'text/csv'), 400, 'BAD_REQUEST', /CSV body is empty/);
      expectMlflowError(await invoke(new Uint8Array([0x61, 0x0a, 0xff, 0xfe, 0x0a]), 'text/csv'), 400, 'BAD_REQUEST', /not valid UTF-8/);
    });

    it('an unknown model in /v1/models/{name}/invocations: 404 RESOURCE_DOES_NOT_EXIST naming the served ones', async () => {
      expectMlflowError(await invoke({ dataframe_records: [] }, 'application/json', '/v1/models/nope/invocations'), 404, 'RESOURCE_DOES_NOT_EXIST', /no model named "nope" \(served: churn, penguins, cars-mpg, numeric\)/);
    });

    it('more rows than --max-batch-rows or a body over --body-limit: 413; over the batch rate limit: 429 REQUEST_LIMIT_EXCEEDED', async () => {
      const small = await serveModels([m.churn], { maxBatchRows: 5, bodyLimit: 3000, batchRateLimit: 4 });
      expectMlflowError(await post(`${small}/invocations`, { dataframe_records: churnRecords(6) }), 413, 'BAD_REQUEST', /6 rows; the limit is 5 \(--max-batch-rows\)/);
      expectMlflowError(await post(`${small}/invocations`, csvOf(['plan type'], Array.from({ length: 6 }, () => ({ 'plan type': 'pro' }))), 'text/csv'), 413, 'BAD_REQUEST', /--max-batch-rows/);
      expectMlflowError(await post(`${small}/invocations`, `plan type\n${'x'.repeat(4000)}\n`, 'text/csv'), 413, 'BAD_REQUEST', /larger than the limit/);
      expect((await post(`${small}/invocations`, { dataframe_records: churnRecords(5) })).status).to.equal(200);
      const r = await post(`${small}/invocations`, { dataframe_records: churnRecords(5) });
      expectMlflowError(r, 429, 'REQUEST_LIMIT_EXCEEDED', /too many batch requests/);
      expect(Number(r.headers.get('retry-after'))).to.be.greaterThan(0);
    });

    it('rows count against the row budget (--rows-per-minute): a request that does not fit is 429 REQUEST_LIMIT_EXCEEDED', async () => {
      const limited = await serveModels([m.churn], { rowsPerMinute: 3 });
      expect((await post(`${limited}/invocations`, { dataframe_records: churnRecords(2) })).status).to.equal(200);
      const r = await post(`${limited}/invocations`, { instances: churnRecords(2) });
      expectMlflowError(r, 429, 'REQUEST_LIMIT_EXCEEDED', /too many records: this request has 2/);
    });

    it('the server still answers correctly after every kind of bad input', async () => {
      for (const [body, type] of [
        ['{"instances": 5}', 'application/json'],
        ['"just a string"', 'application/json'],
        ['a,"b\n', 'text/csv'],
        ['{}', 'image/png'],
      ] as const) {
        const r = await invoke(body, type);
        expect(r.status).to.be.within(400, 499);
      }
      const records = churnRecords(4);
      expect((await invoke({ dataframe_records: records })).body).to.deep.equal({ predictions: await labels('churn', records) });
      expect((await get(`${url}/ping`)).status).to.equal(200);
    });
  });
});
