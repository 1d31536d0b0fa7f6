/**
 * The shared pieces of the OpenAPI document's operations: the names of the shared schemas, mlpipe's
 * error body, the error responses of each protocol by status (with their headers), and the small
 * helpers every route builder uses.
 */
import type { JsonSchema } from '../features/input-schema.js';
import { ref } from './model-schemas.js';

/** Component names of the shared schemas. */
export const ERROR = 'ErrorBody';
export const MODEL_ANSWER = 'ModelAnswer';
export const ANY_RECORD = 'AnyRecord';
export const ANY_PREDICTION = 'AnyPrediction';
/** The properties of a prediction of any model. */
export const ANY_PREDICTION_PROPERTIES: Record<string, JsonSchema> = {
  prediction: { type: ['string', 'number', 'boolean'], description: 'the class label in the target\u2019s own values, or the number' },
  probabilities: { type: 'object', additionalProperties: { type: 'number' }, description: 'classifiers: class label \u2192 probability' },
};
/** Bodies of the templated predict routes (any model). */
export const ANY_PREDICT_RESPONSE: JsonSchema = { type: 'object', properties: { ...ANY_PREDICTION_PROPERTIES, model: ref(MODEL_ANSWER) }, required: ['prediction', 'model'], additionalProperties: false };
export const ANY_BATCH_REQUEST: JsonSchema = { type: 'object', properties: { records: { type: 'array', items: ref(ANY_RECORD) } }, required: ['records'] };
export const ANY_BATCH_RESPONSE: JsonSchema = { type: 'object', properties: { predictions: { type: 'array', items: ref(ANY_PREDICTION) }, model: ref(MODEL_ANSWER) }, required: ['predictions', 'model'] };

/** mlpipe's error body. */
export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'stable machine-readable code: invalid_input, invalid_json, not_found, payload_too_large, unsupported_media_type, rate_limited, unauthorized, not_ready, …' },
        message: { type: 'string', description: 'one line saying what is wrong and where' },
        details: {
          type: 'array',
          description: 'one entry per problem, with the JSON Pointer of the value at fault (e.g. /records/3/age)',
          items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['path', 'message'], additionalProperties: false },
        },
      },
      required: ['code', 'message', 'details'],
      additionalProperties: false,
    },
  },
  required: ['error'],
  additionalProperties: false,
};

/** Whose error form a route answers in. */
export type Protocol = 'mlpipe' | 'v2' | 'mlflow';
const ERROR_SCHEMA_OF: Record<Protocol, string> = { mlpipe: ERROR, v2: 'V2Error', mlflow: 'MlflowError' };

/** Each error status: its response's name and what it means. */
export const STATUS_TEXT: Record<number, [string, string]> = {
  400: ['BadRequest', 'invalid input: the body is not valid JSON, or a value does not fit the model (each problem with its JSON path)'],
  401: ['Unauthorized', 'a missing or unknown API key (only when the server runs with --api-keys)'],
  404: ['NotFound', 'no model of that name (or version) is served'],
  405: ['MethodNotAllowed', 'the path exists but not for this method; `Allow` lists the methods it takes'],
  413: ['PayloadTooLarge', 'the body is larger than --body-limit, or a batch has more records than --max-batch-rows'],
  406: ['NotAcceptable', 'the Accept header allows none of the formats the route can answer in'],
  415: ['UnsupportedMediaType', 'a Content-Type (or charset, or Content-Encoding) the route does not read'],
  429: ['TooManyRequests', 'over the rate limit of this client (or API key); retry after `Retry-After` seconds'],
  503: ['ServiceUnavailable', 'the models are loading, the server is draining, or it is overloaded; retry after `Retry-After` seconds'],
};

/** The headers an error status comes with. */
export const HEADERS_OF_STATUS: Record<number, Record<string, unknown>> = {
  401: { 'WWW-Authenticate': { description: 'Bearer realm="mlpipe"', schema: { type: 'string' } } },
  405: { Allow: { description: 'the methods this path takes', schema: { type: 'string' } } },
  429: {
    'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } },
    RateLimit: { description: 'the remaining budget (IETF draft-8 RateLimit header)', schema: { type: 'string' } },
    'RateLimit-Policy': { description: 'the limit and window (IETF draft-8)', schema: { type: 'string' } },
  },
  503: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } },
};

/** The components/responses entries: each status in each protocol's error form. */
export function errorResponses(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const protocol of ['mlpipe', 'v2', 'mlflow'] as const) {
    for (const [status, [name, description]] of Object.entries(STATUS_TEXT)) {
      const headers = HEADERS_OF_STATUS[Number(status)];
      out[responseName(protocol, Number(status), name)] = {
        description,
        ...(headers ? { headers } : {}),
        content: { 'application/json': { schema: ref(ERROR_SCHEMA_OF[protocol]) } },
      };
    }
  }
  return out;
}

function responseName(protocol: Protocol, status: number, name = STATUS_TEXT[status]?.[0] ?? String(status)): string {
  return protocol === 'mlpipe' ? name : `${protocol === 'v2' ? 'V2' : 'Mlflow'}${name}`;
}

/** `responses` entries referring to the shared error responses for these statuses. */
export function errors(protocol: Protocol, statuses: readonly number[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of statuses) out[String(s)] = { $ref: `#/components/responses/${responseName(protocol, s)}` };
  return out;
}

/** A `content` object with one JSON media type. */
export const json = (schema: JsonSchema, extra: Record<string, unknown> = {}) => ({ 'application/json': { schema, ...extra } });
/** The `{name}` and `{version}` path parameters. */
export const nameParam = { name: 'name', in: 'path', required: true, description: 'the model name (see GET /v1/models)', schema: { type: 'string' } };
export const versionParam = { name: 'version', in: 'path', required: true, description: 'the model version; only the one served is found', schema: { type: 'string' } };
/** The response header naming the version that answered. */
export const modelHeader = { 'Mlpipe-Model': { description: 'name@version of the model version that answered', schema: { type: 'string' } } };

/** Statuses every guarded prediction route may answer with, besides its own 200. */
export const PREDICT_ERRORS = [400, 401, 404, 413, 415, 429, 503];
