/**
 * GET /openapi.json and GET /docs on a live server (real HTTP, port 0), and the document checked
 * against REAL answers: each response of the v1 routes (single, batch, every kind of error) is
 * validated with ajv (JSON Schema 2020-12) against the schema the document gives for that path,
 * method and status. /docs is rendered in headless Chromium with no request but the page itself.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { loadPredictor } from '../../core/predictor/from-bundle.js';
import type { OpenApiDocument } from '../../core/http-api/openapi.js';
import { buildApiBundles, CHURN_COLUMNS } from '../../test-helpers/api-bundles.js';
import { buildExampleBundle, cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { createApp } from '../app.js';
import { ServedModels } from '../models.js';
import type { AppOptions } from '../options.js';
import { launchChromium } from '../../test-helpers/browser.js';
import { closeServers, listen } from '../../test-helpers/http.js';

async function serve(models: ServedModels, options: Partial<AppOptions> = {}): Promise<string> {
  return listen(createApp(models, options));
}

interface Exchange {
  path: string;
  method: 'get' | 'post';
  status: number;
  body: unknown;
}

/** The schema the document gives for a path, method and status (following a `$ref` to components/responses). */
function responseSchema(doc: OpenApiDocument, path: string, method: string, status: number): object {
  const op = doc.paths[path]?.[method] as { responses: Record<string, { $ref?: string; content?: Record<string, { schema: object }> }> } | undefined;
  if (!op) throw new Error(`the document has no ${method.toUpperCase()} ${path}`);
  let response = op.responses[String(status)];
  if (!response) throw new Error(`${method.toUpperCase()} ${path} does not document status ${status}`);
  if (response.$ref) response = (doc.components.responses as Record<string, typeof response>)[response.$ref.split('/').pop() as string];
  const schema = response?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`${method.toUpperCase()} ${path} ${status} has no JSON schema`);
  return schema;
}

/** An ajv (2020-12) that resolves the document's `#/components/schemas/…` references. */
function validatorFor(doc: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  const id = 'https://mlpipe.test/openapi.json';
  ajv.addSchema({ $id: id, components: { schemas: doc.components.schemas } });
  return (exchange: Exchange, documentedPath = exchange.path) => {
    const schema = JSON.parse(JSON.stringify(responseSchema(doc, documentedPath, exchange.method, exchange.status)).replaceAll('"#/components/', `"${id}#/components/`)) as object;
    const validate = ajv.compile(schema);
    const ok = validate(exchange.body);
    expect(ok, `${exchange.method.toUpperCase()} ${exchange.path} → ${exchange.status} against ${documentedPath}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(exchange.body).slice(0, 400)}`).to.equal(true);
  };
}

