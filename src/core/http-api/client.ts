/**
 * `mlpipe client`: a typed TypeScript client generated from the OpenAPI document of a set of bundles.
 * Types come from the document's component schemas through json-schema-to-typescript (one record
 * interface per model, its prediction value as a union of the class labels, its probabilities keyed
 * by the classes); the calls are a small fixed template over the global `fetch`, so the file has no
 * dependency and compiles on its own under `strict`.
 */
import { compile } from 'json-schema-to-typescript';
import type { Manifest } from '../bundle/manifest.js';
import { resolveRef } from '../bundle/store.js';
import { readManifest } from '../bundle/verify.js';
import { ConfigError } from '../errors.js';
import type { JsonSchema } from '../features/input-schema.js';
import { mlpipeVersion } from '../version.js';
import { SCHEMA_REF } from './model-schemas.js';
import { type OpenApiDocument, buildOpenApi } from './openapi.js';

/** Component schemas every client needs besides each model's own. */
const SHARED_ROOTS = ['ErrorBody', 'ModelAnswer', 'V2Error', 'V2InferenceRequest', 'V2InferenceResponse'];

/** Type names the template declares itself: a component of the same name would clash. */
const TEMPLATE_NAMES = new Set(['Models', 'ModelName', 'ClientOptions', 'MlpipeApiError', 'ModelClient', 'MlpipeClient', 'ModelSummary', 'ErrorDetail', 'FetchLike', 'MODELS', 'DEFAULT_MODEL', 'createClient']);

/** A schema comes from a bundle: a `$ref` to a file or URL in it is never followed (no read, no download). */
const NO_EXTERNAL_REFS = { resolve: { external: false, file: false, http: false } } as const;

/** Nesting deeper than this in a component schema is refused rather than walked. */
const MAX_DEPTH = 64;

/** `$ref`s to components become json-schema-to-typescript's `tsType` (the other component's type name); `*\/` in text cannot end a comment. */
function forCompile(node: unknown, refs: Set<string>, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new Error(`a schema nests deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(node)) return node.map((n) => forCompile(n, refs, depth + 1));
  if (typeof node === 'string') return node;
  if (node === null || typeof node !== 'object') return node;
  const src = node as Record<string, unknown>;
  if (typeof src.$ref === 'string' && src.$ref.startsWith(SCHEMA_REF)) {
    const name = src.$ref.slice(SCHEMA_REF.length);
    refs.add(name);
    return { tsType: name };
  }
  if (typeof src.$ref === 'string' && !src.$ref.startsWith('#')) {
    throw new ConfigError(`a schema refers to ${JSON.stringify(src.$ref.slice(0, 100))}: a client is generated from the bundle alone, and only references inside it are followed`);
  }
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(src)) {
    const value = src[key];
    if (key === 'description' && typeof value === 'string') out[key] = value.replace(/\*\//g, '*\\/');
    else if (key === 'title' || key === 'examples') continue; // a title would rename the type; examples are noise in types
    else out[key] = forCompile(value, refs, depth + 1);
  }
  return out;
}

/** Members every object has in TypeScript's eyes (Object's), which a column may be named after. */
const OBJECT_MEMBERS = ['constructor', 'toString', 'toLocaleString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable'];
const TS_OF_JSON: Record<string, string> = { number: 'number', integer: 'number', string: 'string', boolean: 'boolean', null: 'null', array: 'unknown[]', object: '{ [k: string]: unknown }' };

/**
 * A field named after a member of Object (`constructor`, `toString`, …): TypeScript gives every
 * object, `{}` included, that member with Object's type, so a record that leaves the field out would
 * not type-check against `constructor?: number | null`. Its type also admits Object's member
 * (`number | null | Object['constructor']`), which JSON leaves out just like a missing field.
 */
function typeObjectMembers(record: JsonSchema): void {
  const properties = record.properties as Record<string, JsonSchema> | undefined;
  if (!properties) return;
  for (const member of OBJECT_MEMBERS) {
    if (!Object.hasOwn(properties, member)) continue;
    const p = properties[member] as JsonSchema;
    const types = Array.isArray(p.type) ? p.type : typeof p.type === 'string' ? [p.type] : [];
    const ts = types.length ? [...new Set(types.map((t) => TS_OF_JSON[String(t)] ?? 'unknown'))] : ['unknown'];
    p.tsType = `${ts.join(' | ')} | Object['${member}']`;
    const note = `also typed as Object's own \`${member}\`, so that a record without this field type-checks`;
    p.description = typeof p.description === 'string' ? `${p.description}; ${note}` : note;
  }
}

/** Options of {@link generateClient}. */
export interface ClientOptions {
  /** The base URL the client calls when its caller gives none (default: none, the caller must). */
  baseUrl?: string;
}

/**
 * The TypeScript source of a client for the models of `doc` (built by buildOpenApi from the
 * bundles). Exports `MlpipeClient` (`predict(record)` and `predictBatch(records)` for the first model,
 * `model(name)` for any, `models()`, `infer()` of the Open Inference Protocol V2), `createClient`,
 * the `MlpipeApiError` it throws with the server's error body, and one type per schema.
 *
 * Record types list the model's fields only (no index signature), so a misspelt field in an object
 * literal is a compile error; the server itself ignores fields it does not know.
 */
