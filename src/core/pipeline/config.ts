import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, type Node, isNode, parseDocument } from 'yaml';
import { ConfigError, type ErrorDetail, NotFoundError } from '../errors.js';
import type { ColumnChoice, ColumnSelector } from '../features/auto.js';
import { DeriveError, checkDerivations } from '../features/derive.js';
import { CUSTOM_MODULE_EXTENSIONS, type CustomModuleSpec } from '../features/custom.js';
import { ParamError } from '../features/params.js';
import type { DerivePlan } from '../features/fit-pipeline.js';
import { FEATURIZER_KINDS } from '../features/registry.js';
import type { Engine, ForestParams, Task } from '../models/forest-format.js';
import { forestParamProblems } from '../models/params.js';
import type { SearchOptions } from './train.js';
import { suggest } from '../suggest.js';
import type { CombineSpec } from '../data/combine.js';
import type { SourceSpec } from '../data/sources/types.js';
import type { OnBadRow } from '../data/type-chunks.js';
import { dict } from '../records/dict.js';
import type { DeclaredType } from '../values.js';
import { isRemoteLocation } from '../bundle/stores/location.js';
import { PIPELINE_SCHEMA } from './config-schema.js';
import { type Fail, pipelineSource } from './config-source.js';

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
function formatConfigPath(path: readonly (string | number)[]): string {
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
