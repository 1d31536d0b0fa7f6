/**
 * The routes of the standard protocols in the OpenAPI document: the Open Inference Protocol V2 and
 * the MLflow scoring server, documented as mlpipe answers them (bodies in protocol-schemas.ts).
 */
import type { JsonSchema } from '../features/input-schema.js';
import { ref } from './model-schemas.js';
import type { DocumentedModel } from './openapi.js';
import { ANY_RECORD, HEADERS_OF_STATUS, PREDICT_ERRORS, STATUS_TEXT, errors, json, modelHeader, nameParam, versionParam } from './operation-parts.js';

/** The Open Inference Protocol V2 routes (`/v2/...`), errors in the protocol's `{"error": message}` form. */
export function addV2Routes(paths: Record<string, Record<string, unknown>>): void {
  const op = (id: string, summary: string, response: Record<string, unknown>, statuses: number[], extra: Record<string, unknown> = {}) => ({
    tags: ['open-inference-v2'],
    operationId: id,
    summary,
    ...extra,
    responses: { 200: response, ...errors('v2', statuses) },
  });
  const ok = (schema: JsonSchema, description = 'OK') => ({ description, content: json(schema) });
  const readyBody: JsonSchema = { type: 'object', properties: { name: { type: 'string' }, ready: { type: 'boolean' } }, required: ['ready'] };
  const ready = ok(readyBody);
  // A readiness probe answers 503 with the same body (`"ready": false`) while loading or draining.
  const notReady = { 503: { description: 'not ready: models loading, or the server draining', headers: HEADERS_OF_STATUS[503], content: json(readyBody) } };
  paths['/v2'] = { get: op('v2ServerMetadata', 'server metadata', ok(ref('V2MetadataServerResponse')), [401]) };
  paths['/v2/health/live'] = { get: op('v2ServerLive', 'server live', ok({ type: 'object', properties: { live: { type: 'boolean' } } }), []) };
  paths['/v2/health/ready'] = { get: op('v2ServerReady', 'server ready (all models loaded)', ready, []) };
  Object.assign((paths['/v2/health/ready'].get as { responses: object }).responses, notReady);
  for (const versioned of [false, true]) {
    const base = versioned ? '/v2/models/{name}/versions/{version}' : '/v2/models/{name}';
    const parameters = versioned ? [nameParam, versionParam] : [nameParam];
    const suffix = versioned ? 'Version' : '';
    paths[base] = { parameters, get: op(`v2ModelMetadata${suffix}`, 'model metadata: inputs (one tensor per column) and outputs', ok(ref('V2MetadataModelResponse')), [401, 404]) };
    paths[`${base}/ready`] = { parameters, get: op(`v2ModelReady${suffix}`, 'model ready', ready, [401, 404]) };
    Object.assign((paths[`${base}/ready`]!.get as { responses: object }).responses, notReady);
    paths[`${base}/infer`] = {
      parameters,
      post: op(`v2Infer${suffix}`, 'inference: one input tensor per column (or one BYTES tensor of JSON records); outputs the label and the class probabilities', { ...ok(ref('V2InferenceResponse')), headers: modelHeader }, PREDICT_ERRORS, {
        requestBody: { required: true, content: json(ref('V2InferenceRequest')) },
      }),
    };
  }
}

/** The MLflow scoring server's routes, errors in MLflow's form; `/invocations` typed with the default model `def`. */
export function addMlflowRoutes(paths: Record<string, Record<string, unknown>>, def: DocumentedModel | undefined): void {
  const op = (id: string, summary: string, response: Record<string, unknown>, statuses: number[], extra: Record<string, unknown> = {}) => ({
    tags: ['mlflow'],
    operationId: id,
    summary,
    ...extra,
    responses: { 200: response, ...errors('mlflow', statuses) },
  });
  // As MLflow answers them: a newline, and the bare version, both labelled application/json.
  const text = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'string' } } } });
  paths['/ping'] = { get: op('mlflowPing', 'MLflow health check (503 until the models are loaded)', text('a newline'), [503]) };
  paths['/health'] = { get: op('mlflowHealth', 'MLflow health check (503 until the models are loaded)', text('a newline'), [503]) };
  paths['/version'] = { get: op('mlflowVersion', 'the server\u2019s version (mlpipe\u2019s)', text('the version as bare text, e.g. 0.1.0'), []) };
  // Typed with the default model's schemas at /invocations; any model's at /v1/models/{name}/invocations.
  const invocations = (id: string, summary: string, m: DocumentedModel | undefined) => {
    const record = m ? ref(m.schemas.record) : ref(ANY_RECORD);
    const value = m ? ref(m.schemas.value) : { type: ['string', 'number', 'boolean'] };
    const operation = op(
      id,
      summary,
      {
        description: '`{"predictions": [...]}`: one value per row, in order',
        headers: modelHeader,
        content: json({
          type: 'object',
          properties: {
            predictions: {
              type: 'array',
              items: { anyOf: [value, { type: 'array', items: { type: 'number' }, description: 'with `"params": {"predict_proba": true}` (classifiers): the class probabilities, in the order of the model\u2019s classes' }] },
            },
          },
          required: ['predictions'],
        }),
      },
      [400, 401, 404, 413, 429, 503],
      {
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                oneOf: [
                  { type: 'object', properties: { dataframe_split: ref('MlflowDataframeSplit'), params: ref('MlflowParams') }, required: ['dataframe_split'] },
                  { type: 'object', properties: { dataframe_records: { type: 'array', items: record }, params: ref('MlflowParams') }, required: ['dataframe_records'] },
                  { type: 'object', properties: { instances: { type: 'array', items: record }, params: ref('MlflowParams') }, required: ['instances'] },
                  { type: 'object', properties: { inputs: { anyOf: [{ type: 'array', items: record }, { type: 'object' }] }, params: ref('MlflowParams') }, required: ['inputs'] },
                ],
              },
              ...(m ? { example: { dataframe_records: [m.example] } } : {}),
            },
            'text/csv': { schema: { type: 'string', description: 'a header row of column names, then one row per record' } },
          },
        },
      },
    );
    // MLflow answers an unsupported Content-Type with a plain-text message, not its JSON error.
    (operation.responses as Record<string, unknown>)['415'] = { description: STATUS_TEXT[415]![1], content: { 'text/plain': { schema: { type: 'string' } } } };
    return operation;
  };
  paths['/invocations'] = { post: invocations('mlflowInvocations', `MLflow scoring: the ${def ? `default model (${def.name})` : 'default model'} predicts the rows`, def) };
  paths['/v1/models/{name}/invocations'] = { parameters: [nameParam], post: invocations('mlflowInvocationsOf', 'MLflow scoring by the model named in the path', undefined) };
}
