/**
 * The random forest's parameters, declared once. Everything else is generated from this list:
 * the CLI options of `train` and `run` (`--trees`, `--max-depth` … in `cli/commands/train.ts`), the
 * `model:` section of pipeline.yaml's JSON Schema and the top-level `seed:` (`pipeline/config.ts`, and
 * from it `schema/pipeline.schema.json` and the README's settings table), the checks the config and
 * the trainer run ({@link forestParamProblems}) and the defaults ({@link defaultForestParams}).
 *
 * A parameter's name is its key everywhere: in {@link ForestParams}, in pipeline.yaml (under `model:`,
 * `seed` at the top level), in model.json and the manifest; its flag is the name in kebab case.
 */
import type { Engine, ForestParams, Task } from './forest-format.js';

export type ForestParamName = keyof ForestParams;
type Value = ForestParams[ForestParamName];

/** A value, or one per task. */
export type ByTask<V> = V | { classification: V; regression: V };

/** The values a parameter takes (besides null, when {@link ForestParamSpec.nullMeans} is set). */
export type ParamDomain =
  /** A whole number in [min, max]. */
  | { kind: 'integer'; min: number; max?: number }
  /**
   * A fraction or a whole count: `(0, 1)` — 1 is the count one — or `(0, 1]` — 1 is all of them;
   * `words` are named choices accepted besides numbers.
   */
  | { kind: 'share'; fraction: '(0, 1)' | '(0, 1]'; words?: readonly string[] };

/** One forest parameter. */
export interface ForestParamSpec {
  name: ForestParamName;
  /** Where pipeline.yaml takes it: under `model:`, or at the top level (the seed fixes every random choice, not only the forest's). */
  yaml: 'model' | 'top';
  /** What it is, in a few words (the CLI's help). */
  summary: string;
  domain: ParamDomain;
  /** When null is a value: what it means (`unlimited`). Null is written in pipeline.yaml, never on the command line. */
  nullMeans?: string;
  /** Engine hist's default; none: a random seed, recorded. */
  default?: ByTask<Value>;
  /** Engine mljs's default, when it differs. */
  mljsDefault?: ByTask<Value>;
  /** Why engine mljs refuses any value but its default, when it does (the end of the message). */
  mljsRefuses?: string;
  /** The schema's description (what editors and the README's settings table show). */
  description: string;
}

/**
 * The parameters, in the order the schema and `--help` list them. Engine hist's defaults follow
 * scikit-learn: 100 trees, `sqrt` features per split for classification and all for regression,
 * trees grown until pure (min samples split 2, leaf 1). Engine mljs draws one feature subset per
 * tree, not per split, so `sqrt` would starve each tree (on the penguins example: 0.89 accuracy
 * against 0.99 with 70%): it takes 70% for classification.
 */
export const FOREST_PARAMS: readonly ForestParamSpec[] = [
  {
    name: 'trees',
    yaml: 'model',
    summary: 'number of trees',
    domain: { kind: 'integer', min: 1, max: 10_000 },
    default: 100,
    description: 'more trees: steadier predictions, slower training',
  },
  {
    name: 'maxFeatures',
    yaml: 'model',
    summary: 'features tried at each split (engine hist) or drawn once per tree (engine mljs)',
    domain: { kind: 'share', fraction: '(0, 1)', words: ['sqrt', 'log2', 'all'] },
    default: { classification: 'sqrt', regression: 'all' },
    mljsDefault: { classification: 0.7, regression: 'all' },
    description: 'features tried at each split: sqrt, log2, all, a fraction (below 1) or a count; default: sqrt for classification (0.7 with engine mljs), all for regression',
  },
  {
    name: 'maxDepth',
    yaml: 'model',
    summary: 'maximum tree depth',
    domain: { kind: 'integer', min: 1 },
    nullMeans: 'unlimited',
    default: null,
    description: 'null: trees grow until their leaves are pure',
  },
  {
    name: 'minSamplesSplit',
    yaml: 'model',
    summary: 'samples a node needs to be split',
    domain: { kind: 'integer', min: 2 },
    default: 2,
    mljsDefault: 4,
    description: 'a node with fewer (bootstrap-weighted) samples is not split; default 4 with engine mljs',
  },
  {
    name: 'minSamplesLeaf',
    yaml: 'model',
    summary: 'samples each leaf keeps at least',
    domain: { kind: 'integer', min: 1 },
    default: 1,
    mljsRefuses: 'has no such setting',
    description: '(bootstrap-weighted) samples every leaf keeps at least',
  },
  {
    name: 'maxSamples',
    yaml: 'model',
    summary: 'bootstrap draws per tree',
    domain: { kind: 'share', fraction: '(0, 1]' },
    nullMeans: 'as many as rows',
    default: null,
    // ml-random-forest's maxSamples keeps the first rows of the data, not a sample of them.
    mljsRefuses: 'does not sample rows correctly',
    description: 'bootstrap draws per tree: a fraction (up to 1) or a count; null: as many as rows',
  },
  {
    name: 'seed',
    yaml: 'top',
    summary: 'seed for every random choice',
    domain: { kind: 'integer', min: 0, max: 2 ** 31 - 1 },
    description: 'fixes every random choice (split, folds, bootstrap, features tried); default: random, recorded in the bundle',
  },
];

