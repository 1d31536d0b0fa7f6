import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Ajv } from 'ajv';
import { Document, isCollection, parse, type YAMLMap } from 'yaml';
import { type LoadOptions, type LoadResult, loadSource } from '../data/load.js';
import { parseSourceArgument, specLabel } from '../data/sources/index.js';
import type { SourceSpec } from '../data/sources/types.js';
import type { OnBadRow } from '../data/stream-load.js';
import type { ColumnProfile } from '../data/profile.js';
import { BUNDLE_NAME_MAX, checkName } from '../bundle/names.js';
import { ConfigError } from '../errors.js';
import { planFeatures } from '../features/auto.js';
import { referenceOf } from '../features/derive.js';
import { round } from '../features/numeric.js';
import { FEATURIZER_KINDS, getKind } from '../features/registry.js';
import type { DroppedColumn, Json } from '../features/types.js';
import type { Task } from '../models/forest-format.js';
import { defaultForestParams } from '../models/params.js';
import { columnTypeLabel } from '../table.js';
import type { ColumnType, DeclaredType } from '../values.js';
import { mlpipeVersion } from '../version.js';
import { PIPELINE_SCHEMA } from './config-schema.js';
import { rowsWithTarget } from './featurize.js';

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
/** Checks a bundle name (the one rule: src/core/bundle/names.ts); ConfigError when it does not fit. */
export function checkBundleName(name: string): string {
  return checkName(name);
}

/** A valid bundle name made from any text (`Sales Data 2024` → `Sales-Data-2024`), or undefined when nothing is left. */
export function bundleNameFrom(text: string): string | undefined {
  const name = text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[-.]+$/, '')
    .slice(0, BUNDLE_NAME_MAX);
  return name === '' ? undefined : name;
}

/** The file name without its data extensions: `data/sales.csv.gz` → `sales`. */
function stem(path: string): string {
  let name = basename(path.replace(/[\\/]+$/, ''));
  name = name.replace(/\.(gz|gzip)$/i, '');
  return name.replace(/\.[A-Za-z0-9]{1,8}$/, '');
}

/** The bundle name a source suggests: its file, its table, the last segment of its URL; else `<target>-model` (or `model`). */
export function defaultBundleName(spec: SourceSpec, target?: string): string {
  let candidate: string | undefined;
  switch (spec.kind) {
    case 'file':
      candidate = spec.path === '-' ? undefined : stem(spec.path);
      break;
    case 'sql':
      if (spec.table !== undefined) candidate = spec.table.split('.').pop();
      else {
        const path = sqlitePathOf(spec.url);
        candidate = path !== undefined ? stem(path) : databaseOf(spec.url);
      }
      break;
    case 'http':
      try {
        candidate = new URL(spec.url.replace(/\$\{[^}]*\}/g, 'x')).pathname.split('/').filter(Boolean).pop();
      } catch {
        candidate = undefined;
      }
      break;
    default:
      candidate = undefined;
  }
  return (candidate !== undefined ? bundleNameFrom(candidate) : undefined) ?? (target !== undefined ? bundleNameFrom(`${target}-model`) : undefined) ?? 'model';
}

/** The file of an SQLite URL (`sqlite:x.db`, `sqlite://x.db`, `x.db`), undefined for a server URL. */
function sqlitePathOf(url: string): string | undefined {
  const m = /^sqlite:(\/\/)?(.*)$/i.exec(url);
  if (m) return m[2] as string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  return /\.(db|sqlite|sqlite3)$/i.test(url) ? url : undefined;
}