export async function generateClient(doc: OpenApiDocument, options: ClientOptions = {}): Promise<string> {
  const models = doc['x-mlpipe-models'];
  if (models.length === 0) throw new Error('no model to generate a client for');
  const schemas = doc.components.schemas;
  const records = new Set(models.map((m) => m.schemas.record));
  const queue = [...SHARED_ROOTS, ...models.flatMap((m) => Object.values(m.schemas))];
  const done = new Set<string>();
  const types: string[] = [];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (done.has(name)) continue;
    done.add(name);
    if (TEMPLATE_NAMES.has(name)) throw new Error(`schema ${name} would clash with a name of the client template`);
    const schema = schemas[name];
    if (!schema) throw new Error(`the document has no schema ${name}`);
    const refs = new Set<string>();
    const prepared = forCompile(schema, refs) as JsonSchema;
    if (records.has(name)) {
      prepared.additionalProperties = false;
      typeObjectMembers(prepared);
    }
    types.push((await compile(prepared as Parameters<typeof compile>[0], name, { bannerComment: '', format: true, style: { printWidth: 120, singleQuote: true }, additionalProperties: false, $refOptions: NO_EXTERNAL_REFS, declareExternallyReferenced: false, strictIndexSignatures: true })).trim());
    for (const r of refs) if (!done.has(r)) queue.push(r);
  }

  const first = models[0]!;
  const table = Object.fromEntries(models.map((m) => [m.name, { version: m.version, task: m.task, ...(m.classes ? { classes: m.classes } : {}), predict: m.paths.predict, batch: m.paths.batch }]));
  const modelsType = models
    .map((m) => `  ${JSON.stringify(m.name)}: { record: ${m.schemas.record}; value: ${m.schemas.value}; prediction: ${m.schemas.prediction}; predictResponse: ${m.schemas.predictResponse}; batchResponse: ${m.schemas.batchResponse} };`)
    .join('\n');
  const refs = models.map((m) => `${m.name}@${m.version}`).join(', ');
  return `// Generated by \`mlpipe client\` (mlpipe ${mlpipeVersion()}) for ${refs}. Do not edit: generate it again.
// No dependency: it calls the global fetch (Node 18+, browsers, Deno, Bun).

${types.join('\n\n')}

/** The models this client was generated for: each one's record, prediction and answer types. */
export interface Models {
${modelsType}
}

/** The name of a model this client knows. */
export type ModelName = keyof Models;

/** What the client knows of each model: the version it was generated from, its task, classes and paths. */
export const MODELS = ${JSON.stringify(table, null, 2)} as const;

/** The model \`predict\` and \`predictBatch\` call: the first bundle the client was generated for. */
export const DEFAULT_MODEL = ${JSON.stringify(first.name)} as const;

/** One problem of a request, with the JSON Pointer of the value at fault. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/** One model of \`GET /v1/models\`. */
export interface ModelSummary {
  name: string;
  version: string;
  default: boolean;
  task: 'classification' | 'regression';
  target: string;
  classes?: string[];
  createdAt: string;
  metrics: Record<string, number> | null;
  links: Record<string, string>;
}

/** The part of fetch the client uses. */
export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{ status: number; text(): Promise<string> }>;

/** Options of {@link MlpipeClient}. */
export interface ClientOptions {
  /** The server, e.g. \`http://127.0.0.1:8080\`${options.baseUrl ? ` (default ${JSON.stringify(options.baseUrl)})` : ''}. */
  baseUrl${options.baseUrl ? '?' : ''}: string;
  /** An API key, sent as \`Authorization: Bearer <key>\` (for a server started with --api-keys). */
  apiKey?: string;
  /** More headers for every request (e.g. X-Request-Id). */
  headers?: Record<string, string>;
  /** A fetch to use instead of the global one. */
  fetch?: FetchLike;
}

/** A request the server refused or failed: its status and error body (mlpipe's \`{"error": {code, message, details}}\`, or the V2 \`{"error": message}\`). */
export class MlpipeApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];
  readonly body: ErrorBody | V2Error | undefined;

  constructor(status: number, body: ErrorBody | V2Error | undefined, fallback: string) {
    const error: unknown = body?.error;
    const structured = typeof error === 'object' && error !== null ? (error as ErrorBody['error']) : undefined;
    super(structured?.message ?? (typeof error === 'string' ? error : fallback));
    this.name = 'MlpipeApiError';
    this.status = status;
    this.code = structured?.code ?? (status === 0 ? 'network' : 'http_' + status);
    this.details = structured?.details ?? [];
    this.body = body;
  }
}

/** Calls for one model: \`predict\`, \`predictBatch\` and the V2 \`infer\`. */
export class ModelClient<N extends ModelName> {
  constructor(
    private readonly client: MlpipeClient,
    readonly name: N,
  ) {}

  /** One record → its prediction, and the version that answered. */
  predict(record: Models[N]['record']): Promise<Models[N]['predictResponse']> {
    return this.client.request('POST', MODELS[this.name].predict, record) as Promise<Models[N]['predictResponse']>;
  }

  /** Many records → their predictions in order (one request; the server bounds its size by --max-batch-rows). */
  predictBatch(records: readonly Models[N]['record'][]): Promise<Models[N]['batchResponse']> {
    return this.client.request('POST', MODELS[this.name].batch, { records }) as Promise<Models[N]['batchResponse']>;
  }

  /** Open Inference Protocol V2 inference on this model (\`POST /v2/models/<name>/infer\`). */
  infer(request: V2InferenceRequest): Promise<V2InferenceResponse> {
    return this.client.request('POST', '/v2/models/' + encodeURIComponent(this.name) + '/infer', request) as Promise<V2InferenceResponse>;
  }
}

/** A client of \`mlpipe serve\` for ${refs}. */
export class MlpipeClient {
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly fetchFn: FetchLike;

  constructor(options: ClientOptions${options.baseUrl ? ' = {}' : ''}) {
    const baseUrl = options.baseUrl${options.baseUrl ? ` ?? ${JSON.stringify(options.baseUrl)}` : ''};
    this.baseUrl = baseUrl.replace(/\\/+$/, '');
    this.headers = { accept: 'application/json', ...options.headers, ...(options.apiKey !== undefined ? { authorization: 'Bearer ' + options.apiKey } : {}) };
    const fetchFn = options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
    if (!fetchFn) throw new Error('no fetch: run on Node 18 or later, or pass options.fetch');
    this.fetchFn = fetchFn;
  }

  /** The calls of one model. */
  model<N extends ModelName>(name: N): ModelClient<N> {
    return new ModelClient(this, name);
  }

  /** One record → the prediction of ${first.name} (the first model of this client). */
  predict(record: Models[typeof DEFAULT_MODEL]['record']): Promise<Models[typeof DEFAULT_MODEL]['predictResponse']> {
    return this.model(DEFAULT_MODEL).predict(record);
  }

  /** Many records → the predictions of ${first.name}, in order. */
  predictBatch(records: readonly Models[typeof DEFAULT_MODEL]['record'][]): Promise<Models[typeof DEFAULT_MODEL]['batchResponse']> {
    return this.model(DEFAULT_MODEL).predictBatch(records);
  }

  /** The models the server serves now (\`GET /v1/models\`). */
  async models(): Promise<ModelSummary[]> {
    return ((await this.request('GET', '/v1/models')) as { models: ModelSummary[] }).models;
  }

  /** Open Inference Protocol V2 inference (\`POST /v2/models/<name>/infer\`). */
  infer(model: ModelName, request: V2InferenceRequest): Promise<V2InferenceResponse> {
    return this.model(model).infer(request);
  }

  /** One JSON request; a status other than 2xx throws {@link MlpipeApiError} with the server's error body. */
  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const headers = body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' };
    let res: { status: number; text(): Promise<string> };
    try {
      res = await this.fetchFn(this.baseUrl + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (err) {
      throw new MlpipeApiError(0, undefined, method + ' ' + this.baseUrl + path + ': ' + (err instanceof Error ? err.message : String(err)));
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.status < 200 || res.status > 299) {
      const errorBody = typeof parsed === 'object' && parsed !== null && 'error' in parsed ? (parsed as ErrorBody | V2Error) : undefined;
      throw new MlpipeApiError(res.status, errorBody, method + ' ' + path + ': HTTP ' + res.status);
    }
    return parsed;
  }
}

/** \`new MlpipeClient(options)\`. */
export function createClient(options: ClientOptions${options.baseUrl ? ' = {}' : ''}): MlpipeClient {
  return new MlpipeClient(options);
}
`;
}

