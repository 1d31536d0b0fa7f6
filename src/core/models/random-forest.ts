import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import { ConfigError } from '../errors.js';
import { writeChunksAtomic, writeFileAtomic } from '../fs-util.js';
import { CompiledForest } from './compiled-forest.js';
import { growForest } from './engine/forest.js';
import { mljsTreeJson } from './engine/to-mljs.js';
import { type Tree, treeLeaf } from './engine/tree.js';
import type { Engine, ForestParams, MljsForest, ModelHeader, SavedForest, Task } from './forest-format.js';
import { forestParamProblems } from './params.js';

export const CLASSIFICATION_RULE =
  'label: majority vote of the trees (a tie goes to the label that first reached the top count, as ml-array-mode); probabilities: mean of the trees\' leaf class distributions';
export const REGRESSION_RULE = 'mean of the tree outputs';

/**
 * Number of features drawn (per split or per tree) for a `maxFeatures` value, rounded down as
 * scikit-learn does (`max(1, int(sqrt(n_features)))`): 3 of 14 features for `sqrt`, not 4.
 */
export function featuresPerTree(maxFeatures: ForestParams['maxFeatures'], width: number): number {
  let n: number;
  if (maxFeatures === 'all') n = width;
  else if (maxFeatures === 'sqrt') n = Math.floor(Math.sqrt(width));
  else if (maxFeatures === 'log2') n = Math.floor(Math.log2(width));
  else if (maxFeatures > 0 && maxFeatures < 1) n = Math.floor(width * maxFeatures);
  else n = Math.floor(maxFeatures);
  return Math.min(width, Math.max(1, n));
}

/**
 * Checks forest parameters against their declaration (params.ts); throws ConfigError
 * naming the first one at fault: `model.trees: must be a whole number from 1 to 10000, got 0`.
 */
export function checkForestParams(p: ForestParams, engine: Engine = 'hist', path = 'model'): void {
  const [first] = forestParamProblems(p, engine);
  if (first) throw new ConfigError(`${path}.${first.spec.name}: ${first.problem}`);
}

/** Training data for a forest: a row-major matrix and one target per row. */
export interface TrainingData {
  matrix: Float64Array;
  rows: number;
  featureNames: string[];
  /** Class indices 0..k−1 (classification) or values (regression). */
  y: ArrayLike<number>;
  task: Task;
  classes?: string[];
}

/** Options of {@link trainForest}. */
export interface ForestTrainOptions {
  engine?: Engine;
  /** Worker threads for engine hist (default: every core); results do not depend on it. */
  jobs?: number;
  /** Called after each tree (engine hist). */
  onTree?: (done: number, total: number) => void;
  /** Compute the out-of-bag score (engine hist). */
  oob?: boolean;
}

/** A trained forest: what model.json says, the compiled form, and the out-of-bag score when asked for. */
export interface TrainedForest {
  header: ModelHeader;
  compiled: CompiledForest;
  /** Accuracy (classification) or R² (regression) on each row's out-of-bag trees; null when no row was out of bag. */
  oobScore?: number | null;
  /** Writes model.json (the header plus ml-random-forest's model JSON), streamed, atomically. */
  writeModelJson(path: string): Promise<void>;
}

function header(data: TrainingData, params: ForestParams, engine: Engine, importances: number[]): ModelHeader {
  return {
    format: 'mlpipe.random-forest',
    formatVersion: 1,
    task: data.task,
    engine,
    ...(data.task === 'classification' ? { classes: data.classes ?? [] } : {}),
    featureNames: data.featureNames,
    params,
    featureImportances: importances,
    prediction: data.task === 'classification' ? CLASSIFICATION_RULE : REGRESSION_RULE,
  };
}

function checkData(data: TrainingData): void {
  if (data.featureNames.length === 0) throw new ConfigError('no features to train on: every column was dropped (see the featurize notes)');
  if (data.rows < 2) throw new ConfigError(`too few rows to train on (${data.rows})`);
}

