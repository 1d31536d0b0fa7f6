import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import type { Prediction } from '../../core/predictor/predictor.js';
import { mlpipeVersion } from '../../core/version.js';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { ROOT } from '../../test-helpers/fixtures.js';
import { type ProtocolModels, type Reply, buildProtocolModels, churnRecords, closeServers, get, post, serveModels, v1Predictions } from '../../test-helpers/protocols.js';

/**
 * The protocol's own schemas (KServe's open_inference_rest.yaml, a copy in test/fixtures): every
 * answer of these tests is checked against the one the protocol defines for it.
 */
const spec = parseYaml(readFileSync(`${ROOT}/test/fixtures/open_inference_rest.yaml`, 'utf8')) as { components: { schemas: Record<string, object> } };
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema({ $id: 'oip', components: spec.components });
function expectSpec(schema: string, body: unknown): void {
  const validate = ajv.getSchema(`oip#/components/schemas/${schema}`)!;
  expect(validate(body), `${schema}: ${JSON.stringify(validate.errors)}`).to.equal(true);
}

interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: Tensor[];
}

interface Metadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
}

/** Asserts the protocol's error body `{"error": "<message>"}` with `status`; returns the message. */
function expectV2Error(r: Reply, status: number, pattern?: RegExp): string {
  expect(r.status, r.text).to.equal(status);
  expect(r.headers.get('content-type')).to.match(/^application\/json/);
  expect(r.body).to.be.an('object').with.all.keys('error');
  const message = (r.body as { error: string }).error;
  expect(message).to.be.a('string').that.is.not.empty;
  expect(message).not.to.match(/\n\s+at /); // never a stack
  if (pattern) expect(message).to.match(pattern);
  expectSpec('inference_error_response', r.body);
  return message;
}

/** One tensor per input column of `meta`, from `records` (a missing value is null). */
function columnTensors(meta: Metadata, records: Record<string, unknown>[], nested = false): Tensor[] {
  return meta.inputs.map((input) => {
    const values = records.map((r) => (Object.hasOwn(r, input.name) ? r[input.name] : null));
    return { name: input.name, datatype: input.datatype, shape: nested ? [records.length, 1] : [records.length], data: nested ? values.map((v) => [v]) : values };
  });
}

/** What `outputs` must be for `predictions` of a classifier with `classes`, by default. */
function classifierOutputs(predictions: Prediction[], classes: string[], labelType = 'BYTES'): Tensor[] {
  return [
    { name: 'predict', datatype: labelType, shape: [predictions.length], data: predictions.map((p) => p.prediction) },
    { name: 'predict_proba', datatype: 'FP64', shape: [predictions.length, classes.length], data: predictions.flatMap((p) => classes.map((c) => p.probabilities![c]!)) },
  ];
}

