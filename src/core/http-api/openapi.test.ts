import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import type { Manifest } from '../bundle/manifest.js';
import { resolveRef } from '../bundle/store.js';
import { verifyBundle } from '../bundle/verify.js';
import { buildApiBundles, CHURN_COLUMNS } from '../../test-helpers/api-bundles.js';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { type OpenApiDocument, buildOpenApi } from './openapi.js';
import { toSchema2020, typeNames } from './model-schemas.js';

/** Validates a document as the JSON a client downloads (so null-prototype objects are checked as they serialize). */
async function validate(doc: unknown): Promise<{ valid: boolean; errors: unknown }> {
  const v = new Validator();
  const res = await v.validate(JSON.parse(JSON.stringify(doc)) as Record<string, unknown>);
  return { valid: res.valid, errors: res.errors };
}

const schema = (doc: OpenApiDocument, name: string) => doc.components.schemas[name] as Record<string, unknown>;

describe('OpenAPI document (buildOpenApi)', function () {
  this.timeout(120_000);
  let manifests: Manifest[];

  before(async () => {
    const store = await buildApiBundles(await tempDir());
    manifests = [];
    for (const ref of ['churn', 'penguins', 'cars']) manifests.push(await verifyBundle((await resolveRef(ref, store)).dir));
  });
  after(cleanupTempDirs);

  it('is a valid OpenAPI 3.1 document for three bundles at once (binary Yes/No, multi-class, regression), by a real validator', async () => {
    const doc = buildOpenApi(manifests, { maxBatchRows: 10_000 });
    expect(doc.openapi).to.equal('3.1.0');
    const res = await validate(doc);
    expect(res.valid, JSON.stringify(res.errors)).to.equal(true);
  });

  it('is valid in every variant: each bundle alone, none, keys required, a server URL, another default model', async () => {
    const variants: [string, OpenApiDocument][] = [
      ['none', buildOpenApi([])],
      ...manifests.map((m): [string, OpenApiDocument] => [m.name, buildOpenApi([m])]),
      ['keys required', buildOpenApi(manifests, { apiKeys: 'required', serverUrl: 'http://127.0.0.1:8080' })],
      ['default cars', buildOpenApi(manifests, { defaultModel: 'cars' })],
    ];
    for (const [what, doc] of variants) {
      const res = await validate(doc);
      expect(res.valid, `${what}: ${JSON.stringify(res.errors)}`).to.equal(true);
    }
  });

  it('the validator is not a rubber stamp: a document missing a required part is refused', async () => {
    const doc = JSON.parse(JSON.stringify(buildOpenApi(manifests))) as OpenApiDocument;
    delete (doc.info as Record<string, unknown>).title;
    expect((await validate(doc)).valid).to.equal(false);
    const optionalPathParam = JSON.parse(JSON.stringify(buildOpenApi(manifests))) as OpenApiDocument;
    (optionalPathParam.paths['/v1/models/{name}']!.parameters as { required: boolean }[])[0]!.required = false;
    expect((await validate(optionalPathParam)).valid).to.equal(false);
    const bad = JSON.parse(JSON.stringify(buildOpenApi(manifests))) as OpenApiDocument;
    (bad.components.securitySchemes as Record<string, unknown>).bearer = { type: 'http' }; // scheme missing
    expect((await validate(bad)).valid).to.equal(false);
  });

  it('documents every route of the server, each model at its own paths with its own schemas, and the templated paths', () => {
    const doc = buildOpenApi(manifests);
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/healthz', '/readyz', '/metrics', '/openapi.json', '/docs',
      '/v1/models', '/v1/models/{name}', '/v1/models/{name}/report', '/v1/models/{name}/drift',
      '/v1/models/{name}/predict', '/v1/models/{name}/predict/batch', '/v1/models/{name}/predict/stream',
      '/predict', '/predict/batch', '/predict/stream',
      '/v2', '/v2/health/live', '/v2/health/ready', '/v2/models/{name}', '/v2/models/{name}/ready', '/v2/models/{name}/infer',
      '/v2/models/{name}/versions/{version}', '/v2/models/{name}/versions/{version}/ready', '/v2/models/{name}/versions/{version}/infer',
      '/ping', '/health', '/version', '/invocations', '/v1/models/{name}/invocations',
      '/v1/models/churn/predict', '/v1/models/churn/predict/batch', '/v1/models/penguins/predict', '/v1/models/cars/predict/batch',
    ]) {
      expect(paths, p).to.include(p);
    }
    const churn = doc.paths['/v1/models/churn/predict']!.post as { requestBody: { content: Record<string, { schema: unknown }> }; responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
    expect(churn.requestBody.content['application/json']!.schema).to.deep.equal({ $ref: '#/components/schemas/ChurnRecord' });
    expect(churn.responses['200']!.content!['application/json']!.schema).to.deep.equal({ $ref: '#/components/schemas/ChurnPredictResponse' });
    // The default model (the first) types /predict and the MLflow records.
    expect(JSON.stringify(doc.paths['/predict'])).to.include('ChurnRecord');
    expect(JSON.stringify(doc.paths['/invocations'])).to.include('ChurnRecord');
    expect(JSON.stringify(buildOpenApi(manifests, { defaultModel: 'cars' }).paths['/predict'])).to.include('CarsRecord');
    // Every operationId is unique.
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).filter((op) => op && typeof op === 'object' && 'operationId' in (op as object)).map((op) => (op as { operationId: string }).operationId));
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('types predictions exactly: the Yes/No labels as they were spelled, the penguin classes, a number for regression; probabilities keyed by the classes', () => {
    const doc = buildOpenApi(manifests);
    expect(schema(doc, 'ChurnValue')).to.include({ type: 'string' });
    expect(schema(doc, 'ChurnValue').enum).to.deep.equal(['No', 'Yes']);
    expect(schema(doc, 'PenguinsValue').enum).to.deep.equal(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(schema(doc, 'CarsValue')).to.include({ type: 'number' });
    const churnPrediction = schema(doc, 'ChurnPrediction') as { properties: { probabilities: { properties: object; required: string[] } }; required: string[] };
    expect(Object.keys(churnPrediction.properties.probabilities.properties)).to.deep.equal(['No', 'Yes']);
    expect(churnPrediction.required).to.deep.equal(['prediction', 'probabilities']);
    const cars = schema(doc, 'CarsPrediction') as { properties: object; required: string[] };
    expect(Object.keys(cars.properties)).to.deep.equal(['prediction']);
    expect(schema(doc, 'CarsPredictResponse').required).to.deep.equal(['prediction', 'model']);
  });

  it('keeps odd column names as plain keys of the record schema: spaces, dots, unicode, __proto__, constructor, quotes, markup', () => {
    const doc = buildOpenApi(manifests);
    const text = JSON.stringify(doc);
    const parsed = JSON.parse(text) as OpenApiDocument;
    const properties = (parsed.components.schemas.ChurnRecord as { properties: Record<string, unknown> }).properties;
    expect(Object.keys(properties)).to.deep.equal([...CHURN_COLUMNS]);
    expect(Object.hasOwn(properties, '__proto__')).to.equal(true);
    expect(properties.constructor).to.deep.equal({ type: ['number', 'null'] });
    // Nothing of the manifest's draft-07 header leaks into the 3.1 document.
    expect(text).not.to.include('draft-07');
    // The record schema is the bundle's input schema otherwise unchanged.
    const input = manifests[0]!.inputSchema as { properties: Record<string, unknown> };
    expect(JSON.stringify(properties)).to.equal(JSON.stringify(input.properties));
  });

  it('moves draft-07 keywords to 2020-12 (tuple items, definitions, dependencies) and drops $schema and $id', () => {
    const out = toSchema2020({
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: 'x',
      definitions: { a: { type: 'string' } },
      properties: { t: { items: [{ type: 'number' }], additionalItems: false }, l: { items: { type: 'string' }, additionalItems: false } },
      dependencies: { a: ['b'], c: { required: ['d'] } },
    });
    expect(JSON.parse(JSON.stringify(out))).to.deep.equal({
      $defs: { a: { type: 'string' } },
      properties: { t: { prefixItems: [{ type: 'number' }], items: false }, l: { items: { type: 'string' } } },
      dependentRequired: { a: ['b'] },
      dependentSchemas: { c: { required: ['d'] } },
    });
  });

  it('gives every bundle name a distinct type name', () => {
    expect([...typeNames(['churn', 'scoring-strict', 'scoring_strict', '9lives', 'a.b', 'any']).values()]).to.deep.equal(['Churn', 'ScoringStrict', 'ScoringStrict2', 'Model9lives', 'AB', 'Any2']);
  });

  it('every $ref points at a component that exists, and every component schema of a model is referenced', () => {
    const doc = buildOpenApi(manifests);
    const refs = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref' && typeof v === 'string') refs.add(v);
          else walk(v);
        }
      }
    };
    walk(JSON.parse(JSON.stringify(doc)));
    for (const r of refs) {
      const [, kind, name] = /^#\/components\/(schemas|responses)\/(.+)$/.exec(r) ?? [];
      expect(kind, r).to.be.a('string');
      expect((doc.components as Record<string, Record<string, unknown>>)[kind!], r).to.have.property(name!);
    }
    for (const m of doc['x-mlpipe-models']) for (const name of Object.values(m.schemas)) expect(refs, name).to.include(`#/components/schemas/${name}`);
  });

  it('marks health, readiness, metrics and the documentation as needing no key, and keys as optional unless required', () => {
    const doc = buildOpenApi(manifests);
    for (const p of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs', '/v2/health/live', '/ping']) expect((doc.paths[p]!.get as { security: unknown[] }).security, p).to.deep.equal([]);
    expect((doc.paths['/predict']!.post as { security?: unknown }).security).to.equal(undefined);
    expect(doc.security).to.deep.include({});
    const strict = buildOpenApi(manifests, { apiKeys: 'required', publicRoutes: ['/healthz', '/v1/*'] });
    expect(strict.security).not.to.deep.include({});
    expect((strict.paths['/v1/models/{name}/predict']!.post as { security: unknown[] }).security).to.deep.equal([]);
    expect((strict.paths['/metrics']!.get as { security?: unknown }).security).to.equal(undefined);
  });
});
