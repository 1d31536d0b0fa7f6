/**
 * The OpenAPI 3.1 document of `mlpipe serve`, generated from the served bundles' manifests: every
 * route of the server (mlpipe's v1 routes, health, metrics, the Open Inference Protocol V2 and the
 * MLflow scoring routes), each model's record, prediction and answer schemas, and the error bodies.
 * Pure: no Express, no files, so the server (`GET /openapi.json`), the /docs page and `mlpipe client`
 * build the very same document.
 */
import type { Manifest } from '../bundle/manifest.js';
import type { JsonSchema } from '../features/input-schema.js';
import { mlpipeVersion } from '../version.js';
import { type ModelSchemaNames, MODEL_ANSWER_SCHEMA, exampleRecord, modelComponents, ref, schemaNames, typeNames } from './model-schemas.js';
import {
  ANY_BATCH_REQUEST,
  ANY_BATCH_RESPONSE,
  ANY_PREDICTION,
  ANY_PREDICTION_PROPERTIES,
  ANY_PREDICT_RESPONSE,
  ANY_RECORD,
  ERROR,
  ERROR_SCHEMA,
  MODEL_ANSWER,
  PREDICT_ERRORS,
  errorResponses,
  errors,
  json,
  modelHeader,
  nameParam,
} from './operation-parts.js';
import { addMlflowRoutes, addV2Routes } from './protocol-paths.js';
import { MLFLOW_SCHEMAS, V2_SCHEMAS } from './protocol-schemas.js';
import { DEFAULT_PUBLIC_ROUTES, isPublicRoute } from './public-routes.js';

/** Options of {@link buildOpenApi}. */
export interface OpenApiOptions {
  /** The document's title (default `mlpipe serve`). */
  title?: string;
  /** The base URL clients call (`servers[0].url`); none when omitted (relative to where the document is). */
  serverUrl?: string;
  /** The model `POST /predict` answers with (default: the first manifest, as the server's default). */
  defaultModel?: string;
  /** `--max-batch-rows`: the most records a batch may have (`maxItems`); unbounded in the schema when omitted. */
  maxBatchRows?: number;
  /**
   * Whether the server asks for API keys: `optional` (the default: the schemes are documented and
   * operations accept no key too, as a server without `--api-keys` does) or `required`.
   */
  apiKeys?: 'optional' | 'required';
  /**
   * Routes a server answers without an API key (`--public-routes`): exact paths, or prefixes ending in
   * `*`; their operations get `security: []`. Default {@link DEFAULT_PUBLIC_ROUTES}.
   */
  publicRoutes?: readonly string[];
  /** A real record per model name (e.g. its first golden record) for examples; made up from the schema otherwise. */
  examples?: ReadonlyMap<string, Record<string, unknown>>;
}

/** What the document says about one model (also at `x-mlpipe-models`, for the docs page and the client generator). */
export interface DocumentedModel {
  name: string;
  version: string;
  task: Manifest['task'];
  target: string;
  classes?: string[];
  default: boolean;
  /** Its component schemas. */
  schemas: ModelSchemaNames;
  /** Its own paths: `/v1/models/<name>/predict` and `/predict/batch`. */
  paths: { predict: string; batch: string };
  /** An example record (real when the caller gave one). */
  example: Record<string, unknown>;
}

/** An OpenAPI 3.1 document, as plain JSON. */
export type OpenApiDocument = Record<string, unknown> & {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema> } & Record<string, unknown>;
  'x-mlpipe-models': DocumentedModel[];
};



/**
 * The OpenAPI 3.1 document for a server serving `manifests` (the first is the default model unless
 * `defaultModel` says otherwise). Routes of a model are documented twice: at its own paths
 * (`/v1/models/iris/predict`, with exact types: its record fields, its class labels) and at the
 * templated ones (`/v1/models/{name}/predict`, any model). Never throws for a valid manifest; column
 * names and class labels of any spelling (`__proto__`, spaces, unicode) are plain keys.
 */