/** The parameter's command-line flag: its name in kebab case (`maxDepth` → `--max-depth`). */
export function flagOf(spec: ForestParamSpec): string {
  return `--${spec.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function forTask(value: ByTask<Value>, task: Task): Value {
  return value !== null && typeof value === 'object' ? value[task] : value;
}

/** The default of every parameter but the seed, for a task and an engine. */
export function defaultForestParams(task: Task, engine: Engine = 'hist'): Omit<ForestParams, 'seed'> {
  const out: Record<string, unknown> = {};
  for (const spec of FOREST_PARAMS) {
    if (spec.default === undefined) continue;
    out[spec.name] = forTask(engine === 'mljs' && spec.mljsDefault !== undefined ? spec.mljsDefault : spec.default, task);
  }
  return out as unknown as Omit<ForestParams, 'seed'>;
}

/** What a value must be, in words: `a whole number from 1 to 10000`, `sqrt, log2, all, a fraction in (0, 1) or a whole count`. */
export function expectation(spec: ForestParamSpec): string {
  const d = spec.domain;
  if (d.kind === 'integer') return d.max === undefined ? `a whole number ≥ ${d.min}` : `a whole number from ${d.min} to ${d.max}`;
  return `${[...(d.words ?? []), `a fraction in ${d.fraction}`].join(', ')} or a whole count`;
}

/** Whether a value (null aside) lies in the parameter's domain. */
export function inDomain(spec: ForestParamSpec, value: unknown): boolean {
  const d = spec.domain;
  if (typeof value === 'string') return d.kind === 'share' && (d.words ?? []).includes(value);
  if (typeof value !== 'number') return false;
  if (d.kind === 'integer') return Number.isInteger(value) && value >= d.min && value <= (d.max ?? Infinity);
  const fractionMax = d.fraction === '(0, 1]' ? 1 : 0;
  return value > 0 && (value < 1 || value <= fractionMax || Number.isInteger(value));
}

/** A parameter's problem, without its path: `must be a whole number ≥ 1, got 0`; undefined when fine. */
function forestParamProblem(spec: ForestParamSpec, value: unknown, engine: Engine = 'hist'): string | undefined {
  if (!(value === null && spec.nullMeans !== undefined) && !inDomain(spec, value)) return `must be ${expectation(spec)}, got ${value}`;
  if (engine === 'mljs' && spec.mljsRefuses !== undefined && value !== spec.default) return `engine mljs (ml-random-forest) ${spec.mljsRefuses}; use engine hist`;
  return undefined;
}

/** Every problem of the parameters given (unset ones are not checked), in declaration order. */
export function forestParamProblems(params: Partial<ForestParams>, engine: Engine = 'hist'): { spec: ForestParamSpec; problem: string }[] {
  const out: { spec: ForestParamSpec; problem: string }[] = [];
  for (const spec of FOREST_PARAMS) {
    const value = params[spec.name];
    if (value === undefined) continue;
    const problem = forestParamProblem(spec, value, engine);
    if (problem !== undefined) out.push({ spec, problem });
  }
  return out;
}

/** What the default is, in words, for `--help`: `100`, `unlimited`, `sqrt for classification, all for regression; engine mljs: 4`. */
export function defaultText(spec: ForestParamSpec): string {
  const text = (v: ByTask<Value>): string => {
    if (v !== null && typeof v === 'object') return v.classification === v.regression ? text(v.classification) : `${text(v.classification)} for classification, ${text(v.regression)} for regression`;
    return v === null ? (spec.nullMeans ?? 'none') : String(v);
  };
  if (spec.default === undefined) return 'random, recorded in the bundle';
  return `${text(spec.default)}${spec.mljsDefault !== undefined ? `; engine mljs: ${text(spec.mljsDefault)}` : ''}`;
}

/** The parameter's JSON Schema (type, range, `default` when it does not depend on the task, description). */
export function forestParamSchema(spec: ForestParamSpec): Record<string, unknown> {
  const d = spec.domain;
  let values: Record<string, unknown>;
  if (d.kind === 'integer') values = { type: 'integer', minimum: d.min, ...(d.max !== undefined ? { maximum: d.max } : {}) };
  else {
    // The schema says "> 0"; a count's wholeness is checked by forestParamProblems (readPipelineConfig).
    const number = { type: 'number', exclusiveMinimum: 0 };
    values = d.words ? { oneOf: [{ enum: [...d.words] }, number] } : number;
  }
  if (spec.nullMeans !== undefined) values = { oneOf: [...((values.oneOf as unknown[] | undefined) ?? [values]), { type: 'null' }] };
  const plainDefault = spec.default === null || (spec.default !== undefined && typeof spec.default !== 'object');
  return { ...values, ...(plainDefault ? { default: spec.default } : {}), description: spec.description };
}

/** The JSON Schema properties of the parameters pipeline.yaml takes at one place (`model:` or the top level). */
export function forestParamSchemas(yaml: ForestParamSpec['yaml']): Record<string, Record<string, unknown>> {
  return Object.fromEntries(FOREST_PARAMS.filter((p) => p.yaml === yaml).map((p) => [p.name, forestParamSchema(p)]));
}
