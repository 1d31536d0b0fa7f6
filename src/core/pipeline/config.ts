import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, type Node, isNode, parseDocument } from 'yaml';
import { BUNDLE_NAME_MAX, BUNDLE_NAME_PATTERN, BUNDLE_VERSION_PATTERN } from '../bundle/names.js';
import { ConfigError, type ErrorDetail, NotFoundError } from '../errors.js';
import type { ColumnChoice, ColumnSelector } from '../features/auto.js';
import { DeriveError, checkDerivations } from '../features/derive.js';
import { CUSTOM_MODULE_EXTENSIONS, type CustomModuleSpec } from '../features/custom.js';
import { ParamError } from '../features/params.js';
import type { DerivePlan } from '../features/pipeline.js';
import { FEATURIZER_KINDS } from '../features/registry.js';
import { ENGINES, type Engine, type ForestParams, type Task } from '../models/forest-format.js';
import { forestParamProblems, forestParamSchemas } from '../models/params.js';
import type { SearchOptions } from './train.js';
import { suggest } from '../suggest.js';
import { COLUMN_TYPES, DECLARED_TYPES, type DeclaredType } from '../values.js';
import type { CombineSpec } from '../data/combine.js';
import { FILE_FORMATS, TEXT_FORMATS } from '../data/formats.js';
import type { SourceSpec } from '../data/sources/types.js';
import type { OnBadRow } from '../data/stream-load.js';
import { dict, ownValue } from '../dict.js';
import { isRemoteLocation } from '../bundle/stores/location.js';

/** Where something sits in a config, for messages: `pipeline.yaml: source[1].on` and its line. */
export interface ConfigLocation {
  path: string;
  line?: number;
}

/**
 * pipeline.yaml's `source:` after validation: one source or several (with how to combine them), and
 * the options of loading them. Relative paths (files, `sqlite:` databases) are resolved against the
 * config's folder.
 */
export interface PipelineSource {
  sources: SourceSpec[];
  /** How several sources become one table; set when `sources` has two or more. */
  combine?: CombineSpec;
  /** Declared column types (they win over the sources' own types and over inference; `datetime:dmy` also fixes the day/month order). */
  types?: Record<string, DeclaredType>;
  onBadRow?: OnBadRow;
  inferRows?: number;
  chunkRows?: number;
  /** The first source's path when it is a file (what messages and older callers show). */
  path?: string;
  /** For each source, where a join's missing key is reported: `<file>: source[i].on` and the source's line. */
  keyLocations: ConfigLocation[];
}

/** A pipeline config (pipeline.yaml) after validation, with paths resolved against its folder. */
export interface PipelineConfig {
  /** The config file, as given. */
  file: string;
  /** sha256 of the file's bytes, recorded in the lineage. */
  sha256: string;
  name?: string;
  source: PipelineSource;
  target: string;
  task?: Task;
  seed?: number;
  /**
   * Feature choices: `drop` (names, `{type: text}` or `{pattern: "^id_"}`), per-column `columns`, and
   * the config lines of those entries (`features.drop[1]`, `features.columns.age`) for later messages.
   */
  features: { drop?: ColumnSelector[]; columns?: Record<string, ColumnChoice>; lines?: Record<string, number>; derive?: DerivePlan[]; custom?: CustomModuleSpec[]; required?: string[] };
  model: Partial<Omit<ForestParams, 'seed'>> & { type: 'random-forest'; engine?: Engine };
  evaluation: { holdout?: number; cv?: number; oob?: boolean; permutationRepeats?: number; search?: SearchOptions };
  package: { version?: string; artifacts?: string };
}


/** Options of loading, written on a source (`types:`, `onBadRow:`, `inferRows:`, `chunkRows:`). */
const LOAD_OPTIONS = {
  types: {
    type: 'object',
    description:
      'declared column types, e.g. {zip: category}; they win over the source\'s own types and over inference. datetime:mdy (month first: 03/05/2024 is March 5) or datetime:dmy (day first) also fix the order of numeric dates; a plain datetime learns it from the values',
    propertyNames: { title: 'column' },
    additionalProperties: { enum: [...DECLARED_TYPES] },
  },
  onBadRow: { enum: ['error', 'skip'], default: 'error', description: 'a value that contradicts its column type: stop (error) or leave the row out and count it (skip)' },
  inferRows: { type: 'integer', minimum: 1, description: 'infer column types from the first N rows only; default: every row' },
  chunkRows: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10000, description: 'rows per chunk (memory is bounded by it)' },
} as const;

