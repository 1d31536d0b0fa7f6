/**
 * `bundles diff`: what differs between two bundles, section by section: model parameters, holdout
 * metrics (model and baseline), featurizers, input schema, lineage and files. Both bundles are
 * verified first; everything is read from their manifests and featurizer.json.
 */
import type { FittedPipeline, FittedStep, InputColumn } from '../features/types.js';
import { describeSource } from '../lineage.js';
import { dateOrderPattern } from '../values.js';
import type { Manifest } from './manifest.js';
import { readVerifiedFile } from './verify.js';

/** One value in each bundle. */
export interface Change<T = unknown> {
  name: string;
  a: T;
  b: T;
}

/** A metric in each bundle, and b − a. */
export interface MetricChange {
  /** `model` (the holdout model) or `baseline`. */
  of: 'model' | 'baseline';
  metric: string;
  a: number | null;
  b: number | null;
  /** b − a (null when either is missing). */
  difference: number | null;
}

/** A featurizer step: its column and how `bundles show` describes it. */
export interface StepSummary {
  column: string;
  kind: string;
  description: string;
}

/** An input field as the schema takes it. */
export interface FieldSummary {
  type: string;
  required: boolean;
}

/** What {@link diffManifests} found. Lists hold differences only, except `files.same` and `lineage`. */
export interface BundleDiff {
  a: { ref: string; dir: string };
  b: { ref: string; dir: string };
  /** True when every file is byte-identical (the manifests aside). */
  identicalFiles: boolean;
  /** Task, target, classes, model type, engine and feature count, when they differ. */
  model: Change[];
  /** Forest parameters that differ (seed included). */
  params: Change[];
  /** Holdout metrics of both, with differences (empty when either has no holdout). */
  metrics: MetricChange[];
  /** Holdout rows of each (null without a holdout). */
  holdoutRows: { a: number | null; b: number | null };
  featurizers: {
    added: StepSummary[];
    removed: StepSummary[];
    /** Same column in both: what changed (`kind`, `params`, `fitted state`). */
    changed: { column: string; what: string[]; a: string; b: string }[];
    /** Derived columns (`name = expression`) only in a, only in b. */
    derived: { added: string[]; removed: string[] };
    /** Columns dropped in one bundle and not the other. */
    dropped: { added: string[]; removed: string[] };
  };
  inputSchema: {
    added: ({ field: string } & FieldSummary)[];
    removed: ({ field: string } & FieldSummary)[];
    changed: { field: string; a: FieldSummary; b: FieldSummary }[];
  };
  /** Every lineage item with both values, and whether they are equal. */
  lineage: (Change<string | number | null> & { same: boolean })[];
  files: { same: string[]; changed: string[]; added: string[]; removed: string[] };
}

/** The verified bundle on each side: folder, manifest, and how the user named it. */
export interface DiffSide {
  ref: string;
  dir: string;
  manifest: Manifest;
}

const CLASSIFICATION_METRICS = ['accuracy', 'balancedAccuracy', 'macroF1', 'weightedF1', 'logLoss', 'rocAuc'];
const REGRESSION_METRICS = ['r2', 'rmse', 'mae', 'mape'];

function same(a: unknown, b: unknown): boolean {
  return stable(a) === stable(b);
}

/** JSON with object keys sorted: equal values, equal text. */
function stable(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  });
}

async function pipelineOf(side: DiffSide): Promise<FittedPipeline> {
  return JSON.parse((await readVerifiedFile(side.dir, side.manifest, side.manifest.featurizer.file)).toString('utf8')) as FittedPipeline;
}

function fieldOf(input: InputColumn): FieldSummary {
  const type = input.type === 'datetime' && input.dateOrder ? `datetime ${dateOrderPattern(input.dateOrder)}` : input.type;
  return { type, required: input.required === true };
}

