/**
 * Child process of bench/train.ts (one per contender, so its peak RSS is that contender's alone).
 * Reads a data set written by bench/train.ts (raw little-endian float64 files and header.json), and
 * prints ONE JSON line on stdout; on failure `{"ok":false,"error":…}` and exit code 1.
 *
 *   node --import tsx bench/train-child.ts train     '{"dir":…,"engine":"hist","jobs":null,"trees":100,"seed":42,"source":"dist","serving":null}'
 *   node --import tsx bench/train-child.ts load-bin  '{"model":…/model.bin,"xtest":…,"width":20,"expected":…,"source":"dist"}'
 *   node --import tsx bench/train-child.ts load-json '{"model":…/model.json,"xtest":…,"width":20,"expected":…}'
 *
 * mlpipe is loaded from dist/ (what `make bench` builds, and what a user runs) or, with
 * `"source":"src"`, from the TypeScript sources through tsx.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';

type RandomForestModule = typeof import('../src/core/models/random-forest.js');
type ParamsModule = typeof import('../src/core/models/params.js');
type CompiledModule = typeof import('../src/core/models/compiled-forest.js');
type MetricsModule = typeof import('../src/core/models/metrics.js');
type PoolModule = typeof import('../src/core/models/predict-pool.js');
type Source = 'dist' | 'src';

/** What bench/train.ts writes beside the binary files. */
interface Header {
  name: string;
  task: 'classification' | 'regression';
  width: number;
  trainRows: number;
  testRows: number;
  featureNames: string[];
  classes?: string[];
}

interface TrainSpec {
  dir: string;
  engine: 'hist' | 'mljs';
  /** null: every core (mlpipe's default). */
  jobs: number | null;
  trees: number;
  seed: number;
  source: Source;
  /** Folder for the serving measurements (batch / one-row prediction, model files), or null. */
  serving: string | null;
}

interface LoadSpec {
  model: string;
  xtest: string;
  width: number;
  /** Predictions the trainer made on xtest, to check the loaded model against. */
  expected: string;
  source?: Source;
}

async function mlpipe<T>(source: Source, module: string): Promise<T> {
  const url = new URL(source === 'dist' ? `../dist/core/models/${module}.js` : `../src/core/models/${module}.ts`, import.meta.url);
  return (await import(url.href)) as T;
}

const mb = (bytes: number) => bytes / 2 ** 20;
/** Peak resident set of this process (worker threads included), MB. */
const peakRssMB = () => process.resourceUsage().maxRSS / 1024;