/** Options of delimited text (CSV/TSV). */
const CSV_OPTIONS = {
  delimiter: { type: 'string', minLength: 1, maxLength: 1, description: 'CSV field separator; default: sniffed from the first lines (comma, semicolon, tab or |)' },
  quote: { type: 'string', minLength: 1, maxLength: 1, default: '"', description: 'CSV quote character' },
  encoding: { type: 'string', minLength: 1, default: 'utf-8', description: 'text encoding: utf-8, latin1, utf-16le, windows-1252 …' },
  header: { type: 'boolean', default: true, description: 'false: the first line is data; columns are named column_1, column_2 …' },
} as const;

const FILE_SOURCE = {
  title: 'file source',
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', minLength: 1, description: 'a file relative to this config, or - for standard input' },
    format: { enum: [...FILE_FORMATS], description: 'default: from the extension (.csv, .tsv, .txt, .json, .ndjson, .jsonl, each optionally .gz, .xlsx, .parquet, .arrow)' },
    ...CSV_OPTIONS,
    sheet: { type: 'string', minLength: 1, description: 'spreadsheets: the sheet to read; default: the first' },
    range: { type: 'string', pattern: '^[A-Za-z]{1,3}[0-9]*(:[A-Za-z]{1,3}[0-9]*)?$', description: 'spreadsheets: the cells to read (B2:F100, A1:D, B:F); default: the used range' },
    ...LOAD_OPTIONS,
  },
} as const;

const SQL_SOURCE = {
  title: 'SQL source',
  type: 'object',
  additionalProperties: false,
  required: ['sql'],
  properties: {
    sql: { type: 'string', minLength: 1, description: 'postgres://user:${PGPASSWORD}@host:5432/db, mysql://…, mariadb://…, sqlite:path.db or a .db/.sqlite/.sqlite3 path; ${NAME} is read from the environment' },
    query: { type: 'string', minLength: 1, description: 'the SQL query to read (give query or table)' },
    table: { type: 'string', minLength: 1, description: 'a table to read whole (give query or table)' },
    ...LOAD_OPTIONS,
  },
} as const;

const PAGINATION = {
  type: 'object',
  description: 'how further pages are requested; default: one request',
  required: ['type'],
  properties: { type: { enum: ['page', 'offset', 'cursor', 'link'], description: 'page: a page number; offset: a record offset; cursor: a cursor read from each response; link: the Link: <…>; rel="next" header' } },
  allOf: [
    {
      if: { properties: { type: { const: 'page' } } },
      then: {
        additionalProperties: false,
        properties: {
          type: {},
          param: { type: 'string', minLength: 1, default: 'page', description: 'query parameter of the page number' },
          start: { type: 'integer', minimum: 0, default: 1, description: 'number of the first page' },
          sizeParam: { type: 'string', minLength: 1, default: 'per_page', description: 'query parameter of the page size' },
          size: { type: 'integer', minimum: 1, description: 'page size, sent as sizeParam; default: not sent' },
        },
      },
    },
    {
      if: { properties: { type: { const: 'offset' } } },
      then: {
        additionalProperties: false,
        required: ['limit'],
        properties: {
          type: {},
          param: { type: 'string', minLength: 1, default: 'offset', description: 'query parameter of the offset' },
          limitParam: { type: 'string', minLength: 1, default: 'limit', description: 'query parameter of the limit' },
          limit: { type: 'integer', minimum: 1, description: 'records per request' },
        },
      },
    },
    {
      if: { properties: { type: { const: 'cursor' } } },
      then: {
        additionalProperties: false,
        required: ['cursorPath', 'param'],
        properties: {
          type: {},
          cursorPath: { type: 'string', minLength: 1, description: 'where the next cursor is in a response (meta.next or /meta/next); none: the last page' },
          param: { type: 'string', minLength: 1, description: 'query parameter the cursor is sent as' },
        },
      },
    },
    { if: { properties: { type: { const: 'link' } } }, then: { additionalProperties: false, properties: { type: {} } } },
  ],
} as const;