function metricValue(metrics: unknown, key: string): number | null {
  const v = (metrics as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'number' ? v : null;
}

function stepChanges(a: FittedStep, b: FittedStep): string[] {
  const what: string[] = [];
  if (a.kind !== b.kind) what.push('kind');
  if (a.type !== b.type) what.push('column type');
  if (!same(a.params, b.params)) what.push('params');
  if (!same(a.state, b.state)) what.push('fitted state');
  if (!same(a.custom, b.custom)) what.push('custom module');
  return what;
}

/** The differences between two verified bundles (see {@link BundleDiff}). */
export async function diffManifests(sideA: DiffSide, sideB: DiffSide): Promise<BundleDiff> {
  const a = sideA.manifest;
  const b = sideB.manifest;
  const model: Change[] = [];
  const pushIf = (name: string, x: unknown, y: unknown) => {
    if (!same(x, y)) model.push({ name, a: x ?? null, b: y ?? null });
  };
  pushIf('task', a.task, b.task);
  pushIf('target', `${a.target.name} (${a.target.type})`, `${b.target.name} (${b.target.type})`);
  pushIf('classes', a.classes ?? null, b.classes ?? null);
  pushIf('model type', a.model.type, b.model.type);
  pushIf('engine', a.model.engine, b.model.engine);
  pushIf('features', a.model.featureCount, b.model.featureCount);

  const paramNames = [...new Set([...Object.keys(a.model.params), ...Object.keys(b.model.params)])];
  const pa = a.model.params as unknown as Record<string, unknown>;
  const pb = b.model.params as unknown as Record<string, unknown>;
  const params = paramNames.filter((k) => !same(pa[k], pb[k])).map((k) => ({ name: k, a: pa[k] ?? null, b: pb[k] ?? null }));

  const metrics: MetricChange[] = [];
  const ha = a.metrics.holdout;
  const hb = b.metrics.holdout;
  if (ha && hb) {
    const keys = a.task === 'classification' && b.task === 'classification' ? CLASSIFICATION_METRICS : a.task === 'regression' && b.task === 'regression' ? REGRESSION_METRICS : [];
    for (const of of ['model', 'baseline'] as const) {
      for (const metric of keys) {
        const x = metricValue(ha[of], metric);
        const y = metricValue(hb[of], metric);
        if (x === null && y === null) continue;
        metrics.push({ of, metric, a: x, b: y, difference: x === null || y === null ? null : y - x });
      }
    }
  }

  const [fa, fb] = await Promise.all([pipelineOf(sideA), pipelineOf(sideB)]);
  const describeA = new Map(fa.steps.map((s, i) => [s.column, a.featurizer.steps[i] ?? `${s.column} → ${s.kind}`]));
  const describeB = new Map(fb.steps.map((s, i) => [s.column, b.featurizer.steps[i] ?? `${s.column} → ${s.kind}`]));
  const stepsA = new Map(fa.steps.map((s) => [s.column, s]));
  const stepsB = new Map(fb.steps.map((s) => [s.column, s]));
  const summary = (s: FittedStep, d: Map<string, string>): StepSummary => ({ column: s.column, kind: s.kind, description: d.get(s.column)! });
  const derivedA = (fa.derive ?? []).map((d) => `${d.name} = ${d.expression}`);
  const derivedB = (fb.derive ?? []).map((d) => `${d.name} = ${d.expression}`);
  const droppedA = fa.dropped.map((d) => d.column);
  const droppedB = fb.dropped.map((d) => d.column);
  const featurizers: BundleDiff['featurizers'] = {
    added: fb.steps.filter((s) => !stepsA.has(s.column)).map((s) => summary(s, describeB)),
    removed: fa.steps.filter((s) => !stepsB.has(s.column)).map((s) => summary(s, describeA)),
    changed: fa.steps
      .filter((s) => stepsB.has(s.column))
      .map((s) => ({ column: s.column, what: stepChanges(s, stepsB.get(s.column)!), a: describeA.get(s.column)!, b: describeB.get(s.column)! }))
      .filter((c) => c.what.length > 0),
    derived: { added: derivedB.filter((d) => !derivedA.includes(d)), removed: derivedA.filter((d) => !derivedB.includes(d)) },
    dropped: { added: droppedB.filter((d) => !droppedA.includes(d)), removed: droppedA.filter((d) => !droppedB.includes(d)) },
  };

  const inputsA = new Map(fa.inputs.map((i) => [i.name, fieldOf(i)]));
  const inputsB = new Map(fb.inputs.map((i) => [i.name, fieldOf(i)]));
  const inputSchema: BundleDiff['inputSchema'] = {
    added: [...inputsB].filter(([f]) => !inputsA.has(f)).map(([field, s]) => ({ field, ...s })),
    removed: [...inputsA].filter(([f]) => !inputsB.has(f)).map(([field, s]) => ({ field, ...s })),
    changed: [...inputsA].filter(([f, s]) => inputsB.has(f) && !same(s, inputsB.get(f))).map(([field, s]) => ({ field, a: s, b: inputsB.get(field)! })),
  };

  const la = a.lineage;
  const lb = b.lineage;
  const lineageItems: [string, string | number | null, string | number | null][] = [
    ['data source', la.dataset ? describeSource(la.dataset.source) : null, lb.dataset ? describeSource(lb.dataset.source) : null],
    ['dataset fingerprint', la.dataset?.fingerprint ?? null, lb.dataset?.fingerprint ?? null],
    ['rows', la.dataset?.rows ?? null, lb.dataset?.rows ?? null],
    ['config sha256', la.configSha256 ?? null, lb.configSha256 ?? null],
    ['git commit', la.gitCommit ?? null, lb.gitCommit ?? null],
    ['mlpipe version', la.mlpipeVersion, lb.mlpipeVersion],
    ['node', la.node, lb.node],
  ];
  for (const dep of [...new Set([...Object.keys(la.dependencies ?? {}), ...Object.keys(lb.dependencies ?? {})])].sort()) {
    lineageItems.push([`dependency ${dep}`, la.dependencies?.[dep] ?? null, lb.dependencies?.[dep] ?? null]);
  }
  const lineage = lineageItems.map(([name, x, y]) => ({ name, a: x, b: y, same: x === y }));

  const files: BundleDiff['files'] = { same: [], changed: [], added: [], removed: [] };
  for (const [file, f] of Object.entries(a.files)) {
    const other = Object.hasOwn(b.files, file) ? b.files[file] : undefined;
    if (!other) files.removed.push(file);
    else (other.sha256 === f.sha256 ? files.same : files.changed).push(file);
  }
  for (const file of Object.keys(b.files)) if (!Object.hasOwn(a.files, file)) files.added.push(file);

  return {
    a: { ref: sideA.ref, dir: sideA.dir },
    b: { ref: sideB.ref, dir: sideB.dir },
    identicalFiles: files.changed.length === 0 && files.added.length === 0 && files.removed.length === 0,
    model,
    params,
    metrics,
    holdoutRows: { a: ha?.testRows ?? null, b: hb?.testRows ?? null },
    featurizers,
    inputSchema,
    lineage,
    files,
  };
}