/** A file of little-endian float64 values (the machine is little-endian: bench/train.ts checks). */
function readF64(path: string): Float64Array {
  const buf = readFileSync(path);
  // Small files come from Node's buffer pool at any offset; a Float64Array view needs 8-byte alignment.
  if (buf.byteOffset % 8 === 0) return new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function writeF64(path: string, a: Float64Array): void {
  writeFileSync(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

function toRows(matrix: Float64Array, rows: number, width: number): number[][] {
  return Array.from({ length: rows }, (_, i) => Array.from(matrix.subarray(i * width, (i + 1) * width)));
}

/** Seconds of the fastest of `repeats` calls after one warm-up call: noise only ever slows a run down. */
function bestOf(fn: () => unknown, repeats: number): number {
  fn();
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return best;
}

function agreement(pred: ArrayLike<number>, expected: Float64Array): number {
  let n = 0;
  for (let i = 0; i < expected.length; i++) if (pred[i] === expected[i]) n++;
  return n;
}

async function train(spec: TrainSpec): Promise<Record<string, unknown>> {
  const rf = await mlpipe<RandomForestModule>(spec.source, 'random-forest');
  const { defaultForestParams } = await mlpipe<ParamsModule>(spec.source, 'params');
  const metrics = await mlpipe<MetricsModule>(spec.source, 'metrics');
  const compiledModule = await mlpipe<CompiledModule>(spec.source, 'compiled-forest');
  const baselineRssMB = mb(process.memoryUsage.rss());
  const h = JSON.parse(readFileSync(join(spec.dir, 'header.json'), 'utf8')) as Header;
  const X = readF64(join(spec.dir, 'X_train.f64'));
  const y = readF64(join(spec.dir, 'y_train.f64'));
  const Xt = readF64(join(spec.dir, 'X_test.f64'));
  const yt = readF64(join(spec.dir, 'y_test.f64'));
  const data = { matrix: X, rows: h.trainRows, featureNames: h.featureNames, y, task: h.task, ...(h.classes ? { classes: h.classes } : {}) };
  const score = (pred: ArrayLike<number>) =>
    h.task === 'classification' ? metrics.classificationMetrics(yt, pred, h.classes ?? []).accuracy : metrics.regressionMetrics(yt, pred).r2;
  const out: Record<string, unknown> = { ok: true, metric: h.task === 'classification' ? 'accuracy' : 'r2', baselineRssMB };

  if (spec.engine === 'mljs') {
    const params = { ...defaultForestParams(h.task, 'mljs'), trees: spec.trees, seed: spec.seed };
    let t = performance.now();
    // trainMljs = ml-random-forest's train plus its toJSON (what engine mljs runs).
    const saved = rf.trainMljs(data, params);
    out.trainS = (performance.now() - t) / 1000;
    const model = h.task === 'classification' ? RandomForestClassifier.load(saved.mljs as never) : RandomForestRegression.load(saved.mljs as never);
    const rows = toRows(Xt, h.testRows, h.width);
    t = performance.now();
    const pred = model.predict(rows);
    out.predictS = (performance.now() - t) / 1000;
    out.score = score(pred);
    out.nodes = compiledModule.CompiledForest.fromSaved(saved).arrays.feature.length;
    out.peakRssMB = peakRssMB();
    return out;
  }

  const params = { ...defaultForestParams(h.task, 'hist'), trees: spec.trees, seed: spec.seed };
  let t = performance.now();
  const trained = await rf.trainForest(data, params, { engine: 'hist', ...(spec.jobs === null ? {} : { jobs: spec.jobs }) });
  out.trainS = (performance.now() - t) / 1000;
  t = performance.now();
  const pred = trained.compiled.predictMatrix(Xt, h.testRows);
  out.predictS = (performance.now() - t) / 1000;
  out.score = score(pred);
  out.nodes = trained.compiled.arrays.feature.length;
  if (spec.serving !== null) out.serving = await serving(trained, X, Xt, h, pred, spec.serving, spec.source);
  out.peakRssMB = peakRssMB();
  return out;
}

/**
 * Serving measurements on the trained forest: batch prediction of every row of the data set,
 * one-row latency, and the model files the load test reads.
 */
async function serving(
  trained: Awaited<ReturnType<RandomForestModule['trainForest']>>,
  X: Float64Array,
  Xt: Float64Array,
  h: Header,
  pred: Float64Array,
  outDir: string,
  source: Source,
): Promise<Record<string, unknown>> {
  const forest = trained.compiled;
  const width = h.width;
  const rows = h.trainRows + h.testRows;
  const all = new Float64Array(rows * width);
  all.set(X);
  all.set(Xt, X.length);
  const batchS = bestOf(() => forest.predictMatrix(all, rows), 5);
  // The same batch split over every core (as `mlpipe predict` does for big inputs), workers started
  // beforehand; checked equal to the single-thread result.
  const { PredictPool } = await mlpipe<PoolModule>(source, 'predict-pool');
  const threads = availableParallelism();
  const pool = await PredictPool.start(forest, threads);
  const single = forest.predictMatrix(all, rows);
  let pooled = await pool.predictMatrix(all, rows);
  let poolS = Infinity;
  for (let r = 0; r < 5; r++) {
    const a = performance.now();
    pooled = await pool.predictMatrix(all, rows);
    poolS = Math.min(poolS, (performance.now() - a) / 1000);
  }
  await pool.close();
  const poolEqual = single.every((v, i) => v === pooled[i]);

  // One row = one Float64Array, as a server holds it after featurizing.
  const one = Array.from({ length: rows }, (_, i) => all.slice(i * width, (i + 1) * width));
  let sink = 0;
  for (let i = 0; i < 50_000; i++) sink += forest.predictRow(one[i % rows]!);
  const calls = 500_000;
  let t = performance.now();
  for (let i = 0; i < calls; i++) sink += forest.predictRow(one[i % rows]!);
  const meanUs = ((performance.now() - t) * 1000) / calls;
  // Each call timed alone, for the spread (includes ~0.05 µs of hrtime itself).
  const timed = new Float64Array(20_000);
  for (let i = 0; i < timed.length; i++) {
    const a = process.hrtime.bigint();
    sink += forest.predictRow(one[i % rows]!);
    timed[i] = Number(process.hrtime.bigint() - a) / 1000;
  }
  timed.sort();
  const q = (p: number) => timed[Math.min(timed.length - 1, Math.floor(p * timed.length))]!;

  const bin = join(outDir, 'model.bin');
  const json = join(outDir, 'model.json');
  writeFileSync(bin, forest.toBinary());
  t = performance.now();
  await trained.writeModelJson(json);
  const writeJsonS = (performance.now() - t) / 1000;
  writeF64(join(outDir, 'pred_mlpipe.f64'), pred);
  return {
    batch: { rows, seconds: batchS, rowsPerS: rows / batchS },
    batchPool: { rows, threads, seconds: poolS, rowsPerS: rows / poolS, equal: poolEqual },
    single: { calls, meanUs, p50Us: q(0.5), p99Us: q(0.99), checksum: sink },
    files: { bin, binBytes: statSync(bin).size, json, jsonBytes: statSync(json).size, writeJsonS },
  };
}

/** Load time of a model file: the first load in this fresh process (cold), then the best of 5. */
async function load(mode: 'load-bin' | 'load-json', spec: LoadSpec): Promise<Record<string, unknown>> {
  let once: () => { predict(x: Float64Array, rows: number): ArrayLike<number> };
  if (mode === 'load-bin') {
    const { CompiledForest } = await mlpipe<CompiledModule>(spec.source ?? 'dist', 'compiled-forest');
    once = () => {
      const forest = CompiledForest.fromBinary(readFileSync(spec.model));
      return { predict: (x, rows) => forest.predictMatrix(x, rows) };
    };
  } else {
    once = () => {
      const saved = JSON.parse(readFileSync(spec.model, 'utf8')) as { task: string; mljs: unknown };
      const model = saved.task === 'classification' ? RandomForestClassifier.load(saved.mljs as never) : RandomForestRegression.load(saved.mljs as never);
      return { predict: (x, rows) => model.predict(toRows(x, rows, spec.width)) };
    };
  }
  const t = performance.now();
  const model = once();
  const coldS = (performance.now() - t) / 1000;
  const warmS = bestOf(once, 5);
  const Xt = readF64(spec.xtest);
  const expected = readF64(spec.expected);
  const agree = agreement(model.predict(Xt, expected.length), expected);
  return { ok: true, coldS, warmS, agree, rows: expected.length, peakRssMB: peakRssMB() };
}

async function main(): Promise<void> {
  const [mode, raw] = process.argv.slice(2);
  if (!raw) throw new Error('usage: train-child.ts train|load-bin|load-json <spec JSON>');
  const spec = JSON.parse(raw) as unknown;
  let out: Record<string, unknown>;
  if (mode === 'train') out = await train(spec as TrainSpec);
  else if (mode === 'load-bin' || mode === 'load-json') out = await load(mode, spec as LoadSpec);
  else throw new Error(`unknown mode "${mode}": expected train, load-bin or load-json`);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  // Report the error as it is (an out-of-memory RangeError is a finding, not something to hide).
  const e = err instanceof Error ? err : new Error(String(err));
  process.stdout.write(`${JSON.stringify({ ok: false, error: `${e.name}: ${e.message}`, stack: e.stack?.split('\n').slice(0, 8).join('\n') })}\n`);
  process.exitCode = 1;
});
