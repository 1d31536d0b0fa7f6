import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, type Node, isNode, parseDocument } from 'yaml';
import { ConfigError, type ErrorDetail, NotFoundError } from '../errors.js';
import type { ColumnChoice } from '../features/auto.js';
import { FEATURIZER_KINDS } from '../features/registry.js';
import type { Engine, ForestParams, Task } from '../models/forest-format.js';
import type { SearchOptions } from './train.js';
import { suggest } from '../suggest.js';
import { COLUMN_TYPES, type ColumnType } from '../values.js';

/** A pipeline config (pipeline.yaml) after validation, with paths resolved against its folder. */
export interface PipelineConfig {
  /** The config file, as given. */
  file: string;
  /** sha256 of the file's bytes, recorded in the lineage. */
  sha256: string;
  name?: string;
  source: { path: string; format?: string; delimiter?: string; types?: Record<string, ColumnType> };
  target: string;
  task?: Task;
  seed?: number;
  features: { drop?: string[]; columns?: Record<string, ColumnChoice> };
  model: Partial<Omit<ForestParams, 'seed'>> & { type: 'random-forest'; engine?: Engine };
  evaluation: { holdout?: number; cv?: number; oob?: boolean; permutationRepeats?: number; search?: SearchOptions };
  package: { version?: string; artifacts?: string };
}

const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

/** The JSON Schema every pipeline.yaml is validated against (also printed by `mlpipe schema`). */
export const PIPELINE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'mlpipe pipeline config',
  type: 'object',
  additionalProperties: false,
  required: ['source', 'target'],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN, description: 'bundle name' },
    source: {
      description: 'data file (relative to this config), or an object with path and read options',
      oneOf: [
        { type: 'string', minLength: 1 },
        {
          type: 'object',
          additionalProperties: false,
          required: ['path'],
          properties: {
            path: { type: 'string', minLength: 1 },
            format: { enum: ['csv', 'tsv', 'json', 'ndjson', 'arrow'] },
            delimiter: { type: 'string', minLength: 1, maxLength: 1 },
            types: { type: 'object', additionalProperties: { enum: [...COLUMN_TYPES] } },
          },
        },
      ],
    },
    target: { type: 'string', minLength: 1, description: 'column to predict' },
    task: { enum: ['classification', 'regression'] },
    seed: { type: 'integer', minimum: 0, maximum: 2147483647 },
    features: {
      type: 'object',
      additionalProperties: false,
      properties: {
        drop: { type: 'array', items: { type: 'string' } },
        columns: {
          type: 'object',
          additionalProperties: {
            oneOf: [
              { const: 'drop' },
              { type: 'object', properties: { kind: { enum: [...FEATURIZER_KINDS.keys()] } } },
            ],
          },
        },
      },
    },
    model: {
      type: 'object',
      additionalProperties: false,
      properties: {
        type: { const: 'random-forest' },
        engine: { enum: ['hist', 'mljs'] },
        trees: { type: 'integer', minimum: 1, maximum: 10000 },
        maxFeatures: { oneOf: [{ enum: ['sqrt', 'log2', 'all'] }, { type: 'number', exclusiveMinimum: 0 }] },
        maxDepth: { oneOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }] },
        minSamplesSplit: { type: 'integer', minimum: 2 },
        minSamplesLeaf: { type: 'integer', minimum: 1 },
        maxSamples: { oneOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'null' }] },
      },
    },
    evaluation: {
      type: 'object',
      additionalProperties: false,
      properties: {
        holdout: { type: 'number', minimum: 0, maximum: 0.9 },
        cv: { type: 'integer', minimum: 0 },
        oob: { type: 'boolean' },
        permutationRepeats: { type: 'integer', minimum: 0, maximum: 100 },
        search: {
          type: 'object',
          additionalProperties: false,
          required: ['strategy'],
          properties: { strategy: { enum: ['random', 'grid'] }, trials: { type: 'integer', minimum: 1 }, folds: { type: 'integer', minimum: 2 } },
        },
      },
    },
    package: {
      type: 'object',
      additionalProperties: false,
      properties: {
        version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+$' },
        artifacts: { type: 'string', minLength: 1 },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true, strict: false }).compile(PIPELINE_SCHEMA);

function dotted(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Schema node at a path (following properties / additionalProperties), for suggestions. */
function schemaAt(path: string[]): Record<string, unknown> | undefined {
  let node: Record<string, unknown> | undefined = PIPELINE_SCHEMA as unknown as Record<string, unknown>;
  for (const key of path) {
    const props = node?.properties as Record<string, Record<string, unknown>> | undefined;
    node = props?.[key] ?? (node?.additionalProperties as Record<string, unknown> | undefined);
    if (node && !node.properties && Array.isArray(node.oneOf)) {
      node = (node.oneOf as Record<string, unknown>[]).find((s) => s.properties) ?? node;
    }
  }
  return node;
}

function describeError(err: ErrorObject): { path: string[]; message: string } | undefined {
  const path = dotted(err.instancePath);
  switch (err.keyword) {
    case 'additionalProperty':
    case 'additionalProperties': {
      const prop = (err.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((schemaAt(path)?.properties as object) ?? {});
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
    case 'oneOf':
    case 'if':
      return undefined; // the branch errors say more
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
    throw new ConfigError(`${file}: line ${line}, column ${col}: invalid YAML (${e.message.split('\n')[0]})`);
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
    for (const err of validate.errors ?? []) {
      const d = describeError(err);
      if (!d) continue;
      const path = d.path.join('.') || '(top level)';
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
  const source = typeof cfg.source === 'string' ? { path: cfg.source } : (cfg.source as PipelineConfig['source']);
  const pkg = (cfg.package ?? {}) as PipelineConfig['package'];
  return {
    file,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    name: cfg.name as string | undefined,
    source: { ...source, path: rel(source.path) },
    target: cfg.target as string,
    task: cfg.task as Task | undefined,
    seed: cfg.seed as number | undefined,
    features: (cfg.features ?? {}) as PipelineConfig['features'],
    model: { type: 'random-forest', ...((cfg.model ?? {}) as object) },
    evaluation: (cfg.evaluation ?? {}) as PipelineConfig['evaluation'],
    package: { ...pkg, ...(pkg.artifacts ? { artifacts: rel(pkg.artifacts) } : {}) },
  };
}
