/**
 * The text of the starter pipeline.yaml that `mlpipe init` writes: every choice written out, section
 * by section (header, name/source/target/task/seed, features, model, evaluation, package), each line
 * with a comment saying what the data holds and why it got its setting.
 */
import { isAbsolute } from 'node:path';
import type { LoadResult } from '../data/load.js';
import type { ColumnProfile } from '../data/profile.js';
import { specLabel } from '../data/sources/index.js';
import type { SourceSpec } from '../data/sources/types.js';
import { round } from '../features/numeric.js';
import { FEATURIZER_KINDS, getKind } from '../features/registry.js';
import type { DroppedColumn, Json } from '../features/types.js';
import type { Task } from '../models/forest-format.js';
import type { defaultForestParams } from '../models/params.js';
import { columnTypeLabel } from '../table.js';
import type { ColumnType } from '../values.js';
import { mlpipeVersion } from '../version.js';
import { type Line, itemText, pairText, plural, renderGroup, wrap } from './commented-yaml.js';
import { type InitColumn, runCommand } from './init.js';
import { type Plain, sourceComment } from './init-source.js';

/** What the starter config says, and the facts its comments tell. */
export interface StarterFacts {
  name: string;
  spec: SourceSpec;
  /** The `source:` value as written. */
  source: string | Plain;
  /** The config file's path as given (for the command that runs it). */
  configPath: string;
  /** True when the task was chosen (--task), not inferred. */
  taskGiven: boolean;
  /** The date written in the header (default: today). */
  now: Date | undefined;
  data: LoadResult;
  rowsWithoutTarget: number;
  target: string;
  resolved: { classes?: readonly string[]; column: { type: ColumnType } };
  task: Task;
  features: readonly InitColumn[];
  dropped: readonly DroppedColumn[];
  example: { name: string; expression: string } | undefined;
  model: ReturnType<typeof defaultForestParams>;
  seed: number;
  holdout: number;
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

/** The starter config's YAML text (see {@link StarterFacts}). */
export function starterYaml(facts: StarterFacts): string {
  const { name, spec, source, configPath, taskGiven, now, data, rowsWithoutTarget, target, resolved, task, features, dropped, example, model, seed, holdout } = facts;
  const profiles = new Map(data.profile.columns.map((c) => [c.name, c]));
  const date = (now ?? new Date()).toISOString().slice(0, 10);
  const what = spec.kind === 'sql' ? `${specLabel(spec)} (${spec.table !== undefined ? `table ${spec.table}` : 'a query'})` : specLabel(spec);
  const out: string[] = [];
  out.push(
    ...renderGroup([
      { comment: `mlpipe pipeline config, written by \`mlpipe init\` (mlpipe ${mlpipeVersion()}) on ${date}.` },
      { comment: `Data: ${what}: ${data.rows} rows × ${data.schema.length} columns when this file was written${rowsWithoutTarget > 0 ? ` (${plural(rowsWithoutTarget, 'row')} without a ${target} value: left out)` : ''}.` },
      { comment: 'Every choice `mlpipe run` would make by itself is written out below, so it is easy to change;' },
      { comment: 'the comments say what each column holds and why it got its featurizer.' },
      { comment: `Run it:    ${runCommand(spec, configPath)}` },
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
      comment: taskGiven ? 'chosen with --task (classification | regression)' : `inferred from the target (${task === 'classification' ? (resolved.column.type === 'integer' ? 'few distinct integers' : `a ${resolved.column.type}`) : 'a number'}); classification | regression`,
    },
    { code: pairText('seed', seed), comment: 'fixes every random choice (holdout split, bootstrap samples, features tried)' },
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
        { code: pairText('holdout', holdout), comment: `share of rows held out to score the model${task === 'classification' ? ' (stratified)' : ''}; 0 = none` },
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
  return `${out.join('\n')}\n`;
}