describe('Open Inference Protocol V2 (routes/v2.ts) over HTTP', function () {
  this.timeout(120_000);

  let m: ProtocolModels;
  let url: string;
  let churnMeta: Metadata;

  before(async () => {
    m = await buildProtocolModels(await tempDir());
    // No batch rate limit here: the tests make many batch requests (the limit is tested on its own server).
    url = await serveModels([m.churn, m.penguins, m.cars, m.numeric], { batchRateLimit: 0 });
    churnMeta = (await get(`${url}/v2/models/churn`)).body as Metadata;
  });

  after(async () => {
    await closeServers();
    await cleanupTempDirs();
  });

  describe('health and metadata', () => {
    it('GET /v2 answers the server metadata: name mlpipe, its version, no extensions', async () => {
      const r = await get(`${url}/v2`);
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal({ name: 'mlpipe', version: mlpipeVersion(), extensions: [] });
      expectSpec('metadata_server_response', r.body);
      expect((await get(`${url}/v2/`)).body).to.deep.equal(r.body);
    });

    it('GET /v2/health/live and /v2/health/ready answer 200 {"live": true} and {"ready": true}', async () => {
      expect(await get(`${url}/v2/health/live`)).to.include({ status: 200 }).and.to.have.property('body').that.deep.equals({ live: true });
      expect(await get(`${url}/v2/health/ready`)).to.include({ status: 200 }).and.to.have.property('body').that.deep.equals({ ready: true });
    });

    it('while not ready: /v2/health/ready and model ready answer 503 with Retry-After, live stays 200, infer is refused with 503', async () => {
      const notReady = await serveModels([m.churn], {}, false);
      const ready = await get(`${notReady}/v2/health/ready`);
      expect(ready.status).to.equal(503);
      expect(ready.body).to.deep.equal({ ready: false });
      expect(ready.headers.get('retry-after')).to.match(/^\d+$/);
      const model = await get(`${notReady}/v2/models/churn/ready`);
      expect(model.status).to.equal(503);
      expect(model.body).to.deep.equal({ name: 'churn', ready: false });
      expect((await get(`${notReady}/v2/health/live`)).status).to.equal(200);
      const infer = await post(`${notReady}/v2/models/churn/infer`, { inputs: columnTensors(churnMeta, churnRecords(1)) });
      expectV2Error(infer, 503, /not ready/);
      expect(infer.headers.get('retry-after')).to.match(/^\d+$/);
    });

    it('GET /v2/models/{name}[/versions/{v}]/ready answers {"name", "ready": true}; an unknown model or version is 404', async () => {
      expect((await get(`${url}/v2/models/churn/ready`)).body).to.deep.equal({ name: 'churn', ready: true });
      expect((await get(`${url}/v2/models/churn/versions/1.0.0/ready`)).body).to.deep.equal({ name: 'churn', ready: true });
      expectV2Error(await get(`${url}/v2/models/nope/ready`), 404, /no model named "nope" \(served: churn, penguins, cars-mpg, numeric\)/);
      expectV2Error(await get(`${url}/v2/models/churn/versions/2.0.0/ready`), 404, /no version "2\.0\.0".*serving 1\.0\.0/);
    });

    it('model metadata: one tensor per input column with its V2 datatype, shape [-1]; outputs predict, predict_proba and proba_<label>', async () => {
      expect(churnMeta).to.deep.equal({
        name: 'churn',
        versions: ['1.0.0'],
        platform: 'mlpipe',
        inputs: [
          { name: 'age.years', datatype: 'INT64', shape: [-1] },
          { name: 'plan type', datatype: 'BYTES', shape: [-1] },
          { name: 'monthly.fee ($)', datatype: 'FP64', shape: [-1] },
          { name: 'auto pay', datatype: 'BOOL', shape: [-1] },
          { name: 'signup date', datatype: 'BYTES', shape: [-1] },
        ],
        outputs: [
          { name: 'predict', datatype: 'BYTES', shape: [-1] },
          { name: 'predict_proba', datatype: 'FP64', shape: [-1, 2] },
          { name: 'proba_No', datatype: 'FP64', shape: [-1] },
          { name: 'proba_Yes', datatype: 'FP64', shape: [-1] },
        ],
      });
      expect((await get(`${url}/v2/models/churn/versions/1.0.0`)).body).to.deep.equal(churnMeta);
      expectSpec('metadata_model_response', churnMeta);
      const cars = (await get(`${url}/v2/models/cars-mpg`)).body as Metadata;
      expect(cars.outputs).to.deep.equal([{ name: 'predict', datatype: 'FP64', shape: [-1] }]);
      expect(cars.inputs.find((i) => i.name === 'Year')).to.deep.equal({ name: 'Year', datatype: 'BYTES', shape: [-1] });
    });

    it('an unknown model or version in a metadata path is 404 in the protocol form', async () => {
      expectV2Error(await get(`${url}/v2/models/nope`), 404, /no model named "nope"/);
      expectV2Error(await get(`${url}/v2/models/churn/versions/0.9.0`), 404, /"churn" has no version "0\.9\.0"/);
      expectV2Error(await get(`${url}/v2/no-such-thing`), 404, /no route GET \/v2\/no-such-thing/);
    });

    it('a wrong method on a V2 path is 405 with Allow, in the protocol form', async () => {
      const r = await get(`${url}/v2/models/churn/infer`);
      expectV2Error(r, 405);
      expect(r.headers.get('allow')).to.equal('POST');
      const d = await get(`${url}/v2/models/churn`, 'DELETE');
      expectV2Error(d, 405);
      expect(d.headers.get('allow')).to.equal('GET, HEAD');
      expect((await get(`${url}/v2/health/live`, 'POST')).headers.get('allow')).to.equal('GET, HEAD');
    });
  });

  describe('POST /v2/models/{name}[/versions/{v}]/infer', () => {
    it('one tensor per column (flat [N]): the same predictions and probabilities as /v1 predict/batch, id echoed', async () => {
      const records = churnRecords(40);
      const expected = await v1Predictions(url, 'churn', records);
      const r = await post(`${url}/v2/models/churn/infer`, { id: 'req-42', parameters: { anything: 1 }, inputs: columnTensors(churnMeta, records) });
      expect(r.status, r.text).to.equal(200);
      expect(r.body).to.deep.equal({ model_name: 'churn', model_version: '1.0.0', id: 'req-42', outputs: classifierOutputs(expected, ['No', 'Yes']) });
      expectSpec('inference_response', r.body);
      expect(new Set(expected.map((p) => p.prediction))).to.deep.equal(new Set(['Yes', 'No']));
      expect(r.headers.get('mlpipe-model')).to.equal('churn@1.0.0');
    });

    it('nested [N, 1] tensors, a version in the path and no id (one is made up) predict the same', async () => {
      const records = churnRecords(25, 9);
      const expected = await v1Predictions(url, 'churn', records);
      const r = await post(`${url}/v2/models/churn/versions/1.0.0/infer`, { inputs: columnTensors(churnMeta, records, true) });
      expect(r.status, r.text).to.equal(200);
      const body = r.body as InferResponse;
      expect(body.outputs).to.deep.equal(classifierOutputs(expected, ['No', 'Yes']));
      expect(body.id).to.match(/^[0-9a-f-]{36}$/);
      expect(body).to.have.all.keys('model_name', 'model_version', 'id', 'outputs');
    });

    it('a subset of the columns is enough (the others are imputed), in any order', async () => {
      const records = churnRecords(10).map((r) => ({ 'plan type': r['plan type'], 'monthly.fee ($)': r['monthly.fee ($)'] ?? null }));
      const expected = await v1Predictions(url, 'churn', records);
      const tensors = columnTensors(churnMeta, records).filter((t) => t.name === 'plan type' || t.name === 'monthly.fee ($)').reverse();
      const r = await post(`${url}/v2/models/churn/infer`, { inputs: tensors });
      expect((r.body as InferResponse).outputs).to.deep.equal(classifierOutputs(expected, ['No', 'Yes']));
    });

    it('multi-class with spaces in column names and missing values: same as /v1', async () => {
      const meta = (await get(`${url}/v2/models/penguins`)).body as Metadata;
      const records = m.penguinRows.slice(0, 60);
      expect(records.some((r) => r.Sex === null)).to.equal(true);
      const expected = await v1Predictions(url, 'penguins', records);
      const r = await post(`${url}/v2/models/penguins/infer`, { inputs: columnTensors(meta, records) });
      expect(r.status, r.text).to.equal(200);
      expect((r.body as InferResponse).outputs).to.deep.equal(classifierOutputs(expected, ['Adelie', 'Chinstrap', 'Gentoo']));
      // A spec-strict client has no null: an empty string in a BYTES tensor is a missing value too.
      const blanks = columnTensors(meta, records).map((t) => (t.datatype === 'BYTES' ? { ...t, data: t.data.map((v) => v ?? '') } : t));
      expect(blanks.find((t) => t.name === 'Sex')!.data).to.include('');
      expect(((await post(`${url}/v2/models/penguins/infer`, { inputs: blanks })).body as InferResponse).outputs).to.deep.equal((r.body as InferResponse).outputs);
    });

    it('regression: predict is FP64, the same numbers as /v1; asking for predict_proba is 400', async () => {
      const meta = (await get(`${url}/v2/models/cars-mpg`)).body as Metadata;
      const records = m.carRows.slice(0, 50);
      const expected = await v1Predictions(url, 'cars-mpg', records);
      const r = await post(`${url}/v2/models/cars-mpg/infer`, { id: 'c', inputs: columnTensors(meta, records) });
      expect(r.status, r.text).to.equal(200);
      expect(r.body).to.deep.equal({
        model_name: 'cars-mpg',
        model_version: '1.0.0',
        id: 'c',
        outputs: [{ name: 'predict', datatype: 'FP64', shape: [50], data: expected.map((p) => p.prediction) }],
      });
      expectV2Error(await post(`${url}/v2/models/cars-mpg/infer`, { inputs: columnTensors(meta, records), outputs: [{ name: 'predict_proba' }] }), 400, /"predict_proba" is not an output of cars-mpg@1\.0\.0 \(its outputs: predict\)/);
    });

    it('requested outputs are answered in the order asked: proba_<label> per class, then the label', async () => {
      const records = churnRecords(12);
      const expected = await v1Predictions(url, 'churn', records);
      const r = await post(`${url}/v2/models/churn/infer`, { inputs: columnTensors(churnMeta, records), outputs: [{ name: 'proba_Yes', parameters: { binary_data: false } }, { name: 'predict' }] });
      expect((r.body as InferResponse).outputs).to.deep.equal([
        { name: 'proba_Yes', datatype: 'FP64', shape: [12], data: expected.map((p) => p.probabilities!.Yes) },
        { name: 'predict', datatype: 'BYTES', shape: [12], data: expected.map((p) => p.prediction) },
      ]);
    });

    it('one BYTES tensor of JSON records (strings or objects), named anything but a column, predicts the same', async () => {
      const records = churnRecords(30, 13);
      const expected = await v1Predictions(url, 'churn', records);
      const data = records.map((r, i) => (i % 2 === 0 ? JSON.stringify(r) : r));
      const r = await post(`${url}/v2/models/churn/infer`, { inputs: [{ name: 'records', shape: [30], datatype: 'BYTES', data }] });
      expect(r.status, r.text).to.equal(200);
      expect((r.body as InferResponse).outputs).to.deep.equal(classifierOutputs(expected, ['No', 'Yes']));
    });

    it("KServe's scikit-learn V2 example body (one FP32 [N, 4] tensor of rows) predicts with the columns in the model's order", async () => {
      // https://kserve.github.io/website/ (sklearn iris, v2 protocol): iris-input-v2.json
      const body = { inputs: [{ name: 'input-0', shape: [2, 4], datatype: 'FP32', data: [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]] }] };
      expectSpec('inference_request', body);
      const expected = await v1Predictions(url, 'numeric', [
        { a: 6.8, b: 2.8, c: 4.8, d: 1.4 },
        { a: 6.0, b: 3.4, c: 4.5, d: 1.6 },
      ]);
      const r = await post(`${url}/v2/models/numeric/infer`, body);
      expect(r.status, r.text).to.equal(200);
      expect((r.body as InferResponse).outputs).to.deep.equal(classifierOutputs(expected, m.numeric.forest.classes));
      const flat = await post(`${url}/v2/models/numeric/infer`, { inputs: [{ ...body.inputs[0], data: body.inputs[0]!.data.flat() }] });
      expect((flat.body as InferResponse).outputs).to.deep.equal((r.body as InferResponse).outputs);
    });

    it("a request as tritonclient's HTTP client builds it (JSON tensors: [N, 1] shapes, flat data, no Content-Type, binary_data_output) is answered in JSON", async () => {
      // tritonclient.http: InferInput(name, [N, 1], dtype).set_data_from_numpy(column, binary_data=False) gives the
      // data flat; with no requested outputs it asks for binary outputs at the request level, which a server may ignore.
      const records = churnRecords(6, 23);
      const expected = await v1Predictions(url, 'churn', records);
      const inputs = columnTensors(churnMeta, records).map((t) => ({ ...t, shape: [records.length, 1] }));
      const r = await post(`${url}/v2/models/churn/infer`, { id: '7', inputs, parameters: { binary_data_output: true } }, null);
      expect(r.status, r.text).to.equal(200);
      expect(r.body).to.deep.equal({ model_name: 'churn', model_version: '1.0.0', id: '7', outputs: classifierOutputs(expected, ['No', 'Yes']) });
      const picked = await post(`${url}/v2/models/churn/infer`, { inputs, outputs: [{ name: 'predict', parameters: { binary_data: true } }] }, null);
      expect((picked.body as InferResponse).outputs).to.deep.equal([classifierOutputs(expected, ['No', 'Yes'])[0]]);
    });

    it('a body without Content-Type is read as JSON (tritonclient sends none)', async () => {
      const records = churnRecords(3);
      const expected = await v1Predictions(url, 'churn', records);
      const r = await post(`${url}/v2/models/churn/infer`, { inputs: columnTensors(churnMeta, records) }, null);
      expect(r.status, r.text).to.equal(200);
      expect((r.body as InferResponse).outputs[0]!.data).to.deep.equal(expected.map((p) => p.prediction));
    });
  });

  describe('bad input: the right status, the protocol form, the element at fault', () => {
    const infer = (body: unknown, contentType: string | null = 'application/json', headers: Record<string, string> = {}) => post(`${url}/v2/models/churn/infer`, body, contentType, headers);
    const tensors = (n = 3) => columnTensors(churnMeta, churnRecords(n));

    it('a value of the wrong type for its tensor names the element: /inputs/k/data/i (nested: /inputs/k/data/i/0)', async () => {
      const t = tensors(5);
      t[2]!.data[3] = 'cheap';
      expectV2Error(await infer({ inputs: t }), 400, /^invalid input: \/inputs\/2\/data\/3 must be a number \(the tensor is FP64\), got "cheap"$/);
      const nested = columnTensors(churnMeta, churnRecords(4), true);
      (nested[3]!.data[1] as unknown[])[0] = 'maybe';
      expectV2Error(await infer({ inputs: nested }), 400, /\/inputs\/3\/data\/1\/0 must be true or false/);
      const ints = tensors(2);
      ints[0]!.data[1] = 30.5;
      expectV2Error(await infer({ inputs: ints }), 400, /\/inputs\/0\/data\/1 must be an integer \(the tensor is INT64\)/);
      const many = tensors(3);
      many[0]!.data[0] = 'old';
      many[1]!.data[2] = 42;
      expectV2Error(await infer({ inputs: many }), 400, /^invalid input: \/inputs\/0\/data\/0 must be a number \(the tensor is INT64\), got "old"; \/inputs\/1\/data\/2 must be a string \(the tensor is BYTES\), got 42$/);
      const infinite = '{"inputs": [{"name": "plan type", "shape": [1], "datatype": "BYTES", "data": ["pro"]}, {"name": "monthly.fee ($)", "shape": [1], "datatype": "FP64", "data": [-1e400]}]}';
      expectV2Error(await infer(infinite), 400, /^invalid input: \/inputs\/1\/data\/0 must be a finite number \(the tensor is FP64\), got -Infinity$/);
    });

    it("problems the model's schema and featurizers find are mapped back to the element, all of them listed", async () => {
      const t = tensors(6);
      t[1]!.data[4] = null; // plan type is required
      t[4]!.data[2] = 'the 31st of Nevember'; // not a date
      const message = expectV2Error(await infer({ inputs: t }), 400);
      expect(message).to.match(/^invalid input: /);
      expect(message).to.include('/inputs/1/data/4 must not be null');
      expect(message).to.include('/inputs/4/data/2');
    });

    it('a required column without a tensor, an unknown tensor name, a tensor given twice, rows that differ: 400 naming it', async () => {
      expectV2Error(await infer({ inputs: tensors().filter((t) => t.name !== 'plan type') }), 400, /\/inputs has no tensor "plan type"/);
      expectV2Error(await infer({ inputs: [...tensors(), { name: 'colour', shape: [3], datatype: 'BYTES', data: ['a', 'b', 'c'] }] }), 400, /\/inputs\/5\/name "colour" is not an input of churn@1\.0\.0/);
      const t = tensors();
      expectV2Error(await infer({ inputs: [...t, t[0]] }), 400, /\/inputs\/5\/name "age\.years" is given twice/);
      const short = tensors();
      short[1] = { ...short[1]!, shape: [2], data: short[1]!.data.slice(0, 2) };
      expectV2Error(await infer({ inputs: short }), 400, /\/inputs\/1\/shape has 2 rows, but \/inputs\/0 has 3/);
    });

    it('a datatype the column cannot take, a shape that does not hold the data, a bad shape or datatype: 400', async () => {
      const t = tensors();
      t[1] = { ...t[1]!, datatype: 'INT64', data: [1, 2, 3] };
      expectV2Error(await infer({ inputs: t }), 400, /\/inputs\/1\/datatype the column "plan type" is category: send it as BYTES, not INT64/);
      const count = tensors();
      count[0] = { ...count[0]!, shape: [4] };
      expectV2Error(await infer({ inputs: count }), 400, /\/inputs\/0\/data has 3 elements; the shape \[4\] holds 4/);
      const wide = tensors();
      wide[0] = { ...wide[0]!, shape: [1, 3] };
      expectV2Error(await infer({ inputs: wide }), 400, /\/inputs\/0\/shape must be \[N\] or \[N, 1\]/);
      const neg = tensors();
      neg[0] = { ...neg[0]!, shape: [-3] };
      expectV2Error(await infer({ inputs: neg }), 400, /\/inputs\/0\/shape must be a non-empty array of non-negative integers/);
      const dt = tensors();
      dt[0] = { ...dt[0]!, datatype: 'FLOAT' };
      expectV2Error(await infer({ inputs: dt }), 400, /\/inputs\/0\/datatype must be a tensor datatype/);
    });

    it('a request that is not an inference request: 400 naming the field', async () => {
      expectV2Error(await infer([]), 400, /must be an inference request/);
      expectV2Error(await infer({}), 400, /\/inputs must be a non-empty array/);
      expectV2Error(await infer({ inputs: [] }), 400, /\/inputs must be a non-empty array/);
      expectV2Error(await infer({ inputs: [42] }), 400, /\/inputs\/0 must be an input tensor/);
      expectV2Error(await infer({ id: 7, inputs: tensors() }), 400, /\/id must be a string/);
      expectV2Error(await infer({ inputs: tensors(), outputs: [{ name: 'colour' }] }), 400, /\/outputs\/0\/name "colour" is not an output of churn@1\.0\.0 \(its outputs: predict, predict_proba, proba_No, proba_Yes\)/);
      expectV2Error(await infer({ inputs: tensors(), parameters: 'fast' }), 400, /\/parameters must be a JSON object/);
    });

    it('a records tensor element that is not a record: 400 naming it', async () => {
      const rec = (data: unknown[]) => infer({ inputs: [{ name: 'records', shape: [data.length], datatype: 'BYTES', data }] });
      expectV2Error(await rec(['{"plan type": "pro"}', '{"plan type": ']), 400, /\/inputs\/0\/data\/1 is not JSON/);
      expectV2Error(await rec(['[1, 2]']), 400, /\/inputs\/0\/data\/0 must hold a JSON object/);
      expectV2Error(await rec([{ 'plan type': 'pro' }, 5]), 400, /\/inputs\/0\/data\/1 must be one record/);
      expectV2Error(await rec([{ 'plan type': 'pro', 'monthly.fee ($)': 'a lot' }]), 400, /^invalid input: \/inputs\/0\/data\/0\/monthly\.fee \(\$\) must be number, got "a lot"$/);
    });

    it('unknown model 404, wrong version 404; not JSON 400 with line and column; wrong Content-Type 415; binary extension 400', async () => {
      expectV2Error(await post(`${url}/v2/models/nope/infer`, { inputs: tensors() }), 404, /no model named "nope"/);
      expectV2Error(await post(`${url}/v2/models/churn/versions/3.0.0/infer`, { inputs: tensors() }), 404, /no version "3\.0\.0"/);
      expectV2Error(await infer('{"inputs": [ {"name": }'), 400, /line 1, column/);
      expectV2Error(await infer(JSON.stringify({ inputs: tensors() }), 'text/plain'), 415, /Content-Type: application\/json/);
      expectV2Error(await infer('{}', 'application/json', { 'inference-header-content-length': '2' }), 400, /binary tensor data extension is not supported/);
    });

    it('more rows than --max-batch-rows, or a body over --body-limit: 413', async () => {
      const small = await serveModels([m.churn], { maxBatchRows: 5, bodyLimit: 2000 });
      expectV2Error(await post(`${small}/v2/models/churn/infer`, { inputs: columnTensors(churnMeta, churnRecords(6)) }), 413, /6 rows; the limit is 5 \(--max-batch-rows\)/);
      const big = await post(`${small}/v2/models/churn/infer`, { inputs: [{ name: 'records', shape: [1], datatype: 'BYTES', data: ['x'.repeat(3000)] }] });
      expectV2Error(big, 413, /larger than the limit/);
      expect((await post(`${small}/v2/models/churn/infer`, { inputs: columnTensors(churnMeta, churnRecords(5)) })).status).to.equal(200);
    });

    it('over the batch rate limit: 429 with Retry-After in the protocol form', async () => {
      const limited = await serveModels([m.churn], { batchRateLimit: 1 });
      const body = { inputs: columnTensors(churnMeta, churnRecords(2)) };
      expect((await post(`${limited}/v2/models/churn/infer`, body)).status).to.equal(200);
      const r = await post(`${limited}/v2/models/churn/infer`, body);
      expectV2Error(r, 429, /too many batch requests/);
      expect(Number(r.headers.get('retry-after'))).to.be.greaterThan(0);
    });

    it('rows count against the row budget (--rows-per-minute): a request that does not fit is 429 in the protocol form', async () => {
      const limited = await serveModels([m.churn], { rowsPerMinute: 3 });
      const body = { inputs: columnTensors(churnMeta, churnRecords(2)) };
      expect((await post(`${limited}/v2/models/churn/infer`, body)).status).to.equal(200);
      const r = await post(`${limited}/v2/models/churn/infer`, body);
      expectV2Error(r, 429, /too many records: this request has 2, and 1 of this client's 3 records/);
      expect(Number(r.headers.get('retry-after'))).to.be.greaterThan(0);
    });

    it('the server still answers correctly after every kind of bad input', async () => {
      for (const bad of ['nonsense', '{"inputs": 5}', '[[[[[[]]]]]]', JSON.stringify({ inputs: [{ name: 'x', shape: [1e15], datatype: 'BYTES', data: [] }] })]) await infer(bad);
      const records = churnRecords(4);
      const expected = await v1Predictions(url, 'churn', records);
      const r = await infer({ inputs: columnTensors(churnMeta, records) });
      expect((r.body as InferResponse).outputs).to.deep.equal(classifierOutputs(expected, ['No', 'Yes']));
    });
  });
});
