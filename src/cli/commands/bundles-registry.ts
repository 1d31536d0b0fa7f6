import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { MlpipeError } from '../../core/errors.js';
import type { AliasMove, GcResult } from '../../core/bundle/release.js';
import type { BundleDiff } from '../../core/bundle/diff.js';
import type { CompareResult } from '../../core/pipeline/compare.js';
import type { CliContext } from '../context.js';
import { ARTIFACTS_OPTION, type FeaturizerModuleFlag, featurizerModule } from '../parse.js';
import { fmt, table } from '../render.js';
import { type SourceFlags, loadingOptions, sourceOptions } from '../source-options.js';

const FEATURIZER_MODULE_OPTION = ['--featurizer-module <name=path>', "a custom featurizer's module (repeatable), for bundles that use it", featurizerModule] as const;

/** `--max-drop`: a number ≥ 0. */
function nonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`);
  return n;
}

/** Options of `compare` and `promote --if-better`: the evaluation source and the gate. */
interface GateFlags extends SourceFlags {
  on?: string;
  metric?: string;
  maxDrop?: number;
  artifacts?: string;
  featurizerModule?: FeaturizerModuleFlag[];
  json?: boolean;
}

function gateOptions(command: Command): Command {
  return sourceOptions(
    command
      .option('--metric <name>', 'the metric to gate on: accuracy, balanced-accuracy, macro-f1, weighted-f1, log-loss, roc-auc (classification; default accuracy); r2, rmse, mae, mape (regression; default r2)')
      .option('--max-drop <d>', 'how much worse than the baseline the candidate may be on the metric (default 0; lower is better for log-loss, rmse, mae, mape)', nonNegative),
  )
    .option(...ARTIFACTS_OPTION)
    .option(...FEATURIZER_MODULE_OPTION);
}

/** `+0.0145`, `-0.2`, `0`: a difference for people. */
function signed(x: number | null): string {
  if (x === null) return '';
  return x > 0 ? `+${fmt(x)}` : fmt(x);
}

/** Scores both bundles on the source; prints nothing. */
async function runCompare(ctx: CliContext, candidate: string, baseline: string, opts: GateFlags): Promise<CompareResult> {
  const { parseSourceArgument, specLabel } = await import('../../core/data/sources/index.js');
  const { compareBundles } = await import('../../core/pipeline/compare.js');
  const spec = parseSourceArgument(opts.on, opts, ctx.io.env);
  return compareBundles({
    candidate,
    baseline,
    artifacts: ctx.artifacts(opts.artifacts),
    load: { source: spec, ...loadingOptions(opts, ctx) },
    sourceLabel: specLabel(spec),
    ...(opts.metric !== undefined ? { metric: opts.metric } : {}),
    ...(opts.maxDrop !== undefined ? { maxDrop: opts.maxDrop } : {}),
    featurizers: opts.featurizerModule ?? [],
  });
}

/** The comparison for people: rows scored, both bundles' metrics and the differences, the gate's verdict. */
function printCompare(ctx: CliContext, r: CompareResult): void {
  const left = [r.missingTarget ? `${r.missingTarget} with a missing target` : '', r.unreadable ? `${r.unreadable} a bundle cannot read` : '', r.loaderSkipped ? `${r.loaderSkipped} skipped by the loader` : '']
    .filter(Boolean)
    .join(', ');
  ctx.out(`scored ${r.rows} of ${r.rowsRead} rows of ${r.source} (${r.task}, target ${r.target})${left ? `; left out: ${left}` : ''}`);
  if (r.firstUnreadable) ctx.out(`first row left out: row ${r.firstUnreadable.row} (${r.firstUnreadable.bundle}): ${r.firstUnreadable.error}`);
  ctx.out(
    table(
      ['metric', `candidate ${shownRef(r.candidate)}`, `baseline ${shownRef(r.baseline)}`, 'difference', 'better'],
      r.metrics.map((m) => [`${m.metric}${m.metric === r.gate.metric ? ' *' : ''}`, fmt(m.candidate), fmt(m.baseline), signed(m.difference), m.better]),
    ),
  );
  ctx.out(gateLine(r));
}

/** `penguins@1.0.1`, or `penguins@production (1.0.0)` for an alias. */
function shownRef(side: CompareResult['candidate']): string {
  const at = side.given.indexOf('@');
  if (side.given === side.ref || at < 0 || side.given.includes('/')) return side.ref;
  return `${side.given} (${side.ref.slice(side.ref.lastIndexOf('@') + 1)})`;
}

function gateLine(r: CompareResult): string {
  const g = r.gate;
  const how = g.drop > 0 ? `worse by ${fmt(g.drop)}` : g.drop < 0 ? `better by ${fmt(-g.drop)}` : 'equal';
  return `gate ${g.metric} (${g.better} is better): candidate ${fmt(g.candidate)}, baseline ${fmt(g.baseline)}: ${how}; allowed drop ${fmt(g.maxDrop)} → ${g.passed ? 'pass' : 'FAIL'}`;
}

/** The error of a failed gate: exit 1, one line. */
function gateFailure(r: CompareResult, suffix = ''): MlpipeError {
  const g = r.gate;
  return new MlpipeError(
    'verification_failed',
    `${shownRef(r.candidate)} is worse than ${shownRef(r.baseline)} on ${g.metric} over ${r.rows} rows of ${r.source}: ${fmt(g.candidate)} vs ${fmt(g.baseline)} (drop ${fmt(g.drop)} > allowed ${fmt(g.maxDrop)})${suffix}`,
  );
}

function moveLine(m: AliasMove, rolledBack = false): string {
  if (!m.changed) return `${m.name}@${m.alias} → ${m.to} (already)`;
  if (rolledBack) return `${m.name}@${m.alias} → ${m.to} (rolled back from ${m.from})`;
  return `${m.name}@${m.alias} → ${m.to}${m.from !== null ? ` (was ${m.from})` : ''}`;
}

/**
 * `bundles promote|rollback|history|diff|compare`: the registry and the CI quality gate. `bundles gc
 * <name> --keep N` is the `gc` command of bundles.ts calling {@link gcVersionsCommand}.
 */
export function registerRegistry(bundles: Command, ctx: CliContext): void {
  gateOptions(
    bundles
      .command('promote')
      .description('point an alias (production, staging, …) at a bundle version, recorded in the alias history; with --if-better only when it scores no worse than a baseline')
      .argument('<bundle-ref>', 'name@version (or name for the newest, name@alias)')
      .argument('[alias]', 'alias name, e.g. production (or --alias)')
      .option('-a, --alias <alias>', 'alias name (the same as the second argument)')
      .option('--if-better <baseline-ref>', 'promote only when the bundle scores no worse than this one on --on (exit 1 otherwise, alias unchanged); an alias that does not exist yet (first release) promotes without a gate')
      .option('--on <source>', 'with --if-better: the evaluation rows, any source load reads (a CSV, a .arrow dataset, a database URL, …)')
      .option('--json', 'print one JSON document'),
  ).action(async (ref: string, positional: string | undefined, opts: GateFlags & { alias?: string; ifBetter?: string }) => {
    if (positional !== undefined && opts.alias !== undefined && positional !== opts.alias) {
      throw new MlpipeError('usage', `give the alias once: "${positional}" as an argument and "${opts.alias}" with --alias`);
    }
    const alias = positional ?? opts.alias;
    if (alias === undefined) throw new MlpipeError('usage', 'bundles promote: give the alias, e.g. mlpipe bundles promote penguins@1.0.1 production');
    if (opts.ifBetter === undefined && opts.on !== undefined) throw new MlpipeError('usage', '--on is the evaluation source of --if-better: give --if-better <baseline-ref> too');
    if (opts.ifBetter !== undefined && opts.on === undefined && opts.fromCommand === undefined) throw new MlpipeError('usage', '--if-better needs the evaluation rows: --on <source>');
    const { checkAlias } = await import('../../core/bundle/store.js');
    const { isMissingAlias, promoteBundle } = await import('../../core/bundle/release.js');
    checkAlias(alias);
    const artifacts = ctx.artifacts(opts.artifacts);
    let compared: CompareResult | null = null;
    let firstRelease = false;
    if (opts.ifBetter !== undefined) {
      firstRelease = await isMissingAlias(artifacts, opts.ifBetter);
      if (firstRelease) {
        if (!opts.json) ctx.out(`no baseline: ${opts.ifBetter} does not exist yet (a first release); promoting without a gate`);
      } else {
        compared = await runCompare(ctx, ref, opts.ifBetter, opts);
        if (!opts.json) printCompare(ctx, compared);
        if (!compared.gate.passed) {
          if (opts.json) ctx.json({ promoted: false, alias, compare: compared, firstRelease });
          throw gateFailure(compared, `; not promoted, ${alias} unchanged`);
        }
      }
    }
    const move = await promoteBundle(artifacts, ref, alias);
    if (opts.json) {
      ctx.json({ promoted: true, ...move, ...(opts.ifBetter !== undefined ? { compare: compared, firstRelease } : {}) });
      return;
    }
    ctx.out(moveLine(move));
  });

  bundles
    .command('rollback')
    .description("point an alias back to its previous target (from the alias history; a second rollback goes one step further back)")
    .argument('<name>', 'bundle name')
    .argument('<alias>', 'alias name, e.g. production')
    .option(...ARTIFACTS_OPTION)
    .option('--json', 'print one JSON document')
    .action(async (name: string, alias: string, opts: { artifacts?: string; json?: boolean }) => {
      const { rollbackAlias } = await import('../../core/bundle/release.js');
      const move = await rollbackAlias(ctx.artifacts(opts.artifacts), name, alias);
      if (opts.json) ctx.json(move);
      else ctx.out(moveLine(move, true));
    });

  bundles
    .command('history')
    .description('the alias history of a bundle name: when, who, alias, from, to, action (oldest first)')
    .argument('<name>', 'bundle name')
    .option('--alias <alias>', 'only this alias')
    .option(...ARTIFACTS_OPTION)
    .option('--json', 'print one JSON document')
    .action(async (name: string, opts: { alias?: string; artifacts?: string; json?: boolean }) => {
      const { aliasHistory } = await import('../../core/bundle/release.js');
      const events = await aliasHistory(ctx.artifacts(opts.artifacts), name, opts.alias);
      if (opts.json) {
        ctx.json({ name, ...(opts.alias !== undefined ? { alias: opts.alias } : {}), events });
        return;
      }
      if (events.length === 0) {
        ctx.out(`no alias changes recorded for ${name}${opts.alias !== undefined ? `@${opts.alias}` : ''}`);
        return;
      }
      ctx.out(table(['when', 'who', 'alias', 'from', 'to', 'action'], events.map((e) => [e.at.slice(0, 19).replace('T', ' '), e.by, e.alias, e.from ?? '—', e.to ?? '—', e.action])));
    });

  bundles
    .command('diff')
    .description('what differs between two bundles: parameters, metrics, featurizers, input schema, lineage, files')
    .argument('<a>', 'bundle folder, name, name@1.2.0 or name@alias')
    .argument('<b>', 'bundle folder, name, name@1.2.0 or name@alias')
    .option(...ARTIFACTS_OPTION)
    .option('--json', 'print one JSON document')
    .action(async (refA: string, refB: string, opts: { artifacts?: string; json?: boolean }) => {
      const { resolveRef } = await import('../../core/bundle/store.js');
      const { verifyBundle } = await import('../../core/bundle/verify.js');
      const { diffManifests } = await import('../../core/bundle/diff.js');
      const artifacts = ctx.artifacts(opts.artifacts);
      const side = async (ref: string) => {
        const { dir } = await resolveRef(ref, artifacts);
        const manifest = await verifyBundle(dir);
        return { ref: `${manifest.name}@${manifest.version}`, dir, manifest };
      };
      const d = await diffManifests(await side(refA), await side(refB));
      if (opts.json) ctx.json(d);
      else printDiff(ctx, d);
    });

  gateOptions(
    bundles
      .command('compare')
      .description('score a candidate and a baseline bundle on the same rows; exit 1 when the candidate is worse by more than --max-drop (the CI quality gate)')
      .argument('<candidate>', 'bundle folder, name, name@1.2.0 or name@alias')
      .argument('<baseline-ref>', 'bundle folder, name, name@1.2.0 or name@alias (e.g. name@production)')
      .option('--on <source>', 'the evaluation rows, with their true target values: any source load reads (a CSV, a .arrow dataset, a database URL, an http(s) URL, -)')
      .option('--first-release-ok', 'pass (exit 0) when the baseline is an alias that does not exist yet: a first release has nothing to be compared with')
      .option('--json', 'print one JSON document'),
  ).action(async (candidate: string, baseline: string, opts: GateFlags & { firstReleaseOk?: boolean }) => {
    if (opts.on === undefined && opts.fromCommand === undefined) throw new MlpipeError('usage', 'bundles compare: give the evaluation rows with --on <source>');
    if (opts.firstReleaseOk) {
      const { isMissingAlias } = await import('../../core/bundle/release.js');
      if (await isMissingAlias(ctx.artifacts(opts.artifacts), baseline)) {
        if (opts.json) ctx.json({ firstRelease: true, baseline, passed: true });
        else ctx.out(`no baseline: ${baseline} does not exist yet in ${ctx.artifacts(opts.artifacts)} (a first release); the gate passes without a comparison`);
        return;
      }
    }
    const r = await runCompare(ctx, candidate, baseline, opts);
    if (opts.json) ctx.json(r);
    else printCompare(ctx, r);
    if (!r.gate.passed) throw gateFailure(r);
  });
}

function printDiff(ctx: CliContext, d: BundleDiff): void {
  ctx.out(`a: ${d.a.ref}  (${d.a.dir})`);
  ctx.out(`b: ${d.b.ref}  (${d.b.dir})`);
  const arrow = (a: unknown, b: unknown) => `${a === null || a === undefined ? '—' : typeof a === 'object' ? JSON.stringify(a) : String(a)} → ${b === null || b === undefined ? '—' : typeof b === 'object' ? JSON.stringify(b) : String(b)}`;
  if (d.model.length > 0) {
    ctx.out('model:');
    for (const c of d.model) ctx.out(`  ${c.name}: ${arrow(c.a, c.b)}`);
  }
  ctx.out(d.params.length === 0 ? 'parameters: same' : 'parameters:');
  for (const c of d.params) ctx.out(`  ${c.name}: ${arrow(c.a, c.b)}`);
  if (d.metrics.length === 0) ctx.out('metrics: no holdout in one of the bundles');
  else {
    ctx.out(`holdout metrics (${d.holdoutRows.a} and ${d.holdoutRows.b} rows; each bundle on its own holdout):`);
    ctx.out(table(['', 'metric', 'a', 'b', 'b − a'], d.metrics.map((m) => [m.of, m.metric, fmt(m.a), fmt(m.b), signed(m.difference)])));
  }
  const f = d.featurizers;
  const featurizerChanges = f.added.length + f.removed.length + f.changed.length + f.derived.added.length + f.derived.removed.length + f.dropped.added.length + f.dropped.removed.length;
  ctx.out(featurizerChanges === 0 ? 'featurizers: same' : `featurizers: ${f.added.length} added, ${f.removed.length} removed, ${f.changed.length} changed`);
  for (const s of f.added) ctx.out(`  + ${s.description}`);
  for (const s of f.removed) ctx.out(`  - ${s.description}`);
  for (const c of f.changed) {
    ctx.out(`  ~ ${c.column}: ${c.what.join(', ')}`);
    if (c.a !== c.b) {
      ctx.out(`      a: ${c.a}`);
      ctx.out(`      b: ${c.b}`);
    }
  }
  for (const x of f.derived.added) ctx.out(`  + derived ${x}`);
  for (const x of f.derived.removed) ctx.out(`  - derived ${x}`);
  for (const x of f.dropped.added) ctx.out(`  dropped in b only: ${x}`);
  for (const x of f.dropped.removed) ctx.out(`  dropped in a only: ${x}`);
  const s = d.inputSchema;
  const field = (x: { type: string; required: boolean }) => `${x.type}${x.required ? ', required' : ''}`;
  ctx.out(s.added.length + s.removed.length + s.changed.length === 0 ? 'input schema: same' : 'input schema:');
  for (const x of s.added) ctx.out(`  + ${x.field} (${field(x)})`);
  for (const x of s.removed) ctx.out(`  - ${x.field} (${field(x)})`);
  for (const x of s.changed) ctx.out(`  ~ ${x.field}: ${field(x.a)} → ${field(x.b)}`);
  ctx.out('lineage:');
  for (const l of d.lineage) {
    if (l.name.startsWith('dependency ') && l.same) continue;
    ctx.out(`  ${l.name}: ${l.same ? `same (${l.a ?? '—'})` : arrow(l.a, l.b)}`);
  }
  const fl = d.files;
  ctx.out(`files: ${fl.same.length} same, ${fl.changed.length} changed, ${fl.added.length} added, ${fl.removed.length} removed`);
  if (fl.changed.length) ctx.out(`  changed: ${fl.changed.join(', ')}`);
  if (fl.added.length) ctx.out(`  added: ${fl.added.join(', ')}`);
  if (fl.removed.length) ctx.out(`  removed: ${fl.removed.join(', ')}`);
}

/** `bundles gc <name> --keep N`: the name's leftovers, then its old versions (aliased ones always kept). */
export async function gcVersionsCommand(ctx: CliContext, name: string, opts: { keep?: number; artifacts?: string; dryRun?: boolean; json?: boolean }): Promise<void> {
  if (opts.keep === undefined) throw new MlpipeError('usage', `bundles gc ${name}: give --keep N, how many of the newest versions to keep (versions an alias points at are always kept)`);
  const { gcVersions } = await import('../../core/bundle/release.js');
  const artifacts = ctx.artifacts(opts.artifacts);
  const r: GcResult = await gcVersions(artifacts, name, opts.keep, { dryRun: opts.dryRun === true });
  if (opts.json) {
    ctx.json({ artifacts, ...r });
    return;
  }
  for (const f of r.leftovers) ctx.out(`${f.action === 'kept' ? 'kept' : opts.dryRun ? 'would remove' : 'removed'} ${f.kind} ${f.path}: ${f.reason}`);
  for (const v of r.versions) ctx.out(`${v.action === 'kept' ? 'kept' : r.dryRun ? 'would remove' : 'removed'} ${name}@${v.version}: ${v.reason}`);
  const removed = r.versions.filter((v) => v.action === 'removed').length;
  const forAlias = r.versions.filter((v) => v.action === 'kept' && v.reason.startsWith('alias')).length;
  ctx.out(`${removed} version(s) ${r.dryRun ? 'to remove' : 'removed'}, ${r.versions.length - removed} kept (${forAlias} for an alias)`);
}