/**
 * Trains a random forest and returns its model. Engine `hist` (default) is mlpipe's own
 * histogram engine (engine/): scikit-learn's semantics, all cores, saved as ml-random-forest JSON.
 * Engine `mljs` trains with ml-random-forest 2.1.0 itself, the reference. Deterministic for a seed.
 */
export async function trainForest(data: TrainingData, params: ForestParams, options: ForestTrainOptions = {}): Promise<TrainedForest> {
  const engine = options.engine ?? 'hist';
  checkForestParams(params, engine);
  checkData(data);
  if (engine === 'mljs') {
    if (options.oob) throw new ConfigError('evaluation.oob: engine mljs cannot score out of bag (ml-random-forest throws with few trees); use engine hist');
    const saved = trainMljs(data, params);
    const text = JSON.stringify(saved);
    return { header: headerOf(saved), compiled: CompiledForest.fromSaved(saved), writeModelJson: (path) => writeFileAtomic(path, text) };
  }
  return trainHist(data, params, options);
}

function headerOf(saved: SavedForest): ModelHeader {
  const { mljs: _mljs, ...rest } = saved;
  return rest;
}

async function trainHist(data: TrainingData, params: ForestParams, options: ForestTrainOptions): Promise<TrainedForest> {
  const width = data.featureNames.length;
  const k = data.task === 'classification' ? (data.classes ?? []).length : 0;
  const draws = params.maxSamples === null ? data.rows : params.maxSamples <= 1 ? Math.max(1, Math.round(params.maxSamples * data.rows)) : params.maxSamples;
  const y = Float64Array.from(data.y);
  const { trees } = await growForest(
    data.matrix,
    data.rows,
    width,
    y,
    {
      classes: k,
      mtry: featuresPerTree(params.maxFeatures, width),
      maxDepth: params.maxDepth ?? Infinity,
      minSamplesSplit: params.minSamplesSplit,
      minSamplesLeaf: params.minSamplesLeaf,
      draws,
      oob: options.oob ?? false,
    },
    params.trees,
    params.seed,
    { jobs: options.jobs, onTree: options.onTree },
  );
  const head = header(data, params, 'hist', impurityImportances(trees, width));
  const compiled = CompiledForest.fromTrees(trees, data.task, data.classes ?? [], width);
  const oobScore = options.oob ? outOfBagScore(trees, data, k) : undefined;
  for (const tree of trees) delete tree.oob;
  return {
    header: head,
    compiled,
    ...(oobScore !== undefined ? { oobScore } : {}),
    writeModelJson: (path) => writeChunksAtomic(path, modelJsonChunks(head, trees, k, width)),
  };
}

/**
 * scikit-learn's impurity importance: per tree, each feature's share of the weighted impurity
 * decrease; then the mean over trees, normalized to sum 1.
 */
function impurityImportances(trees: Tree[], width: number): number[] {
  const total = new Float64Array(width);
  for (const tree of trees) {
    const imp = new Float64Array(width);
    let sum = 0;
    for (let n = 0; n < tree.nodeCount; n++) {
      const f = tree.feature[n]!;
      if (f >= 0) {
        imp[f]! += tree.gain[n]!;
        sum += tree.gain[n]!;
      }
    }
    if (sum > 0) for (let f = 0; f < width; f++) total[f]! += imp[f]! / sum;
  }
  const s = total.reduce((a, b) => a + b, 0);
  return Array.from(total, (v) => (s > 0 ? v / s : 0));
}

