/**
 * pipeline.yaml's JSON Schema ({@link PIPELINE_SCHEMA}): what `readPipelineConfig` validates first, what
 * `mlpipe schema` prints and what the README's settings table is generated from (pipeline/schema.ts).
 * The forest's parameters come from their declaration (models/params.ts), the file formats from
 * data/formats.ts and the bundle-name rule from bundle/names.ts.
 */
import { BUNDLE_NAME_MAX, BUNDLE_NAME_PATTERN, BUNDLE_VERSION_PATTERN } from '../bundle/names.js';
import { FILE_FORMATS, TEXT_FORMATS } from '../data/formats.js';
import { FEATURIZER_KINDS } from '../features/registry.js';
import { ENGINES } from '../models/forest-format.js';
import { forestParamSchemas } from '../models/params.js';
import { COLUMN_TYPES, DECLARED_TYPES } from '../values.js';

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