function databaseOf(url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*\/([^/?#]+)/i.exec(url);
  return m ? decodeURIComponent(m[1] as string) : undefined;
}

/** A path as the config (in `configDir`) must write it: absolute paths stay; relative ones are made relative to the config. */
function relativeToConfig(path: string, configDir: string, cwd: string): string {
  if (path === '-' || isAbsolute(path)) return path;
  const rel = relative(configDir, resolve(cwd, path));
  return (rel === '' ? '.' : rel).split(sep).join('/');
}

/** An SQL URL with a relative SQLite file rewritten against the config's folder; server URLs exactly as given. */
function sqlUrlForConfig(url: string, configDir: string, cwd: string): string {
  const m = /^(sqlite:(?:\/\/)?)(.*)$/i.exec(url);
  if (m) {
    const path = m[2] as string;
    if (path === '' || path === ':memory:' || isAbsolute(path)) return url;
    return `${m[1]}${relativeToConfig(path, configDir, cwd)}`;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  return /\.(db|sqlite|sqlite3)$/i.test(url) ? relativeToConfig(url, configDir, cwd) : url;
}

const ENV_REFERENCE = /^(\$\{[A-Za-z_][A-Za-z0-9_]*\})+$/;
const SECRET_PARAM = /(pass|pwd|secret|token|key|auth|signature|sig|credential|session)/i;

/** A password, or a query parameter named like a credential, written literally in a URL (not as a `${NAME}` reference). */
export function literalSecret(url: string): boolean {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/i.exec(url);
  const userinfo = m?.[1] ?? '';
  const colon = userinfo.indexOf(':');
  const password = colon < 0 ? '' : userinfo.slice(colon + 1);
  if (password !== '' && !ENV_REFERENCE.test(password)) return true;
  const query = url.split('?')[1]?.split('#')[0] ?? '';
  return query.split('&').some((part) => {
    const eq = part.indexOf('=');
    return eq > 0 && SECRET_PARAM.test(part.slice(0, eq)) && part.slice(eq + 1) !== '' && !ENV_REFERENCE.test(part.slice(eq + 1));
  });
}

type Plain = Record<string, unknown>;

/** Drops undefined values, keeping key order. */
function defined(o: Plain): Plain {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * The `source:` value of the config: the source as given, with relative file paths made relative to
 * the config's folder and `${NAME}` references kept as written (nothing from the environment is
 * ever expanded into it). A plain file without options stays a plain path.
 */
export function sourceForConfig(spec: SourceSpec, load: { types?: Record<string, DeclaredType>; onBadRow?: OnBadRow; inferRows?: number; chunkRows?: number }, configDir: string, cwd: string): string | Plain {
  const loadOptions = defined({ types: load.types && Object.keys(load.types).length > 0 ? load.types : undefined, onBadRow: load.onBadRow, inferRows: load.inferRows, chunkRows: load.chunkRows });
  const csv = (s: { delimiter?: string; quote?: string; encoding?: string; header?: boolean }) => ({ delimiter: s.delimiter, quote: s.quote, encoding: s.encoding, header: s.header });
  let object: Plain;
  switch (spec.kind) {
    case 'file':
    case 'stdin': {
      const path = spec.kind === 'stdin' ? '-' : relativeToConfig(spec.path, configDir, cwd);
      object = defined({ path, format: spec.format, ...csv(spec), ...(spec.kind === 'file' ? { sheet: spec.sheet, range: spec.range } : {}) });
      if (Object.keys(object).length === 1 && Object.keys(loadOptions).length === 0) return path;
      break;
    }
    case 'command':
      object = defined({ command: spec.command, format: spec.format, ...csv(spec) });
      break;
    case 'sql':
      object = defined({ sql: sqlUrlForConfig(spec.url, configDir, cwd), query: spec.query, table: spec.table });
      break;
    case 'http':
      object = defined({
        http: spec.url,
        method: spec.method,
        body: spec.body,
        headers: spec.headers,
        bearerToken: spec.bearerToken,
        recordsPath: spec.recordsPath,
        pagination: spec.pagination,
        retries: spec.retries,
        timeoutMs: spec.timeoutMs,
        maxRecords: spec.maxRecords,
      });
      break;
  }
  return { ...object, ...loadOptions };
}

// ---------------------------------------------------------------------------------------------
// YAML text: each line is rendered by the yaml library (so every key and value is quoted as YAML
// needs), comments are added and aligned here.

const TO_STRING = { lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false, nullStr: 'null', indentSeq: true } as const;

/** `key: value` on one line, a collection value in flow style (`{kind: numeric, …}`). */
function pairText(key: string, value: unknown): string {
  const doc = new Document(new Map([[key, value]]));
  const pair = (doc.contents as YAMLMap).items[0];
  if (pair && isCollection(pair.value)) pair.value.flow = true;
  const text = doc.toString(TO_STRING).replace(/\n$/, '');
  // JSON is YAML: the fallback for anything the library would spread over several lines.
  return text.includes('\n') ? `${JSON.stringify(key)}: ${JSON.stringify(value)}` : text;
}

/** `- value` on one line. */
function itemText(value: unknown): string {
  const doc = new Document([value]);
  const text = doc.toString(TO_STRING).replace(/\n$/, '');
  return text.includes('\n') ? `- ${JSON.stringify(value)}` : text;
}

/** A comment's text on one line (newlines would end the comment). */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/**
 * One line of a group: code with an optional trailing comment, a comment line, or code written as a
 * comment (`# cv: 5  # …`: uncommenting it is all it takes to use it).
 */
type Line = { code: string; comment?: string; disabled?: boolean } | { comment: string; code?: undefined };

/**
 * Lines whose trailing comments are aligned one column after the longest code (code longer than
 * `maxColumn` just gets two spaces).
 */
function renderGroup(lines: Line[], indent = '', maxColumn = 56): string[] {
  const codeOf = (l: Line) => (l.code === undefined ? undefined : `${indent}${'disabled' in l && l.disabled ? '# ' : ''}${l.code}`);
  const width = Math.min(maxColumn, Math.max(0, ...lines.map((l) => codeOf(l)?.length ?? 0)));
  return lines.map((l) => {
    const code = codeOf(l);
    if (code === undefined) return `${indent}# ${oneLine(l.comment ?? '')}`;
    if (l.comment === undefined) return code;
    return `${code.padEnd(width)}  # ${oneLine(l.comment)}`;
  });
}

/** Splits text at spaces into lines of at most `width` characters (longer words stay whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

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

/** The source as loaded here: relative file paths against `cwd` (the config's paths are against its folder). */
function absoluteSpec(spec: SourceSpec, cwd: string): SourceSpec {
  if (spec.kind === 'file' && spec.path !== '-' && !isAbsolute(spec.path)) return { ...spec, path: resolve(cwd, spec.path) };
  if (spec.kind === 'sql') {
    const path = sqlitePathOf(spec.url);
    if (path !== undefined && path !== '' && path !== ':memory:' && !isAbsolute(path)) {
      return { ...spec, url: /^sqlite:/i.test(spec.url) ? `sqlite:${resolve(cwd, path)}` : resolve(cwd, path) };
    }
  }
  return spec;
}

function sourceComment(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'sql':
      return sqlitePathOf(spec.url) !== undefined ? 'an SQLite file, relative to this file' : '${NAME} in the URL is read from the environment when the pipeline runs';
    case 'http':
      return '${NAME} in the URL, headers and token is read from the environment when the pipeline runs';
    case 'command':
      return 'a shell command whose standard output is the data (run in the folder mlpipe runs in)';
    case 'stdin':
      return 'standard input';
    case 'file':
      return spec.path === '-' ? 'standard input' : isAbsolute(spec.path) ? 'an absolute path' : 'path: relative to this file';
  }
}
