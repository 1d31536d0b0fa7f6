/**
 * The JSON Schemas of one served model as an HTTP API describes it: its record (the bundle's input
 * schema, moved from draft-07 to JSON Schema 2020-12, the dialect of OpenAPI 3.1), its prediction
 * value (the class labels as an enum in the target's own values, or a number) and probabilities
 * (keyed by the classes), and the request and answer bodies built from them. Pure data: used by the
 * OpenAPI document, the /docs page and `mlpipe client`.
 */
import type { Manifest } from '../bundle/manifest.js';
import { dict } from '../records/dict.js';
import type { JsonSchema } from '../features/input-schema.js';
import { labelValues } from '../models/task.js';

/** Where a model's schemas live under `#/components/schemas/` (names for documents and generated types). */
export interface ModelSchemaNames {
  /** One input record: `<Name>Record`. */
  record: string;
  /** The prediction value: class labels enum or number: `<Name>Value`. */
  value: string;
  /** One prediction `{prediction, probabilities?}`: `<Name>Prediction`. */
  prediction: string;
  /** The answer of a single predict route (the prediction and `model`): `<Name>PredictResponse`. */
  predictResponse: string;
  /** `{"records": [...]}`: `<Name>BatchRequest`. */
  batchRequest: string;
  /** `{"predictions": [...], "model"}`: `<Name>BatchResponse`. */
  batchResponse: string;
}

/** The prefix of every component schema reference. */
export const SCHEMA_REF = '#/components/schemas/';

/** `{"$ref": "#/components/schemas/<name>"}` */
export const ref = (name: string): JsonSchema => ({ $ref: `${SCHEMA_REF}${name}` });

/** Type names a model may not take: with a suffix they are the names of shared schemas (`AnyRecord`, `AnyPrediction`). */
const RESERVED_TYPE_NAMES = ['Any'];

/**
 * A type name for a bundle name (`scoring-strict` → `ScoringStrict`): letters and digits of each part,
 * capitalised; `Model` in front of a name that would start with a digit. Two bundles whose names give
 * the same type name get `2`, `3`, … after the later ones, in the order given (as does a bundle
 * named `any`, whose schemas would otherwise be the shared `AnyRecord` and `AnyPrediction`).
 */
export function typeNames(modelNames: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>(RESERVED_TYPE_NAMES);
  for (const name of modelNames) {
    let base = name
      .split(/[^A-Za-z0-9]+/)
      .filter((p) => p !== '')
      .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
      .join('');
    if (base === '' || /^[0-9]/.test(base)) base = `Model${base}`;
    let candidate = base;
    for (let n = 2; used.has(candidate); n++) candidate = `${base}${n}`;
    used.add(candidate);
    out.set(name, candidate);
  }
  return out;
}

/** The component names of a model whose type name is `typeName`. */
export function schemaNames(typeName: string): ModelSchemaNames {
  return {
    record: `${typeName}Record`,
    value: `${typeName}Value`,
    prediction: `${typeName}Prediction`,
    predictResponse: `${typeName}PredictResponse`,
    batchRequest: `${typeName}BatchRequest`,
    batchResponse: `${typeName}BatchResponse`,
  };
}

/** Nesting deeper than this in a bundle's input schema is refused rather than walked (it never happens in a real one). */
const MAX_SCHEMA_DEPTH = 64;

/**
 * A bundle's input schema (draft-07) as a JSON Schema 2020-12 schema to embed in an OpenAPI 3.1
 * document: `$schema` and `$id` dropped (the document's dialect applies, and an embedded `$id` would
 * change how references resolve), `definitions` renamed `$defs`, an array `items` (tuple) made
 * `prefixItems` with `additionalItems` as `items`, and `dependencies` split into `dependentRequired` /
 * `dependentSchemas`. Everything else is the same in both drafts and is kept as it is. Objects keyed
 * by data (`properties`: column names such as `__proto__`) are rebuilt as null-prototype objects.
 */
export function toSchema2020(schema: JsonSchema): JsonSchema {
  return convert(schema, 0) as JsonSchema;
}

const KEYED_BY_DATA = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependentRequired']);

function convert(node: unknown, depth: number): unknown {
  if (depth > MAX_SCHEMA_DEPTH) throw new Error(`input schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`);
  if (Array.isArray(node)) return node.map((n) => convert(n, depth + 1));
  if (node === null || typeof node !== 'object') return node;
  const src = node as Record<string, unknown>;
  const out = dict<unknown>();
  for (const key of Object.keys(src)) {
    const value = src[key];
    if (key === '$schema' || key === '$id') continue;
    if (key === 'definitions') out.$defs = convertKeyed(value, depth);
    else if (key === 'items' && Array.isArray(value)) {
      out.prefixItems = value.map((v) => convert(v, depth + 1));
      if (src.additionalItems !== undefined) out.items = convert(src.additionalItems, depth + 1);
    } else if (key === 'additionalItems') {
      if (!Array.isArray(src.items)) continue; // meaningless without a tuple `items` (draft-07 ignores it)
    } else if (key === 'dependencies' && value !== null && typeof value === 'object') {
      const deps = value as Record<string, unknown>;
      for (const name of Object.keys(deps)) {
        const dep = deps[name];
        const into = Array.isArray(dep) ? 'dependentRequired' : 'dependentSchemas';
        const target = (out[into] ??= dict<unknown>()) as Record<string, unknown>;
        target[name] = Array.isArray(dep) ? dep : convert(dep, depth + 1);
      }
    } else if (KEYED_BY_DATA.has(key)) out[key] = convertKeyed(value, depth);
    else out[key] = convert(value, depth + 1);
  }
  return out;
}