export function buildOpenApi(manifests: readonly Manifest[], options: OpenApiOptions = {}): OpenApiDocument {
  const defaultName = options.defaultModel ?? manifests[0]?.name;
  const types = typeNames(manifests.map((m) => m.name));
  const schemas: Record<string, JsonSchema> = {
    [ERROR]: ERROR_SCHEMA,
    [MODEL_ANSWER]: MODEL_ANSWER_SCHEMA,
    [ANY_RECORD]: { type: 'object', description: 'one record: column name → value (see each model\u2019s own record schema)', additionalProperties: true },
    [ANY_PREDICTION]: { type: 'object', properties: ANY_PREDICTION_PROPERTIES, required: ['prediction'], additionalProperties: false },
    ...V2_SCHEMAS,
    ...MLFLOW_SCHEMAS,
  };
  const models: DocumentedModel[] = [];
  for (const m of manifests) {
    const names = schemaNames(types.get(m.name) as string);
    const components = modelComponents(m, names, MODEL_ANSWER, options.maxBatchRows);
    Object.assign(schemas, components);
    const base = `/v1/models/${encodeURIComponent(m.name)}`;
    models.push({
      name: m.name,
      version: m.version,
      task: m.task,
      target: m.target.name,
      ...(m.classes ? { classes: m.classes } : {}),
      default: m.name === defaultName,
      schemas: names,
      paths: { predict: `${base}/predict`, batch: `${base}/predict/batch` },
      example: exampleRecord(components[names.record] as JsonSchema, options.examples?.get(m.name)),
    });
  }
  const def = models.find((m) => m.default);

  const paths: Record<string, Record<string, unknown>> = {};
  addOperationsRoutes(paths);
  addModelRoutes(paths);
  for (const m of models) addModelPredictRoutes(paths, m);
  addDefaultPredictRoutes(paths, def);
  addStreamAndDriftRoutes(paths);
  addV2Routes(paths);
  addMlflowRoutes(paths, def);

  // Public routes need no key: `security: []` overrides the document's default.
  const publicRoutes = options.publicRoutes ?? DEFAULT_PUBLIC_ROUTES;
  for (const [path, item] of Object.entries(paths)) {
    if (!isPublicRoute(path, publicRoutes)) continue;
    for (const op of Object.values(item)) if (op !== null && typeof op === 'object' && 'responses' in op) (op as Record<string, unknown>).security = [];
  }

  const keysRequired = options.apiKeys === 'required';
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'mlpipe serve',
      version: mlpipeVersion(),
      description: describe(models, keysRequired),
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    tags: TAGS,
    // Keys are optional on a server (off by default): `{}` lets a client call without one.
    security: keysRequired ? [{ bearer: [] }, { apiKey: [] }] : [{ bearer: [] }, { apiKey: [] }, {}],
    paths,
    components: {
      schemas,
      responses: errorResponses(),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key as `Authorization: Bearer <key>` (servers started with --api-keys)' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'the same API key in the `X-API-Key` header' },
      },
    },
    'x-mlpipe-models': models,
  };
}

const TAGS = [
  { name: 'predict', description: 'mlpipe\u2019s prediction routes: one record, a batch, a stream' },
  { name: 'models', description: 'the models served, their reports and input drift' },
  { name: 'operations', description: 'health, readiness, metrics and this documentation (no API key needed)' },
  { name: 'open-inference-v2', description: 'the Open Inference Protocol V2 (KServe, Triton, MLServer clients)' },
  { name: 'mlflow', description: 'MLflow scoring server compatible routes (`mlflow models serve` clients)' },
];

function describe(models: readonly DocumentedModel[], keysRequired: boolean): string {
  const list = models.map((m) => `- \`${m.name}@${m.version}\`${m.default ? ' (default)' : ''}: ${m.task} of \`${m.target}\``).join('\n');
  return [
    `Models served:\n\n${list || '- none'}`,
    'Every prediction answer names the version that answered (`model` in the body, the `Mlpipe-Model` header). Every answer carries an `X-Request-Id` (the one the request sent, when it is sane).',
    'mlpipe\u2019s errors are `{"error": {"code", "message", "details": [{"path", "message"}]}}`; the `/v2` and MLflow routes answer errors in their own protocol\u2019s form. A known path called with another method answers 405 with `Allow`.',
    keysRequired ? 'This server requires an API key (`Authorization: Bearer <key>` or `X-API-Key`) on every route but health, readiness, metrics and the documentation.' : 'API keys are optional: a server started with `--api-keys` asks for one (`Authorization: Bearer <key>` or `X-API-Key`); health, readiness, metrics and the documentation never do.',
  ].join('\n\n');
}

