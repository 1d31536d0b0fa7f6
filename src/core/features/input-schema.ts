import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type ErrorDetail, invalidInput } from '../errors.js';
import { previewJson } from '../json-preview.js';
import { type ColumnType, type DateOrder, dateOrderPattern } from '../values.js';
import { pointerToken } from './transformer.js';
import type { FittedPipeline } from './types.js';
import { dict } from '../records/dict.js';

/** A JSON Schema document (draft-07), as plain JSON. */
export type JsonSchema = Record<string, unknown>;

function propertySchema(type: ColumnType, nullable: boolean, dateOrder?: DateOrder): JsonSchema {
  const withNull = (t: string | string[]) => {
    const types = Array.isArray(t) ? t : [t];
    return nullable ? [...types, 'null'] : types.length === 1 ? types[0] : types;
  };
  switch (type) {
    case 'number':
      return { type: withNull('number') };
    case 'integer':
      return { type: withNull('number'), description: 'whole numbers in the training data' };
    case 'boolean':
      // Also the words a training file wrote (`"Yes"`, `"no"`): a record as it was in the data is
      // accepted; the one parser (core/values parseBoolean) reads them and refuses other text with its path.
      return { type: withNull(['boolean', 'string']), description: 'true or false; or "yes"/"no"/"true"/"false" in any letter case' };
    case 'datetime':
      // No `pattern`: the one parser (core/values parseDatetime, with the column's day/month order)
      // decides, and reports bad dates with their path; the schema only describes what it reads.
      if (dateOrder !== undefined) {
        const example = dateOrder === 'mdy' ? '06/15/2024' : '15/06/2024';
        return {
          type: withNull(['string', 'number']),
          description: `date or date-time as in training: ${dateOrderPattern(dateOrder)} (${example}, also with - or . and a time, e.g. ${example} 14:30); or 2024-06-15, 2024-06-15T14:30:00Z (no zone = UTC), Jun 15 2024; or epoch milliseconds`,
          examples: [example, '2024-06-15'],
        };
      }
      return {
        type: withNull(['string', 'number']),
        description:
          'date or date-time: 2024-03-05, 2024-03-05T14:30:00Z (no zone = UTC), Mar 5 2024, 5 Mar 2024; or epoch milliseconds',
      };
    case 'category':
    case 'text':
      return { type: withNull('string') };
  }
}

/**
 * The JSON Schema of one input record: one property per column the featurizer reads, typed as in
 * training. Every property accepts `null` and may be left out (a missing value is imputed from what
 * its featurizer fitted, whether or not the training data had gaps there), except the columns the
 * config marks required (`features.required`): those are required and never null. Other properties
 * are allowed and ignored (e.g. an id the client sends along).
 *
 * Bundles keep the schema they were written with: in those of mlpipe before this rule, a column
 * with no missing value in training is required.
 */
export function inputSchema(pipeline: FittedPipeline, title = 'input record'): JsonSchema {
  // Keyed by column names: a column may be called `__proto__` or `toString`.
  const properties = dict<JsonSchema>();
  const required: string[] = [];
  for (const input of pipeline.inputs) {
    const isRequired = input.required === true;
    const property = propertySchema(input.type, !isRequired, input.type === 'datetime' ? input.dateOrder : undefined);
    properties[input.name] = isRequired ? { ...property, description: withRequiredNote(property.description) } : property;
    if (isRequired) required.push(input.name);
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title,
    type: 'object',
    properties,
    required,
    additionalProperties: true,
  };
}

function withRequiredNote(description: unknown): string {
  const note = 'required (features.required)';
  return typeof description === 'string' ? `${description}; ${note}` : note;
}

/** At most this many problems are reported for one request or file. */
export const MAX_REPORTED_ERRORS = 100;

/** A client's value in a message: bounded in length and in depth (never a whole 10 MB or 5,000-deep value). */
function describeValue(v: unknown): string {
  return previewJson(v, 40);
}

function friendly(err: ErrorObject, record: unknown): ErrorDetail {
  if (err.keyword === 'required') {
    const prop = (err.params as { missingProperty: string }).missingProperty;
    return { path: `${err.instancePath}/${pointerToken(prop)}`, message: 'is required (this model needs a value here)' };
  }
  const value = valueAt(record, err.instancePath);
  if (err.instancePath === '' && err.keyword === 'type') return { path: '', message: `must be a JSON object (a record), got ${describeValue(value)}` };
  if (err.keyword === 'type' && value === null) {
    return { path: err.instancePath, message: 'must not be null (this model needs a value here)' };
  }
  if (err.keyword === 'type') {
    const expected = (err.params as { type: string | string[] }).type;
    const list = (Array.isArray(expected) ? expected : String(expected).split(',')).filter((t) => t !== 'null');
    return { path: err.instancePath, message: `must be ${list.join(' or ')}, got ${describeValue(value)}` };
  }
  return { path: err.instancePath, message: `${err.message ?? 'is invalid'}` };
}

function valueAt(record: unknown, pointer: string): unknown {
  if (pointer === '') return record;
  let cur: unknown = record;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Object.hasOwn(cur, key) ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return cur;
}

/**
 * Validates records against an input schema with ajv (compiled once, all errors collected). The
 * server and `mlpipe predict` use the same validator, so both accept and refuse the same records.
 */
export class RecordValidator {
  private readonly validateFn: ValidateFunction;

  constructor(schema: JsonSchema) {
    // $data stays off: a schema must never read its limits from the data it validates.
    // ownProperties: a record without a field `toString` (or `__proto__`) must not be read as
    // having Object.prototype's member there.
    const ajv = new Ajv({ allErrors: true, strict: false, $data: false, ownProperties: true });
    this.validateFn = ajv.compile(schema);
  }

  /** Problems of one record, each with its JSON path under `pathPrefix`; empty when valid. */
  check(record: unknown, pathPrefix = ''): ErrorDetail[] {
    if (this.validateFn(record)) return [];
    return (this.validateFn.errors ?? []).map((e) => {
      const d = friendly(e, record);
      return { path: `${pathPrefix}${d.path}`, message: d.message };
    });
  }

  /** Throws ValidationError when the record is invalid. */
  assert(record: unknown, pathPrefix = ''): void {
    const details = this.check(record, pathPrefix);
    if (details.length > 0) throw invalidInput(details);
  }

  /**
   * Validates many records; throws one ValidationError listing the problems of all of them (paths
   * under `rowPath(i)`, by default `/records/<i>`; at most {@link MAX_REPORTED_ERRORS}).
   */
  assertAll(records: readonly unknown[], rowPath: (i: number) => string = (i) => `/records/${i}`): void {
    const details: ErrorDetail[] = [];
    for (let i = 0; i < records.length && details.length < MAX_REPORTED_ERRORS; i++) {
      for (const d of this.check(records[i], rowPath(i))) details.push(d);
    }
    if (details.length > 0) throw invalidInput(details.slice(0, MAX_REPORTED_ERRORS));
  }
}