/** What {@link clientForBundles} made: the source, and the bundles it types (`name@version`). */
export interface GeneratedClient {
  source: string;
  bundles: string[];
}

/**
 * A typed client for bundles of a store: each reference (`name`, `name@1.2.0`, `name@alias`, a
 * folder, `npm:…`) resolved in `artifacts` (any store; a remote bundle is verified into the cache),
 * its manifest read and checked, then {@link generateClient} over {@link buildOpenApi} of them all.
 * The first reference is the client's default model.
 *
 * @throws NotFoundError for a reference that resolves to nothing; ConfigError for two bundles of one name.
 */
export async function clientForBundles(options: { refs: readonly string[]; artifacts: string; baseUrl?: string }): Promise<GeneratedClient> {
  const manifests: Manifest[] = [];
  for (const ref of options.refs) {
    const resolved = await resolveRef(ref, options.artifacts);
    const manifest = resolved.verified ?? (await readManifest(resolved.dir));
    const twin = manifests.find((m) => m.name === manifest.name);
    if (twin) throw new ConfigError(`${ref}: a second bundle named "${manifest.name}" (${twin.version} and ${manifest.version}); a client types one version per model name, as a server serves one`);
    manifests.push(manifest);
  }
  const doc = buildOpenApi(manifests, options.baseUrl !== undefined ? { serverUrl: options.baseUrl } : {});
  const source = await generateClient(doc, options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {});
  return { source, bundles: manifests.map((m) => `${m.name}@${m.version}`) };
}