function outOfBagScore(trees: Tree[], data: TrainingData, k: number): number | null {
  const width = data.featureNames.length;
  const rows = data.rows;
  const acc = new Float64Array(rows * Math.max(1, k));
  const seen = new Uint32Array(rows);
  for (const tree of trees) {
    for (const r of tree.oob ?? []) {
      const leaf = treeLeaf(tree, data.matrix, r * width);
      if (k > 0) for (let c = 0; c < k; c++) acc[r * k + c]! += tree.value[leaf * k + c]!;
      else acc[r]! += tree.value[leaf]!;
      seen[r]! += 1;
    }
  }
  let n = 0;
  let correct = 0;
  let mean = 0;
  for (let r = 0; r < rows; r++) if (seen[r]! > 0) {
    n++;
    mean += data.y[r] as number;
  }
  if (n === 0) return null;
  mean /= n;
  let ssRes = 0;
  let ssTot = 0;
  for (let r = 0; r < rows; r++) {
    if (seen[r] === 0) continue;
    const actual = data.y[r] as number;
    if (k > 0) {
      let best = 0;
      for (let c = 1; c < k; c++) if (acc[r * k + c]! > acc[r * k + best]!) best = c;
      if (best === actual) correct++;
    } else {
      const e = actual - acc[r]! / seen[r]!;
      ssRes += e * e;
      ssTot += (actual - mean) * (actual - mean);
    }
  }
  return k > 0 ? correct / n : ssTot === 0 ? 0 : 1 - ssRes / ssTot;
}

/** model.json in pieces: the header, then ml-random-forest's forest JSON one tree at a time. */
function* modelJsonChunks(head: ModelHeader, trees: Tree[], k: number, width: number): Generator<string> {
  const classification = k > 0;
  const all = JSON.stringify(Array.from({ length: width }, (_, j) => j));
  const open = JSON.stringify(head).slice(0, -1);
  yield `${open},"mljs":{"name":"${classification ? 'RFClassifier' : 'RFRegression'}",${classification ? '' : '"selectionMethod":"mean",'}"baseModel":{`;
  // Every tree may split on every feature (feature subsets are drawn per split), so indexes are the identity.
  yield `"indexes":[${trees.map(() => all).join(',')}],"n":${width},"replacement":false,"maxFeatures":1,"nEstimators":${trees.length},`;
  yield `"treeOptions":{},"isClassifier":${classification},"seed":${head.params.seed},"useSampleBagging":true,"estimators":[`;
  for (let t = 0; t < trees.length; t++) yield `${t > 0 ? ',' : ''}${mljsTreeJson(trees[t]!, k)}`;
  yield ']}}}';
}

function toRows(matrix: Float64Array, rows: number, width: number): number[][] {
  const out = new Array<number[]>(rows);
  for (let i = 0; i < rows; i++) out[i] = Array.from(matrix.subarray(i * width, (i + 1) * width));
  return out;
}

/**
 * Trains with ml-random-forest 2.1.0 (`engine: mljs`) and returns its complete saved form. It draws
 * one feature subset per tree and bags rows with replacement; out-of-bag scoring stays off.
 */
export function trainMljs(data: TrainingData, params: ForestParams): SavedForest {
  const width = data.featureNames.length;
  const k = featuresPerTree(params.maxFeatures, width);
  // ml-random-forest reads 1 as "100% of the features": pass a fraction whose floor is exactly k.
  const maxFeatures = k === width ? 1.0 : k === 1 ? 1.5 / width : k;
  const options = {
    nEstimators: params.trees,
    maxFeatures,
    replacement: false,
    seed: params.seed,
    useSampleBagging: true,
    noOOB: true,
    treeOptions: {
      maxDepth: params.maxDepth ?? Infinity,
      minNumSamples: params.minSamplesSplit - 1,
      ...(data.task === 'classification' ? { gainThreshold: 0 } : {}),
    },
  };
  const X = toRows(data.matrix, data.rows, width);
  const y = Array.from(data.y);
  const model = data.task === 'classification' ? new RandomForestClassifier(options) : new RandomForestRegression({ ...options, selectionMethod: 'mean' });
  model.train(X, y);
  let importances: number[];
  try {
    importances = (model as unknown as { featureImportance(): number[] }).featureImportance().map((v) => (Number.isFinite(v) ? v : 0));
  } catch {
    importances = new Array<number>(width).fill(0);
  }
  const mljs = JSON.parse(JSON.stringify(model.toJSON())) as MljsForest;
  return { ...header(data, params, 'mljs', importances), mljs };
}
