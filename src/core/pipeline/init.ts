import { dirname, isAbsolute, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { type LoadOptions, type LoadResult, loadSource } from '../data/load.js';
import { parseSourceArgument, specLabel } from '../data/sources/index.js';
import type { SourceSpec } from '../data/sources/types.js';
import type { ColumnProfile } from '../data/profile.js';
import { ConfigError } from '../errors.js';
import { planFeatures } from '../features/auto.js';
import { referenceOf } from '../features/expression/names.js';
import { round } from '../features/numeric.js';
import { FEATURIZER_KINDS, getKind } from '../features/registry.js';
import type { DroppedColumn, Json } from '../features/types.js';
import type { Task } from '../models/forest-format.js';
import { defaultForestParams } from '../models/random-forest.js';
import { columnTypeLabel } from '../table.js';
import type { ColumnType } from '../values.js';
import { mlpipeVersion } from '../version.js';
import { type Line, itemText, pairText, plural, renderGroup, wrap } from './commented-yaml.js';
import { PIPELINE_SCHEMA } from './config.js';
import { rowsWithTarget } from './featurize.js';
import { absoluteSpec, checkBundleName, defaultBundleName, literalSecret, sourceComment, sourceForConfig } from './init-source.js';

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

/** `category, 3 distinct, 2 missing` plus the range of a number or a date. */
function columnFacts(p: ColumnProfile | undefined, type: ColumnType): string {
  if (!p) return type;
  // What the column learned shows with its type: `datetime DD/MM/YYYY`, `boolean Yes/No`.
  const parts = [columnTypeLabel({ ...p, type }), `${p.distinctCapped ? '≥ ' : ''}${p.distinct} distinct`, `${p.missing} missing`];
  if ((type === 'number' || type === 'integer') && typeof p.min === 'number' && typeof p.max === 'number') parts.push(`${round(p.min)} – ${round(p.max)}`);
  if (type === 'datetime' && typeof p.min === 'string' && typeof p.max === 'string') parts.push(`${p.min.slice(0, 10)} – ${p.max.slice(0, 10)}`);
  return parts.join(', ');
}

/** Why a column got its featurizer, in a few words. */
function kindWhy(kind: string, params: Record<string, Json>, p: ColumnProfile | undefined): string {
  const missing = (p?.missing ?? 0) > 0;
  switch (kind) {
    case 'numeric':
      return missing ? `numeric (missing → ${typeof params.impute === 'string' ? params.impute : 'median'} + indicator)` : 'numeric (as is)';
    case 'one-hot': {
      const top = (p?.top ?? []).map((t) => `${t.value} ${t.count}`);
      const more = p && p.distinct > top.length ? ', …' : '';
      return top.length > 0 ? `one-hot (top: ${top.join(', ')}${more})` : 'one-hot';
    }
    case 'boolean':
      return missing ? 'boolean (missing → most frequent + indicator)' : 'boolean (true → 1, false → 0)';
    case 'datetime-parts':
      return missing ? 'datetime-parts (missing → median date + indicator)' : 'datetime-parts';
    default:
      return kind;
  }
}

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

  const profiles = new Map(data.profile.columns.map((c) => [c.name, c]));
  const date = (options.now ?? new Date()).toISOString().slice(0, 10);
  const what = spec.kind === 'sql' ? `${specLabel(spec)} (${spec.table !== undefined ? `table ${spec.table}` : 'a query'})` : specLabel(spec);
  const rowsWithoutTarget = data.table.rowCount - table.rowCount;
  const out: string[] = [];
  out.push(
    ...renderGroup([
      { comment: `mlpipe pipeline config, written by \`mlpipe init\` (mlpipe ${mlpipeVersion()}) on ${date}.` },
      { comment: `Data: ${what}: ${data.rows} rows × ${data.schema.length} columns when this file was written${rowsWithoutTarget > 0 ? ` (${plural(rowsWithoutTarget, 'row')} without a ${target} value: left out)` : ''}.` },
      { comment: 'Every choice `mlpipe run` would make by itself is written out below, so it is easy to change;' },
      { comment: 'the comments say what each column holds and why it got its featurizer.' },
      { comment: `Run it:    ${runCommand(spec, options.out)}` },
      { comment: 'Settings:  README.md, section "pipeline.yaml".' },
    ]),
    '',
  );

  // name, source, target, task, seed
  const targetProfile = profiles.get(target);
  const classes = resolved.classes;
  const targetComment =
    classes !== undefined
      ? `${resolved.column.type}, ${plural(classes.length, 'class', 'classes')}: ${classes.slice(0, 10).join(', ')}${classes.length > 10 ? ', …' : ''}`
      : `${columnFacts(targetProfile, resolved.column.type)}`;
  const top: Line[] = [
    { code: pairText('name', name), comment: `bundle name: the model is saved as ${name}@<version>` },
  ];
  if (typeof source === 'string') top.push({ code: pairText('source', source), comment: source === '-' ? 'standard input' : isAbsolute(source) ? 'an absolute path' : 'relative to this file' });
  else {
    top.push({ code: 'source:', comment: sourceComment(spec) });
    for (const [k, v] of Object.entries(source)) top.push({ code: `  ${pairText(k, v)}` });
  }
  top.push(
    { code: pairText('target', target), comment: `the column to predict: ${targetComment}` },
    {
      code: pairText('task', task),
      comment: options.task !== undefined ? 'chosen with --task (classification | regression)' : `inferred from the target (${task === 'classification' ? (resolved.column.type === 'integer' ? 'few distinct integers' : `a ${resolved.column.type}`) : 'a number'}); classification | regression`,
    },
    { code: pairText('seed', SEED), comment: 'fixes every random choice (holdout split, bootstrap samples, features tried)' },
  );
  out.push(...renderGroup(top), '');

  // features
  out.push(
    ...renderGroup([
      { comment: 'One featurizer per input column, in the data\'s order, with every parameter written out. The kinds used here:' },
      ...[...new Set(features.map((f) => f.kind))].map((k) => ({ comment: `  ${k}: ${getKind(k).description}` })),
      ...wrap(`Every kind: ${[...FEATURIZER_KINDS.keys()].join(', ')}; their parameters: README.md, "pipeline.yaml".`, 100).map((comment) => ({ comment })),
      { comment: 'To leave a column out, move its name to drop: (or write  <column>: drop).' },
    ]),
  );
  out.push('features:');
  if (dropped.length === 0) out.push('  drop: []                  # columns to leave out: none');
  else {
    const group: Line[] = [{ code: 'drop:', comment: 'columns left out, and why' }];
    for (const d of dropped) group.push({ code: `  ${itemText(d.column)}`, comment: `${columnFacts(profiles.get(d.column), d.type)} → dropped: ${d.reason}` });
    out.push(...renderGroup(group, '  '));
  }
  // A derived column over the data's own numbers, commented out: the config runs unchanged, and uncommenting it just works.
  const example = deriveExample(
    features.filter((f) => f.type === 'number' || f.type === 'integer').map((f) => f.column),
    data.table.columns.map((c) => c.name),
  );
  if (example) {
    out.push(
      ...renderGroup(
        [
          { code: 'derive:', disabled: true, comment: 'uncomment both lines: a numeric column computed from each record (names that are not identifiers go in `backticks`)' },
          { code: `  ${example.name}: ${JSON.stringify(example.expression)}`, disabled: true },
        ],
        '  ',
      ),
    );
  } else out.push('  # derive: {ratio: "a / (b + 1)"}  # numeric columns computed from number, integer, boolean and datetime columns (README: derived columns)');
  if (features.length === 0) out.push('  columns: {}              # no column can be featurized automatically: name a kind for some column');
  else {
    out.push('  columns:');
    const group: Line[] = features.map((f) => ({ code: pairText(f.column, { kind: f.kind, ...f.params }), comment: `${columnFacts(profiles.get(f.column), f.type)} → ${kindWhy(f.kind, f.params, profiles.get(f.column))}` }));
    out.push(...renderGroup(group, '    ', 100));
  }
  out.push('');

  // model
  out.push(...renderGroup([{ comment: 'The model: a random forest, with its default settings written out.' }]));
  out.push('model:');
  out.push(
    ...renderGroup(
      [
        { code: pairText('type', 'random-forest'), comment: 'the only type so far (engine: hist by default, mljs for ml-random-forest itself)' },
        { code: pairText('trees', model.trees), comment: 'more trees: steadier predictions, slower training (1 – 10000)' },
        { code: pairText('maxFeatures', model.maxFeatures), comment: `features tried at each split: sqrt | log2 | all | a fraction | a count (${task === 'classification' ? 'sqrt' : 'all'} for ${task})` },
        { code: pairText('maxDepth', model.maxDepth), comment: 'null: trees grow until their leaves are pure; a number caps the depth' },
        { code: pairText('minSamplesSplit', model.minSamplesSplit), comment: 'a node with fewer samples is not split' },
        { code: pairText('minSamplesLeaf', model.minSamplesLeaf), comment: 'samples every leaf keeps at least; raise it for smoother predictions on noisy data' },
      ],
      '  ',
    ),
    '',
  );

  // evaluation
  out.push(...renderGroup([{ comment: 'How the model is scored before the final model is trained on every row.' }]));
  out.push('evaluation:');
  out.push(
    ...renderGroup(
      [
        { code: pairText('holdout', HOLDOUT), comment: `share of rows held out to score the model${task === 'classification' ? ' (stratified)' : ''}; 0 = none` },
        { code: pairText('cv', 5), disabled: true, comment: 'uncomment: 5-fold cross-validation on all rows (mean ± std of every metric)' },
      ],
      '  ',
    ),
    '',
  );

  // package
  out.push(
    ...renderGroup([
      { comment: 'Where the bundle goes: the next patch version (1.0.0 first) in --artifacts, $MLPIPE_ARTIFACTS or ./artifacts.' },
      { comment: 'To fix them:  package: {version: 1.2.0, artifacts: ../artifacts}   (artifacts: relative to this file)' },
    ]),
    'package: {}',
  );
  const yaml = `${out.join('\n')}\n`;

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