function addOperationsRoutes(paths: Record<string, Record<string, unknown>>): void {
  const status = (properties: Record<string, JsonSchema>, required: string[]) => ({ type: 'object', properties, required });
  paths['/healthz'] = {
    get: { tags: ['operations'], operationId: 'healthz', summary: 'liveness: the process answers', responses: { 200: { description: 'alive', content: json(status({ status: { const: 'ok' } }, ['status'])) } } },
  };
  paths['/readyz'] = {
    get: {
      tags: ['operations'],
      operationId: 'readyz',
      summary: 'readiness: 503 until the models are loaded, and while draining',
      responses: {
        200: { description: 'ready', content: json(status({ status: { const: 'ready' }, models: { type: 'array', items: { type: 'string' }, description: 'name@version of each model' } }, ['status', 'models'])) },
        ...errors('mlpipe', [503]),
      },
    },
  };
  paths['/metrics'] = {
    get: {
      tags: ['operations'],
      operationId: 'metrics',
      summary: 'Prometheus metrics (text exposition format), every name prefixed mlpipe_',
      responses: { 200: { description: 'the metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  };
  paths['/openapi.json'] = {
    get: { tags: ['operations'], operationId: 'openapi', summary: 'this document, for the models served now', responses: { 200: { description: 'an OpenAPI 3.1 document', content: json({ type: 'object' }) } } },
  };
  paths['/docs'] = {
    get: { tags: ['operations'], operationId: 'docs', summary: 'this document as one self-contained HTML page', responses: { 200: { description: 'an HTML page', content: { 'text/html': { schema: { type: 'string' } } } } } },
  };
}

function addModelRoutes(paths: Record<string, Record<string, unknown>>): void {
  const summary: JsonSchema = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      version: { type: 'string' },
      default: { type: 'boolean', description: 'answers POST /predict' },
      task: { enum: ['classification', 'regression'] },
      target: { type: 'string' },
      classes: { type: 'array', items: { type: 'string' } },
      createdAt: { type: 'string', format: 'date-time' },
      metrics: { type: ['object', 'null'], description: 'holdout headline: accuracy and macroF1, or r2, rmse and mae; null without a holdout' },
      links: { type: 'object', additionalProperties: { type: 'string' } },
    },
    required: ['name', 'version', 'default', 'task', 'target', 'createdAt', 'metrics', 'links'],
  };
  paths['/v1/models'] = {
    get: {
      tags: ['models'],
      operationId: 'listModels',
      summary: 'the models served, with version, task and holdout metrics',
      responses: { 200: { description: 'the models', content: json({ type: 'object', properties: { models: { type: 'array', items: summary } }, required: ['models'] }) }, ...errors('mlpipe', [401]) },
    },
  };
  paths['/v1/models/{name}'] = {
    parameters: [nameParam],
    get: {
      tags: ['models'],
      operationId: 'getModel',
      summary: 'one model: its summary plus input schema, model, featurizer, evaluation and lineage',
      responses: {
        200: { description: 'the model', content: json({ allOf: [summary], properties: { inputSchema: { type: 'object' }, evaluation: { type: 'object' }, lineage: { type: 'object' } }, required: ['inputSchema'] }) },
        ...errors('mlpipe', [401, 404]),
      },
    },
  };
  paths['/v1/models/{name}/report'] = {
    parameters: [nameParam],
    get: {
      tags: ['models'],
      operationId: 'getModelReport',
      summary: 'the training report (report.html of the bundle: static, no script)',
      responses: { 200: { description: 'the report', content: { 'text/html': { schema: { type: 'string' } } } }, ...errors('mlpipe', [401, 404]) },
    },
  };
}

function predictOperation(id: string, summary: string, request: JsonSchema, response: JsonSchema, example: unknown, model?: string): Record<string, unknown> {
  return {
    tags: ['predict'],
    operationId: id,
    summary,
    ...(model !== undefined ? { 'x-mlpipe-model': model } : {}),
    requestBody: { required: true, content: json(request, example !== undefined ? { example } : {}) },
    responses: { 200: { description: 'the prediction(s), and the version that answered', headers: modelHeader, content: json(response) }, ...errors('mlpipe', PREDICT_ERRORS) },
  };
}

/** An operationId part for a model name: letters, digits and `_` only. */
const idOf = (name: string) => name.replace(/[^A-Za-z0-9]/g, '_');

function addModelPredictRoutes(paths: Record<string, Record<string, unknown>>, m: DocumentedModel): void {
  const s = m.schemas;
  paths[m.paths.predict] = { post: predictOperation(`predict_${idOf(m.name)}`, `one record \u2192 ${m.name}\u2019s prediction`, ref(s.record), ref(s.predictResponse), m.example, m.name) };
  paths[m.paths.batch] = {
    post: predictOperation(`predictBatch_${idOf(m.name)}`, `many records \u2192 ${m.name}\u2019s predictions, in order`, ref(s.batchRequest), ref(s.batchResponse), { records: [m.example] }, m.name),
  };
}


function addDefaultPredictRoutes(paths: Record<string, Record<string, unknown>>, def: DocumentedModel | undefined): void {
  const s = def?.schemas;
  paths['/v1/models/{name}/predict'] = { parameters: [nameParam], post: predictOperation('predict', 'one record \u2192 its prediction (any model)', ref(ANY_RECORD), ANY_PREDICT_RESPONSE, def?.example) };
  paths['/v1/models/{name}/predict/batch'] = {
    parameters: [nameParam],
    post: predictOperation('predictBatch', 'many records \u2192 their predictions, in order (any model)', ANY_BATCH_REQUEST, ANY_BATCH_RESPONSE, def ? { records: [def.example] } : undefined),
  };
  const who = def ? `the default model (${def.name})` : 'the default model';
  paths['/predict'] = { post: predictOperation('predictDefault', `one record \u2192 the prediction of ${who}`, s ? ref(s.record) : ref(ANY_RECORD), s ? ref(s.predictResponse) : ANY_PREDICT_RESPONSE, def?.example) };
  paths['/predict/batch'] = {
    post: predictOperation('predictBatchDefault', `many records \u2192 the predictions of ${who}`, s ? ref(s.batchRequest) : ANY_BATCH_REQUEST, s ? ref(s.batchResponse) : ANY_BATCH_RESPONSE, def ? { records: [def.example] } : undefined),
  };
}

function addStreamAndDriftRoutes(paths: Record<string, Record<string, unknown>>): void {
  const stream = (id: string, summary: string) => ({
    tags: ['predict'],
    operationId: id,
    summary,
    description:
      'NDJSON (one record per line) or CSV (a header row first) streamed in; predictions streamed out in the same format, or as `Accept` asks. CSV output has `prediction` and one `proba_<label>` column per class, as `mlpipe predict` writes. A bad row becomes an error line for that row (NDJSON `{"row": n, "error": {…}}`, CSV an `error` column), not a failed request. Not bounded by --body-limit or --max-batch-rows.',
    parameters: [{ name: 'id', in: 'query', required: false, description: 'a column to copy into each output row', schema: { type: 'string' } }],
    requestBody: {
      required: true,
      content: {
        'application/x-ndjson': { schema: { type: 'string' } },
        'application/jsonl': { schema: { type: 'string' } },
        'application/x-jsonlines': { schema: { type: 'string' } },
        'text/csv': { schema: { type: 'string' } },
      },
    },
    responses: {
      200: {
        description: 'predictions, one line per input row',
        headers: modelHeader,
        content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'application/jsonl': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } },
      },
      ...errors('mlpipe', [400, 401, 404, 406, 415, 429, 503]),
    },
  });
  paths['/v1/models/{name}/predict/stream'] = { parameters: [nameParam], post: stream('predictStream', 'stream records in, predictions out (NDJSON or CSV)') };
  paths['/predict/stream'] = { post: stream('predictStreamDefault', 'the same for the default model') };
  paths['/v1/models/{name}/drift'] = {
    parameters: [nameParam],
    get: {
      tags: ['models'],
      operationId: 'getDrift',
      summary: 'live statistics of the inputs since start beside the training profile, with a population stability index per field',
      responses: {
        200: { description: 'per field: missing rate, mean and quantiles of numbers, category frequencies, unknown-category rate, PSI', content: json({ type: 'object', properties: { model: ref(MODEL_ANSWER) }, required: ['model'], additionalProperties: true }) },
        ...errors('mlpipe', [401, 404]),
      },
    },
  };
}