describe('GET /openapi.json and /docs on a live server', function () {
  this.timeout(120_000);
  let base: string;
  let doc: OpenApiDocument;
  let models: ServedModels;
  let store: string;

  before(async () => {
    store = await buildApiBundles(await tempDir());
    models = new ServedModels();
    for (const ref of ['churn', 'penguins', 'cars']) models.add(await loadPredictor(ref, store));
    models.ready = true;
    base = await serve(models, { maxBatchRows: 5 });
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    doc = (await res.json()) as OpenApiDocument;
  });
  after(async () => {
    await closeServers();
    await cleanupTempDirs();
  });

  it('serves a valid OpenAPI 3.1 document of the models served, with real example records', async () => {
    const res = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(res.valid, JSON.stringify(res.errors)).to.equal(true);
    expect(doc['x-mlpipe-models'].map((m) => `${m.name}@${m.version}`)).to.deep.equal(models.list().map((m) => m.ref));
    expect((doc.components.schemas.PenguinsBatchRequest as { properties: { records: { maxItems: number } } }).properties.records.maxItems).to.equal(5);
    // The example is the bundle's first golden record (a holdout row), not a made-up one.
    const churn = doc['x-mlpipe-models'][0]!;
    expect(Object.keys(churn.example)).to.include.members(['monthly spend', 'plan.tier']);
    expect(churn.example['plan.tier']).to.be.oneOf(['basic', 'pro', 'team']);
  });

  it('real answers of the v1 routes fit the document: single, batch, default model, models list, health', async () => {
    const check = validatorFor(doc);
    for (const m of doc['x-mlpipe-models']) {
      const one = await fetch(`${base}${m.paths.predict}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(m.example) });
      const oneBody = await one.json();
      expect(one.status).to.equal(200);
      check({ path: m.paths.predict, method: 'post', status: 200, body: oneBody });
      check({ path: m.paths.predict, method: 'post', status: 200, body: oneBody }, '/v1/models/{name}/predict');
      const batch = await fetch(`${base}${m.paths.batch}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records: [m.example, {}, m.example] }) });
      const batchBody = (await batch.json()) as { predictions: unknown[] };
      expect(batch.status).to.equal(200);
      expect(batchBody.predictions).to.have.length(3);
      check({ path: m.paths.batch, method: 'post', status: 200, body: batchBody });
      check({ path: m.paths.batch, method: 'post', status: 200, body: batchBody }, '/v1/models/{name}/predict/batch');
    }
    const def = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    check({ path: '/predict', method: 'post', status: 200, body: await def.json() });
    for (const path of ['/healthz', '/readyz', '/v1/models']) {
      const r = await fetch(`${base}${path}`);
      check({ path, method: 'get', status: r.status, body: await r.json() });
    }
    const one = await fetch(`${base}/v1/models/cars`);
    check({ path: '/v1/models/cars', method: 'get', status: one.status, body: await one.json() }, '/v1/models/{name}');
  });

  it('real error answers fit the document: 400 (bad value, bad JSON), 404, 405, 413, 415, 429, 503', async () => {
    const check = validatorFor(doc);
    const post = async (path: string, body: string, type = 'application/json', documented = path) => {
      const r = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
      const exchange = { path, method: 'post' as const, status: r.status, body: await r.json() };
      check(exchange, documented);
      return exchange;
    };
    const bad = await post('/v1/models/churn/predict', JSON.stringify({ 'monthly spend': 'a lot' }));
    expect(bad.status).to.equal(400);
    expect((bad.body as { error: { details: { path: string }[] } }).error.details[0]!.path).to.equal('/monthly spend');
    expect((await post('/v1/models/churn/predict/batch', '{"records": [{"constructor": "x"}]}')).status).to.equal(400);
    expect((await post('/predict', '{"a": ')).status).to.equal(400);
    expect((await post('/v1/models/nope/predict', '{}', 'application/json', '/v1/models/{name}/predict')).status).to.equal(404);
    expect((await post('/v1/models/cars/predict/batch', JSON.stringify({ records: Array(6).fill({}) }))).status).to.equal(413);
    expect((await post('/predict', 'a,b\n1,2\n', 'text/csv')).status).to.equal(415);
    const wrongMethod = await fetch(`${base}/predict`);
    expect(wrongMethod.status).to.equal(405);
    const body405 = await wrongMethod.json();
    // 405 has no operation of its own (GET /predict does not exist): it is the shared MethodNotAllowed response.
    const ajv = new Ajv2020({ strict: false });
    const errorSchema = JSON.parse(JSON.stringify(doc.components.schemas.ErrorBody)) as object;
    expect(ajv.validate(errorSchema, body405), JSON.stringify(ajv.errors)).to.equal(true);
    expect(doc.components.responses).to.have.property('MethodNotAllowed');

    // 429 from a server with a budget of one request; 503 from one whose models are not ready.
    const limited = await serve(models, { rateLimit: 1 });
    await fetch(`${limited}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const r429 = await fetch(`${limited}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(r429.status).to.equal(429);
    check({ path: '/predict', method: 'post', status: 429, body: await r429.json() });
    const loading = new ServedModels();
    loading.add(models.get('cars')!);
    const notReady = await serve(loading);
    const r503 = await fetch(`${notReady}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(r503.status).to.equal(503);
    check({ path: '/predict', method: 'post', status: 503, body: await r503.json() });
    const ready503 = await fetch(`${notReady}/readyz`);
    check({ path: '/readyz', method: 'get', status: ready503.status, body: await ready503.json() });
    // The server still answers after all that.
    expect((await fetch(`${base}/healthz`)).status).to.equal(200);
  });

  it('follows the models served: a version swapped in shows at once; 405 on a wrong method', async () => {
    const only = new ServedModels();
    only.add(models.get('penguins')!);
    only.ready = true;
    const url = await serve(only);
    const first = (await (await fetch(`${url}/openapi.json`)).json()) as OpenApiDocument;
    expect(first['x-mlpipe-models'].map((m) => `${m.name}@${m.version}`)).to.deep.equal(['penguins@1.0.0']);
    expect(JSON.stringify(first.paths['/predict'])).to.include('PenguinsRecord');
    await buildExampleBundle({ artifacts: store, example: 'penguins', name: 'penguins', trees: 3, version: '1.1.0' });
    only.replace(await loadPredictor('penguins@1.1.0', store));
    const second = (await (await fetch(`${url}/openapi.json`)).json()) as OpenApiDocument;
    expect(second['x-mlpipe-models'].map((m) => `${m.name}@${m.version}`)).to.deep.equal(['penguins@1.1.0']);
    const post = await fetch(`${url}/openapi.json`, { method: 'POST' });
    expect(post.status).to.equal(405);
    expect(post.headers.get('allow')).to.equal('GET, HEAD');
  });

  it('GET /docs: one HTML page under a strict CSP, with each model\u2019s fields (escaped), examples and curl commands', async () => {
    const res = await fetch(`${base}/docs`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).to.match(/default-src 'none'/);
    expect(csp).not.to.include('unsafe-inline');
    const html = await res.text();
    expect(html).not.to.match(/<script|src=|https?:\/\/(?!127\.0\.0\.1)/i);
    expect(html).to.include('<code>say &quot;hi&quot;</code>');
    expect(html).to.include('<code>__proto__</code>');
    expect(html).to.include('<code>&lt;i&gt;note&lt;/i&gt;</code>');
    expect(html).not.to.include('<i>note</i>');
    expect(html).not.to.include('</td>"');
    expect(html).to.include(`curl -s -X POST &#39;${base}/v1/models/churn/predict&#39;`);
    expect(html).to.include('<code>&quot;Yes&quot;</code>');
  });

  describe('in headless Chromium', () => {
    let browser: Browser | undefined;
    before(async function () {
      browser = await launchChromium(this);
    });
    after(async () => {
      await browser?.close();
    });

    it('renders with its style, no console error or CSP violation, no request but the page; shows a model\u2019s fields', async () => {
      const page = await browser!.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      const response = await page.goto(`${base}/docs`, { waitUntil: 'load' });
      expect(response?.status()).to.equal(200);
      expect(requests).to.deep.equal([`${base}/docs`]);
      expect(problems).to.deep.equal([]);
      const fields = await page.$$eval('#model-churn table.fields tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
      expect(fields).to.deep.equal([...CHURN_COLUMNS]);
      // The inline style sheet was allowed by its hash: the routes table has the style's border-collapse.
      expect(await page.$eval('table.routes', (t) => (globalThis as unknown as { getComputedStyle(e: unknown): { borderCollapse: string } }).getComputedStyle(t).borderCollapse)).to.equal('collapse');
      expect(await page.title()).to.include('mlpipe serve');
      await page.close();
    });
  });
});