function convertKeyed(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return convert(value, depth + 1);
  const src = value as Record<string, unknown>;
  const out = dict<unknown>();
  for (const key of Object.keys(src)) out[key] = convert(src[key], depth + 2);
  return out;
}

/** The prediction value of a model: the class labels as an enum of the target's own values, or a number. */
function valueSchema(manifest: Manifest): JsonSchema {
  if (manifest.task === 'regression' || !manifest.classes) return { type: 'number', description: `the predicted ${manifest.target.name}` };
  const values = labelValues(manifest.classes, manifest.target.type);
  const types = [...new Set(values.map((v) => typeof v))];
  return { type: types.length === 1 ? types[0] : types, enum: values, description: `the predicted class of ${manifest.target.name}` };
}

/** `{prediction, probabilities}` (classifiers) or `{prediction}` (regression) of one record. */
function predictionSchema(manifest: Manifest, names: ModelSchemaNames): JsonSchema {
  const properties = dict<JsonSchema>();
  properties.prediction = ref(names.value);
  const required = ['prediction'];
  if (manifest.task === 'classification' && manifest.classes) {
    properties.probabilities = probabilitiesSchema(manifest.classes);
    required.push('probabilities');
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

/** The probabilities object: one number in [0, 1] per class label (the labels as they are, any string). */
function probabilitiesSchema(classes: readonly string[]): JsonSchema {
  const properties = dict<JsonSchema>();
  for (const c of classes) properties[c] = { type: 'number', minimum: 0, maximum: 1 };
  return {
    type: 'object',
    description: 'the probability of each class (the mean of the trees\u2019 leaf class distributions)',
    properties,
    required: [...classes],
    additionalProperties: false,
  };
}

/** The name of the model and the version that answered: `model` of every predict answer. */
export const MODEL_ANSWER_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'the model and the exact version that answered',
  properties: { name: { type: 'string' }, version: { type: 'string' } },
  required: ['name', 'version'],
  additionalProperties: false,
};

/** Every component schema of one model, keyed by its name under `#/components/schemas/`. */
export function modelComponents(manifest: Manifest, names: ModelSchemaNames, modelAnswer: string, maxBatchRows?: number): Record<string, JsonSchema> {
  const record = toSchema2020(manifest.inputSchema);
  record.title = `${manifest.name} record`;
  const prediction = predictionSchema(manifest, names);
  const predictResponse: JsonSchema = {
    type: 'object',
    properties: { ...(prediction.properties as Record<string, JsonSchema>), model: ref(modelAnswer) },
    required: [...(prediction.required as string[]), 'model'],
    additionalProperties: false,
  };
  // `properties` above is spread from a null-prototype object with fixed keys (prediction, probabilities).
  const records: JsonSchema = { type: 'array', items: ref(names.record), ...(maxBatchRows !== undefined ? { maxItems: maxBatchRows } : {}) };
  return {
    [names.record]: record,
    [names.value]: valueSchema(manifest),
    [names.prediction]: prediction,
    [names.predictResponse]: predictResponse,
    [names.batchRequest]: { type: 'object', properties: { records }, required: ['records'] },
    [names.batchResponse]: {
      type: 'object',
      properties: { predictions: { type: 'array', items: ref(names.prediction), description: 'one per record, in order' }, model: ref(modelAnswer) },
      required: ['predictions', 'model'],
      additionalProperties: false,
    },
  };
}

/**
 * A record to show in examples: `given` (a real one, e.g. the bundle's first golden record) when
 * there is one, else a value made up from each property's type (a date for dates, `1.5` for numbers,
 * `true` for booleans, `"text"` for strings).
 */
export function exampleRecord(record: JsonSchema, given?: Record<string, unknown>): Record<string, unknown> {
  if (given) return given;
  const out = dict<unknown>();
  const properties = (record.properties ?? {}) as Record<string, JsonSchema>;
  for (const name of Object.keys(properties)) {
    const p = properties[name] as JsonSchema;
    const types = (Array.isArray(p.type) ? p.type : [p.type]).filter((t) => t !== 'null');
    const examples = Array.isArray(p.examples) ? p.examples : [];
    if (examples.length > 0) out[name] = examples[0];
    else if (types.includes('boolean')) out[name] = true;
    else if (types.includes('number') || types.includes('integer')) out[name] = /whole/.test(String(p.description ?? '')) ? 1 : 1.5;
    else if (types.includes('string') && /date/.test(String(p.description ?? ''))) out[name] = '2024-06-15';
    else out[name] = 'text';
  }
  return out;
}