const HTTP_SOURCE = {
  title: 'HTTP source',
  type: 'object',
  additionalProperties: false,
  required: ['http'],
  properties: {
    http: { type: 'string', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', description: 'the API URL; ${NAME} is read from the environment' },
    method: { enum: ['GET', 'POST'], description: 'default: GET, or POST when a body is given' },
    body: { description: 'JSON body of a POST' },
    headers: { type: 'object', description: 'request headers; ${NAME} in a value is read from the environment', propertyNames: { title: 'header' }, additionalProperties: { type: 'string' } },
    bearerToken: { type: 'string', minLength: 1, description: 'sent as Authorization: Bearer …; normally ${API_TOKEN}' },
    recordsPath: { type: 'string', minLength: 1, description: 'where the records are in a response (data.items or /data/items); default: the response, or its only array' },
    pagination: PAGINATION,
    retries: { type: 'integer', minimum: 0, maximum: 20, default: 4, description: 'retries on 429, 5xx and network errors, with backoff (honouring Retry-After)' },
    timeoutMs: { type: 'integer', minimum: 1, default: 30000, description: 'timeout of each request, in milliseconds' },
    maxRecords: { type: 'integer', minimum: 1, description: 'stop after this many records; default: all' },
    ...LOAD_OPTIONS,
  },
} as const;

const COMMAND_SOURCE = {
  title: 'command source',
  type: 'object',
  additionalProperties: false,
  required: ['command'],
  properties: {
    command: { type: 'string', minLength: 1, description: 'a shell command whose standard output is the data (run in the current folder)' },
    format: { enum: [...TEXT_FORMATS], default: 'ndjson', description: 'the format of the command\'s output' },
    ...CSV_OPTIONS,
    ...LOAD_OPTIONS,
  },
} as const;

/** One source: a path, or an object whose kind is told by its key (sql, http, command, else path). */
const SOURCE_ITEM = {
  type: ['string', 'object'],
  if: { type: 'string' },
  then: { minLength: 1 },
  else: {
    if: { required: ['sql'] },
    then: SQL_SOURCE,
    else: { if: { required: ['http'] }, then: HTTP_SOURCE, else: { if: { required: ['command'] }, then: COMMAND_SOURCE, else: FILE_SOURCE } },
  },
} as const;

/**
 * The JSON Schema every pipeline.yaml is validated against (also printed by `mlpipe schema`, published
 * as schema/pipeline.schema.json, and the source of the README's settings table: `make schema`). Its
 * `description` and `default` annotations are what editors show and what that table lists.
 */
export const PIPELINE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'mlpipe pipeline config',
  description: 'pipeline.yaml: where the data comes from, what to predict, the features, the model, its evaluation and packaging (README.md, section "pipeline.yaml")',
  type: 'object',
  additionalProperties: false,
  required: ['source', 'target'],
  properties: {
    name: { type: 'string', pattern: BUNDLE_NAME_PATTERN, maxLength: BUNDLE_NAME_MAX, description: `bundle name (at most ${BUNDLE_NAME_MAX} characters): the model is saved as <name>@<version>; mlpipe run needs it here or as --name` },
    source: {
      description: 'where the data comes from: a file path (relative to this config), one source object (file, sql, http or command), or a list of them combined by combine:',
      type: ['string', 'object', 'array'],
      if: { type: 'array' },
      then: { type: 'array', minItems: 1, items: SOURCE_ITEM },
      else: SOURCE_ITEM,
    },
    combine: {
      description: 'how a list of sources becomes one table: {how: concat} (rows after rows, columns by name) or {how: inner|left, on: [key, ...]} (a join on key columns)',
      type: 'object',
      additionalProperties: false,
      required: ['how'],
      properties: {
        how: { enum: ['concat', 'inner', 'left'], description: 'concat: rows after rows; inner: a join keeping rows with a match; left: a join keeping every row of the first source' },
        on: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 }, description: 'the key columns of a join (how: inner or left)' },
      },
    },
    target: { type: 'string', minLength: 1, description: 'column to predict' },
    task: { enum: ['classification', 'regression'], description: 'default: inferred from the target (category, boolean, or an integer with at most 20 distinct values: classification)' },
    ...forestParamSchemas('top'),
    features: {
      type: 'object',
      description: 'which columns become features, and how; left out: the automatic choice for every column',
      additionalProperties: false,
      properties: {
        drop: {
          type: 'array',
          default: [],
          description: 'columns to leave out: a name, {type: text} (every column of a type) or {pattern: "^id_"} (names matching a regular expression)',
          items: {
            type: ['string', 'object'],
            if: { type: 'object' },
            then: {
              type: 'object',
              additionalProperties: false,
              properties: {
                type: { enum: [...COLUMN_TYPES] },
                pattern: { type: 'string', minLength: 1, description: 'a JavaScript regular expression, searched in the column name (anchor with ^…$ for whole names)' },
              },
            },
            else: { type: 'string', minLength: 1 },
          },
        },
        required: {
          type: 'array',
          uniqueItems: true,
          items: { type: 'string', minLength: 1 },
          description:
            'input columns a record must have at prediction time; a record without one (absent or null) is refused (HTTP 400 at its JSON path; predict: a bad row). Every other input is optional: a missing value is imputed from what training fitted (median number, most frequent boolean, median date, a category\'s missing handling, empty text). Each must be a column a featurizer reads',
        },
        derive: {
          type: 'object',
          description:
            'derived numeric columns, in order: name: "expression", e.g. ratio: "income / (debt + 1)". Operators + - * / % ^, == != < <= > >=, and or not; functions log exp sqrt abs round floor ceil min max if(cond, a, b); a column name that is not an identifier in backticks: `Miles per Gallon`. Booleans are 1/0, datetimes days since 1970-01-01; a missing input or a non-finite result gives a missing value',
          propertyNames: { title: 'name' },
          additionalProperties: { type: 'string', minLength: 1 },
        },
        custom: {
          type: 'object',
          description:
            'your own featurizer kinds: name: module, a .ts, .mts, .js or .mjs file relative to this config whose default export implements FeaturizerKind (src/core/features/types.ts); columns then use {kind: name, ...params}. The bundle records the name and the module\'s sha256, never its code: serve and predict load it only from --featurizer-module name=path, and refuse a module with another sha256',
          propertyNames: { title: 'kind', pattern: '^[a-z][a-z0-9-]*$', description: 'use lower-case letters, digits and -, starting with a letter (e.g. zip-prefix)' },
          additionalProperties: { type: 'string', minLength: 1, description: 'the module file, relative to this config' },
        },
        columns: {
          type: 'object',
          description: 'per-column choice: drop, or a featurizer kind with its parameters ({kind: one-hot, maxCategories: 10}; kinds and parameters: README.md, "pipeline.yaml")',
          propertyNames: { title: 'column' },
          additionalProperties: {
            oneOf: [
              { const: 'drop' },
              // The kind and its parameters are checked by the kind itself (readPipelineConfig), with
              // suggestions; `examples` (not `enum`) so editors offer the kinds without ajv taking over the message.
              { type: 'object', properties: { kind: { type: 'string', description: 'the featurizer kind; its parameters sit beside it', examples: [...FEATURIZER_KINDS.keys()] } } },
            ],
          },
        },
      },
    },
    model: {
      type: 'object',
      description: 'the model: a random forest (classifier or regressor, by the task)',
      additionalProperties: false,
      properties: {
        type: { const: 'random-forest', default: 'random-forest', description: 'the only model type so far' },
        engine: { enum: [...ENGINES], default: 'hist', description: 'hist: mlpipe\'s own engine, on every core; mljs: ml-random-forest itself (slow; the reference)' },
        // trees, maxFeatures, maxDepth, minSamplesSplit, minSamplesLeaf, maxSamples: declared in models/params.ts
        ...forestParamSchemas('model'),
      },
    },
    evaluation: {
      type: 'object',
      description: 'how the model is scored before the final model is trained on every row',
      additionalProperties: false,
      properties: {
        holdout: { type: 'number', minimum: 0, maximum: 0.9, default: 0.2, description: 'share of rows held out to score the model (stratified for classification); 0: none' },
        cv: { type: 'integer', minimum: 0, default: 0, description: 'k-fold cross-validation on all rows (k ≥ 2); 0: none' },
        oob: { type: 'boolean', default: false, description: 'out-of-bag accuracy or R² of the final model' },
        permutationRepeats: { type: 'integer', minimum: 0, maximum: 100, default: 5, description: 'repeats of permutation importance on the holdout; 0: none' },
        search: {
          type: 'object',
          description: 'a hyperparameter search (maxFeatures × maxDepth × minSamplesLeaf) scored by k-fold cross-validation on the rows the holdout does not judge; default: none',
          additionalProperties: false,
          required: ['strategy'],
          properties: {
            strategy: { enum: ['random', 'grid'], description: 'random: trials combinations drawn at random; grid: all of them' },
            trials: { type: 'integer', minimum: 1, default: 10, description: 'combinations tried by the random strategy' },
            folds: { type: 'integer', minimum: 2, description: 'default: cv when it is 2 or more, else 3' },
          },
        },
      },
    },
    package: {
      type: 'object',
      description: 'where the bundle goes and its version',
      additionalProperties: false,
      properties: {
        version: { type: 'string', pattern: BUNDLE_VERSION_PATTERN, description: 'an existing version is refused, never overwritten; default: the next patch version (1.0.0 for a new name)' },
        artifacts: { type: 'string', minLength: 1, description: 'the bundle store: a folder (relative to this config) or s3://bucket/prefix; --artifacts wins; default: $MLPIPE_ARTIFACTS, else ./artifacts' },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true, strict: false }).compile(PIPELINE_SCHEMA);

