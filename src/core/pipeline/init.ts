import { dirname, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { type LoadOptions, type LoadResult, loadSource } from '../data/load.js';
import { parseSourceArgument } from '../data/sources/index.js';
import type { SourceSpec } from '../data/sources/types.js';
import { planFeatures } from '../features/auto.js';
import { referenceOf } from '../features/expression/names.js';
import { getKind } from '../features/registry.js';
import type { DroppedColumn, Json } from '../features/types.js';
import type { Task } from '../models/forest-format.js';
import { defaultForestParams } from '../models/params.js';
import type { ColumnType } from '../values.js';
import { PIPELINE_SCHEMA } from './config-schema.js';
import { rowsWithTarget } from './featurize.js';
import { absoluteSpec, checkBundleName, defaultBundleName, literalSecret, sourceForConfig } from './init-source.js';
import { starterYaml } from './init-yaml.js';

/**
 * Options of {@link initConfig}. The loading options are `mlpipe load`'s (types, onBadRow, inferRows
 * and chunkRows are also written onto the config's source, so `run` loads the same way; env is
 * never written).
 */
export interface InitOptions extends Pick<LoadOptions, 'types' | 'onBadRow' | 'inferRows' | 'chunkRows' | 'stdin' | 'env' | 'onProgress' | 'signal'> {
  /** What to read: a source spec as `mlpipe load` makes it (parseSourceArgument), or a path. */
  source: string | SourceSpec;
  /** The column to predict. */
  target: string;
  /** The config file that will be written: relative paths in `source:` are written against its folder. */
  out: string;
  /** Bundle name (default: derived from the source's file, table or URL). */
  name?: string;
  /** Overrides the task implied by the target. */
  task?: Task;
  /** Folder relative paths (source, out) are taken against (default: the process's). */
  cwd?: string;
  /** The date written in the header (default: now). */
  now?: Date;
}

/** One featurized column of the starter config. */
export interface InitColumn {
  column: string;
  type: ColumnType;
  kind: string;
  params: Record<string, Json>;
}

/** What {@link initConfig} made. */
export interface InitResult {
  /** The commented YAML text of the config (parses and validates as a pipeline.yaml). */
  yaml: string;
  /** The same config as a plain object (what the YAML parses to). */
  config: Record<string, unknown>;
  name: string;
  target: string;
  task: Task;
  /** Class labels, for classification. */
  classes?: string[];
  rows: number;
  rowsWithoutTarget: number;
  columns: number;
  features: InitColumn[];
  dropped: DroppedColumn[];
  /** The derived column written (commented out) under `features:` as an example, when the data has a number column. */
  deriveExample?: { name: string; expression: string };
  /** Things to tell the user (load warnings, a password written into the config). */
  warnings: string[];
  /** The command that runs the config (`mlpipe run <out>`). */
  next: string;
}

const SEED = 42;

const HOLDOUT = 0.2;

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command that runs the written config: `mlpipe run p.yaml` (with `< data` when the source is standard input). */
export function runCommand(spec: SourceSpec, out: string): string {
  const stdin = spec.kind === 'stdin' || (spec.kind === 'file' && spec.path === '-');
  return `mlpipe run ${shellWord(out)}${stdin ? ' < data' : ''}`;
}

/** `base`, or `base_2`, `base_3` … when a column has that name already. */
function freeName(base: string, taken: ReadonlySet<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
  return name;
}

/**
 * The example derived column of a starter config, over the data's own featurized number columns:
 * with two or more, a ratio of the first two (`ratio: "a / (b + 1)"`); with one, its log; with none,
 * undefined. Names that are not identifiers are written in backticks. The derived column's name is
 * one no column has, so uncommenting the example gives a config that runs.
 */
export function deriveExample(numeric: readonly string[], columns: Iterable<string>): { name: string; expression: string } | undefined {
  const taken = new Set(columns);
  const [a, b] = numeric;
  if (a === undefined) return undefined;
  if (b === undefined) return { name: freeName('log_value', taken), expression: `log(abs(${referenceOf(a)}) + 1)` };
  return { name: freeName('ratio', taken), expression: `${referenceOf(a)} / (${referenceOf(b)} + 1)` };
}

/**
 * A step's parameters written out: every parameter the kind fills in, as long as writing it keeps the
 * kind's reading of them unchanged and valid (some parameters are only allowed beside others, e.g. a
 * `fillValue` only with `impute: constant`; a null default cannot be written). So a kind with
 * parameters added later is written out correctly without changes here.
 */
export function explicitParams(kindName: string, given: Record<string, unknown>): Record<string, Json> {
  const kind = getKind(kindName);
  const full = kind.params(given) as Record<string, Json>;
  const read = (raw: Record<string, unknown>) => {
    try {
      return kind.params(raw);
    } catch {
      return undefined;
    }
  };
  const written: Record<string, Json> = {};
  for (const [key, value] of Object.entries(full)) {
    if (value === null || value === undefined) continue;
    if (read({ ...written, [key]: value }) !== undefined) written[key] = value;
  }
  return isDeepStrictEqual(read(written), full) ? written : (given as Record<string, Json>);
}

let validateConfig: ReturnType<Ajv['compile']> | undefined;

/**
 * Makes a commented starter pipeline.yaml for a source and a target: loads the source as `mlpipe
 * load` would, checks the target (an unknown column is a ConfigError with a suggestion), infers the
 * task as `train` would, runs the automatic featurizer plan and writes every choice out explicitly
 * (kind and parameters per column, dropped columns with their reasons, the model's defaults, the
 * evaluation), each with a comment saying what the data holds and why. The text parses and validates
 * as a pipeline.yaml and `mlpipe run` trains from it exactly what automatic mode would.
 * Nothing is written: the caller writes `yaml` to `options.out`.
 */
export async function initConfig(options: InitOptions): Promise<InitResult> {
  const cwd = options.cwd ?? process.cwd();
  const spec: SourceSpec = typeof options.source === 'string' ? parseSourceArgument(options.source, {}) : options.source;
  const name = options.name !== undefined ? checkBundleName(options.name) : defaultBundleName(spec, options.target);
  const configFile = resolve(cwd, options.out);
  const configDir = dirname(configFile);
  // Relative paths of the source are read against `cwd` while loading here.
  const loadSpec = options.cwd !== undefined && resolve(options.cwd) !== process.cwd() ? absoluteSpec(spec, cwd) : spec;
  const data: LoadResult = await loadSource({
    source: loadSpec,
    types: options.types,
    onBadRow: options.onBadRow,
    inferRows: options.inferRows,
    chunkRows: options.chunkRows,
    stdin: options.stdin,
    env: options.env,
    onProgress: options.onProgress,
    signal: options.signal,
  });
  const { target } = options;
  // The plan is made on the rows featurize will see (rows with a target), as `mlpipe run` does.
  const { resolved, table } = rowsWithTarget(data.table, target, options.task);
  const plan = planFeatures(table, { target });
  const features: InitColumn[] = plan.steps.map((s) => ({
    column: s.column,
    type: data.table.columns.find((c) => c.name === s.column)!.type,
    kind: s.kind,
    params: explicitParams(s.kind, s.params ?? {}),
  }));
  const dropped = plan.dropped;
  const task = resolved.task;
  const model = defaultForestParams(task);
  const source = sourceForConfig(spec, options, configDir, cwd);

  const config: Record<string, unknown> = {
    name,
    source,
    target,
    task,
    seed: SEED,
    features: {
      drop: dropped.map((d) => d.column),
      columns: Object.fromEntries(features.map((f) => [f.column, { kind: f.kind, ...f.params }])),
    },
    model: { type: 'random-forest', trees: model.trees, maxFeatures: model.maxFeatures, maxDepth: model.maxDepth, minSamplesSplit: model.minSamplesSplit, minSamplesLeaf: model.minSamplesLeaf },
    evaluation: { holdout: HOLDOUT },
    package: {},
  };

  const warnings = [...data.warnings];
  if ((spec.kind === 'sql' || spec.kind === 'http') && literalSecret(spec.url)) {
    warnings.push(`${options.out}: the source URL holds a password or key, written into the config as given; use a \${NAME} reference (e.g. \${PGPASSWORD}) read from the environment instead`);
  }

  const rowsWithoutTarget = data.table.rowCount - table.rowCount;
  // A derived column over the data's own numbers, commented out: the config runs unchanged, and uncommenting it just works.
  const example = deriveExample(
    features.filter((f) => f.type === 'number' || f.type === 'integer').map((f) => f.column),
    data.table.columns.map((c) => c.name),
  );
  const classes = resolved.classes;
  const yaml = starterYaml({ name, spec, source, configPath: options.out, taskGiven: options.task !== undefined, now: options.now, data, rowsWithoutTarget, target, resolved, task, features, dropped, example, model, seed: SEED, holdout: HOLDOUT });

  // The text must say exactly what `config` says, and be a valid pipeline.yaml.
  const parsed = parse(yaml) as unknown;
  // Compared as plain JSON: objects keyed by column names are null-prototype in `config` (a column may be
  // called `__proto__`), plain in what YAML reads.
  if (!isDeepStrictEqual(parsed, JSON.parse(JSON.stringify(config)))) throw new Error('mlpipe init: the generated YAML does not read back as the config it was made from');
  validateConfig ??= new Ajv({ allErrors: true, strict: false }).compile(PIPELINE_SCHEMA);
  if (!validateConfig(parsed)) throw new Error(`mlpipe init: the generated config does not validate: ${JSON.stringify(validateConfig.errors?.[0])}`);

  return {
    yaml,
    config,
    name,
    target,
    task,
    ...(classes ? { classes } : {}),
    rows: data.rows,
    rowsWithoutTarget,
    columns: data.schema.length,
    features,
    dropped,
    ...(example ? { deriveExample: example } : {}),
    warnings,
    next: runCommand(spec, options.out),
  };
}