function dotted(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The schema node an ajv error's `schemaPath` (`#/properties/source/else/then/additionalProperties`) points into. */
function schemaNode(schemaPath: string): Record<string, unknown> | undefined {
  let node: unknown = PIPELINE_SCHEMA;
  for (const key of dotted(schemaPath.replace(/^#/, ''))) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node !== null && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

/** A config path for people: `source[1].table`, `model.trees`. */
export function formatConfigPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number' || /^\d+$/.test(key)) out += `[${key}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out;
}

function describeError(err: ErrorObject): { path: string[]; message: string } | undefined {
  const path = dotted(err.instancePath);
  // A key that breaks its map's propertyNames rule: the error is about the key, said by the rule's description.
  if (err.propertyName !== undefined) {
    const rule = schemaNode(err.schemaPath.replace(/\/[^/]+$/, ''))?.description;
    return { path: [...path, err.propertyName], message: `invalid name${typeof rule === 'string' ? `: ${rule}` : ` (${err.message ?? 'does not match the schema'})`}` };
  }
  switch (err.keyword) {
    case 'additionalProperty':
    case 'additionalProperties': {
      const prop = (err.params as { additionalProperty: string }).additionalProperty;
      const node = schemaNode(err.schemaPath.replace(/\/additionalProperties$/, ''));
      const known = Object.keys((node?.properties as object) ?? {});
      const hint = suggest(prop, known);
      return { path: [...path, prop], message: `unknown setting${hint ? ` (did you mean "${hint}"?)` : ''}; allowed here: ${known.join(', ')}` };
    }
    case 'required':
      return { path: [...path, (err.params as { missingProperty: string }).missingProperty], message: 'is required' };
    case 'enum': {
      const allowed = (err.params as { allowedValues: unknown[] }).allowedValues.map(String);
      return { path, message: `must be one of ${allowed.join(', ')}` };
    }
    case 'const':
      return { path, message: `must be ${JSON.stringify((err.params as { allowedValue: unknown }).allowedValue)}` };
    case 'type': {
      const t = (err.params as { type: string | string[] }).type;
      const types = Array.isArray(t) ? t : String(t).split(',');
      return { path, message: types.length === 1 ? `must be ${types[0]}` : `must be ${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}` };
    }
    case 'oneOf':
    case 'if':
    case 'propertyNames':
      return undefined; // the branch errors (or the name's own error) say more
    default:
      return { path, message: err.message ?? 'is invalid' };
  }
}

/**
 * Reads and validates a pipeline config. Every problem is reported with its config path, its line
 * and, for misspelt names, a suggestion: `model.tress (line 12): unknown setting (did you mean
 * "trees"?)`. Throws NotFoundError for a missing file and ConfigError for an invalid one.
 */
export async function readPipelineConfig(file: string): Promise<PipelineConfig> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    throw new NotFoundError(`${file}: file not found`);
  }
  const text = bytes.toString('utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const { line, col } = lineCounter.linePos(e.pos[0]);
    // A derived expression may start with a backticked name, which YAML does not allow unquoted.
    const hint = /reserved character `/.test(e.message) ? '; write a value that starts with ` in double quotes: "`a b` / c"' : '';
    throw new ConfigError(`${file}: line ${line}, column ${col}: invalid YAML (${e.message.split('\n')[0]})${hint}`);
  }
  const raw = doc.toJS() as unknown;
  const lineOf = (path: string[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
      // a key's line, for a missing or unknown key: look the pair up in its parent map
      if (n > 0) {
        const parent = doc.getIn(path.slice(0, n - 1), true) as { items?: { key: Node; value: Node }[] } | undefined;
        const pair = parent?.items?.find((p) => isNode(p.key) && String((p.key as unknown as { value: unknown }).value) === path[n - 1]);
        if (pair && isNode(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]).line;
      }
    }
    return undefined;
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${file}: a pipeline config is a YAML mapping (source:, target:, …)`);
  }
  if (!validate(raw)) {
    const details: ErrorDetail[] = [];
    const seen = new Set<string>();
    const typed = new Set<string>();
    for (const err of validate.errors ?? []) {
      const d = describeError(err);
      if (!d) continue;
      const path = formatConfigPath(d.path) || '(top level)';
      // Nested if/else branches repeat a type error for the same value; the first (widest) says it all.
      if (err.keyword === 'type') {
        if (typed.has(path)) continue;
        typed.add(path);
      }
      const line = lineOf(d.path);
      const key = `${path}: ${d.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      details.push({ path, message: `${d.message}${line !== undefined ? ` (line ${line})` : ''}` });
    }
    if (details.length === 0) details.push({ path: '(top level)', message: 'does not match the pipeline schema' });
    const first = details[0]!;
    throw new ConfigError(`${file}: ${first.path}: ${first.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`, details);
  }
  const cfg = raw as unknown as Record<string, unknown>;
  const base = dirname(file);
  const rel = (p: string) => (isAbsolute(p) || p === '-' ? p : join(base, p));
  const fail = (path: (string | number)[], message: string): never => {
    const line = lineOf(path.map(String));
    const where = formatConfigPath(path);
    const text = `${message}${line !== undefined ? ` (line ${line})` : ''}`;
    throw new ConfigError(`${file}: ${where}: ${text}`, [{ path: where, message: text }]);
  };
  // What the schema cannot say about the forest's parameters (a count is whole: maxFeatures 2.5). The
  // engine's own limits wait for training: --engine may still change the engine.
  const [bad] = forestParamProblems({ ...((cfg.model ?? {}) as object), ...(cfg.seed !== undefined ? { seed: cfg.seed as number } : {}) });
  if (bad) fail(bad.spec.yaml === 'model' ? ['model', bad.spec.name] : [bad.spec.name], bad.problem);
  const source = pipelineSource(cfg, rel, fail, (path) => ({ path: `${file}: ${formatConfigPath(path)}`, line: lineOf(path.map(String)) }));
  const custom = await customModules((cfg.features as { custom?: Record<string, string> } | undefined)?.custom, file, rel, fail, (path) => lineOf(path.map(String)));
  const features = featureChoices((cfg.features ?? {}) as PipelineConfig['features'], fail, (path) => lineOf(path.map(String)), custom);
  const pkg = (cfg.package ?? {}) as PipelineConfig['package'];
  return {
    file,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    name: cfg.name as string | undefined,
    source,
    target: cfg.target as string,
    task: cfg.task as Task | undefined,
    seed: cfg.seed as number | undefined,
    features,
    model: { type: 'random-forest', ...((cfg.model ?? {}) as object) },
    evaluation: (cfg.evaluation ?? {}) as PipelineConfig['evaluation'],
    // A remote store (s3://…, https://…) is kept as written; a folder is relative to this config.
    package: { ...pkg, ...(pkg.artifacts ? { artifacts: isRemoteLocation(pkg.artifacts) ? pkg.artifacts : rel(pkg.artifacts) } : {}) },
  };
}

type Fail = (path: (string | number)[], message: string) => never;

/**
 * Checks what the schema cannot say about `features:` — a drop selector has exactly one of type and
 * pattern, a pattern compiles, every named featurizer exists (with a suggestion) and accepts its
 * parameters (checked by the kind: the message names the parameter and the allowed values) — and
 * records the line of each entry for the messages of later steps (unknown columns are only known once
 * the data is loaded).
 */
function featureChoices(features: PipelineConfig['features'], fail: Fail, lineOf: (path: (string | number)[]) => number | undefined, custom: CustomModuleSpec[] | undefined): PipelineConfig['features'] {
  const lines = dict<number>(); // keys name columns
  const note = (key: string, path: (string | number)[]) => {
    const line = lineOf(path);
    if (line !== undefined) lines[key] = line;
  };
  (features.drop ?? []).forEach((item, i) => {
    const path = ['features', 'drop', i];
    note(`features.drop[${i}]`, path);
    if (typeof item === 'string') return;
    const keys = Object.keys(item);
    if (keys.length !== 1) fail(path, keys.length === 0 ? 'give type: (a column type) or pattern: (a regular expression)' : 'give type: or pattern:, not both (use two items)');
    if ('pattern' in item) {
      try {
        new RegExp(item.pattern, 'u');
      } catch (err) {
        fail([...path, 'pattern'], `not a valid regular expression (${(err as Error).message})`);
      }
    }
  });
  (features.required ?? []).forEach((_name, i) => note(`features.required[${i}]`, ['features', 'required', i]));
  const derive = deriveList((features as { derive?: Record<string, string> }).derive, fail, lineOf);
  const customNames = (custom ?? []).map((c) => c.name);
  const known = [...FEATURIZER_KINDS.keys(), ...customNames];
  for (const [name, choice] of Object.entries(features.columns ?? {})) {
    const path = ['features', 'columns', name];
    note(`features.columns.${name}`, path);
    if (choice === 'drop' || typeof choice.kind !== 'string') continue;
    // A custom kind's parameters are checked by its module, loaded by featurize (never when a config is only read).
    if (customNames.includes(choice.kind)) continue;
    const kind = FEATURIZER_KINDS.get(choice.kind);
    if (!kind) {
      const hint = suggest(choice.kind, known);
      fail([...path, 'kind'], `unknown featurizer "${choice.kind}"${hint ? ` (did you mean "${hint}"?)` : ''}; must be one of ${known.join(', ')}`);
    }
    const { kind: _kind, ...params } = choice;
    try {
      kind!.params(params);
    } catch (err) {
      if (err instanceof ParamError) fail([...path, err.param], err.problem);
      throw err;
    }
  }
  const { derive: _raw, custom: _custom, ...rest } = features as PipelineConfig['features'];
  return { ...rest, ...(Object.keys(lines).length > 0 ? { lines } : {}), ...(derive ? { derive } : {}), ...(custom ? { custom } : {}) };
}

/**
 * `features.custom` as module specs (absolute paths, with the config path and line each was named
 * at): a name may not be a built-in kind's, and the file must exist with a module's extension. The
 * modules are not loaded here: reading a config never runs code.
 */
async function customModules(
  raw: Record<string, string> | undefined,
  file: string,
  rel: (p: string) => string,
  fail: Fail,
  lineOf: (path: (string | number)[]) => number | undefined,
): Promise<CustomModuleSpec[] | undefined> {
  if (raw === undefined) return undefined;
  const specs: CustomModuleSpec[] = [];
  for (const [name, module] of Object.entries(raw)) {
    const path = ['features', 'custom', name];
    if (FEATURIZER_KINDS.has(name)) fail(path, `"${name}" is a built-in featurizer; give your own kind another name`);
    const abs = resolve(rel(module));
    if (!CUSTOM_MODULE_EXTENSIONS.includes(extname(abs).toLowerCase())) fail(path, `${module}: a custom featurizer is a ${CUSTOM_MODULE_EXTENSIONS.join(', ')} module`);
    const found = await stat(abs).then((s) => s.isFile(), () => false);
    if (!found) fail(path, `no file ${module} (${abs})`);
    const line = lineOf(path);
    specs.push({ name, path: abs, origin: `${file}: features.custom.${name}`, ...(line !== undefined ? { line } : {}) });
  }
  return specs;
}

/**
 * `features.derive` as an ordered list with each entry's path and line, checked as far as it can be
 * without the data: names, syntax (with the position in the expression), functions, and no use of
 * itself or of a later derived column. Unknown column names are reported once the data is loaded.
 */
function deriveList(raw: Record<string, string> | undefined, fail: Fail, lineOf: (path: (string | number)[]) => number | undefined): DerivePlan[] | undefined {
  if (raw === undefined) return undefined;
  const list: DerivePlan[] = Object.entries(raw).map(([name, expression]) => {
    const line = lineOf(['features', 'derive', name]);
    return { name, expression, path: `features.derive.${name}`, ...(line !== undefined ? { line } : {}) };
  });
  try {
    checkDerivations(list);
  } catch (err) {
    if (err instanceof DeriveError) fail(['features', 'derive', list[err.index]!.name], err.problem);
    throw err;
  }
  return list;
}

/** `sqlite:rel.db`, `sqlite://rel.db` or `rel.db` resolved against the config's folder; other URLs as written. */
function resolveSqlUrl(url: string, rel: (p: string) => string): string {
  const m = /^sqlite:(\/\/)?(.*)$/i.exec(url);
  if (m) {
    const path = m[2] as string;
    if (path === '' || path === ':memory:' || isAbsolute(path)) return url;
    return `sqlite:${rel(path)}`;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  return /\.(db|sqlite|sqlite3)$/i.test(url) ? rel(url) : url;
}

const LOAD_OPTION_KEYS = ['types', 'onBadRow', 'inferRows', 'chunkRows'] as const;

/** One validated `source:` item as a spec (relative paths resolved). */
function sourceSpec(item: unknown, path: (string | number)[], rel: (p: string) => string, fail: Fail): SourceSpec {
  if (typeof item === 'string') return { kind: 'file', path: rel(item) };
  const o = item as Record<string, unknown>;
  const pick = (...keys: string[]) => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
  if (typeof o.sql === 'string') {
    if (o.query !== undefined && o.table !== undefined) fail([...path, 'table'], 'give query or table, not both');
    if (o.query === undefined && o.table === undefined) fail([...path, 'sql'], 'an SQL source needs query: or table:');
    return { kind: 'sql', url: resolveSqlUrl(o.sql, rel), ...pick('query', 'table') } as SourceSpec;
  }
  if (typeof o.http === 'string') {
    if (o.body !== undefined && o.method === 'GET') fail([...path, 'body'], 'a body needs method: POST');
    const { http, ...rest } = pick('http', 'method', 'body', 'headers', 'bearerToken', 'recordsPath', 'pagination', 'retries', 'timeoutMs', 'maxRecords');
    return { kind: 'http', url: http, ...(rest.body !== undefined && rest.method === undefined ? { method: 'POST' } : {}), ...rest } as SourceSpec;
  }
  if (typeof o.command === 'string') {
    return { kind: 'command', ...pick('command', 'format', 'delimiter', 'quote', 'encoding', 'header') } as SourceSpec;
  }
  const spec = { kind: 'file', ...pick('path', 'format', 'delimiter', 'quote', 'encoding', 'header', 'sheet', 'range') } as SourceSpec & { path: string };
  spec.path = rel(spec.path);
  return spec;
}

/** Builds the validated `source:` (and `combine:`), checking what the schema cannot say, each with its path and line. */
function pipelineSource(
  cfg: Record<string, unknown>,
  rel: (p: string) => string,
  fail: Fail,
  locate: (path: (string | number)[]) => ConfigLocation,
): PipelineSource {
  const list = Array.isArray(cfg.source);
  const items: unknown[] = list ? (cfg.source as unknown[]) : [cfg.source];
  const combine = cfg.combine as { how: 'concat' | 'inner' | 'left'; on?: string[] } | undefined;
  if (combine && items.length < 2) fail(['combine'], 'combines a list of two or more sources (source: [..., ...])');
  if (!combine && items.length > 1) fail(['source'], 'several sources need combine: {how: concat} or {how: inner|left, on: [key, ...]}');
  if (combine?.how === 'concat' && combine.on !== undefined) fail(['combine', 'on'], 'only with how: inner or left (a join)');
  if (combine && combine.how !== 'concat' && combine.on === undefined) fail(['combine', 'on'], `is required with how: ${combine.how} (the key columns)`);
  const itemPath = (i: number): (string | number)[] => (list ? ['source', i] : ['source']);
  const sources = items.map((item, i) => sourceSpec(item, itemPath(i), rel, fail));
  // Load options may be written on any item of a list; they apply to the combined table and must agree.
  const options: Partial<Pick<PipelineSource, (typeof LOAD_OPTION_KEYS)[number]>> = {};
  const setBy = dict<number>();
  items.forEach((item, i) => {
    if (item === null || typeof item !== 'object') return;
    const o = item as Record<string, unknown>;
    for (const key of LOAD_OPTION_KEYS) {
      const value = o[key];
      if (value === undefined) continue;
      if (key === 'types') {
        const types = (options.types ??= dict());
        for (const [column, type] of Object.entries(value as Record<string, DeclaredType>)) {
          if (ownValue(types, column) !== undefined && types[column] !== type) fail([...itemPath(i), 'types', column], `conflicts with the type ${types[column]} given for "${column}" by source[${setBy[`types.${column}`]}]`);
          types[column] = type;
          setBy[`types.${column}`] = i;
        }
        continue;
      }
      if (options[key] !== undefined && options[key] !== value) fail([...itemPath(i), key], `conflicts with ${JSON.stringify(options[key])} given by source[${setBy[key]}]: load options apply to the combined table`);
      (options as Record<string, unknown>)[key] = value;
      setBy[key] = i;
    }
  });
  const first = sources[0]!;
  return {
    sources,
    ...(combine ? { combine: combine.how === 'concat' ? { how: 'concat' } : { how: combine.how, on: combine.on as string[] } } : {}),
    ...options,
    ...(first.kind === 'file' ? { path: first.path } : {}),
    keyLocations: items.map((_, i) => {
      const at = locate(itemPath(i));
      return { path: `${at.path}.on`, ...(at.line !== undefined ? { line: at.line } : {}) };
    }),
  };
}
