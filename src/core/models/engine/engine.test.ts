import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXAMPLES, cleanupTempDirs, tempDir } from '../../../test-helpers/fixtures.js';
import { loadSource } from '../../data/load.js';
import { featurize } from '../../pipeline/featurize.js';
import { train } from '../../pipeline/train.js';
import { trainForest } from '../random-forest.js';
import { Rng } from '../rng.js';
import { MISSING_BIN, between, binMatrix, binOf, featureThresholds } from './binning.js';
import { MIN_WORK_FOR_WORKERS, growForest } from './forest.js';
import { type Tree, type TreeParams, growTree, treeLeaf } from './tree.js';

/** One tree on a small matrix, without bootstrap, trying every feature. */
function oneTree(columns: number[][], y: number[], over: Partial<TreeParams> = {}): { tree: Tree; matrix: Float64Array } {
  const rows = y.length;
  const width = columns.length;
  const matrix = new Float64Array(rows * width);
  columns.forEach((col, f) => col.forEach((v, i) => (matrix[i * width + f] = v)));
  const bins = binMatrix(matrix, rows, width);
  const classes = over.classes ?? 2;
  const tree = growTree(
    { rows, width, binned: bins.binned, thresholds: bins.thresholds, binCount: bins.binCount, y: Float64Array.from(y) },
    { classes, mtry: width, maxDepth: Infinity, minSamplesSplit: 2, minSamplesLeaf: 1, draws: 0, oob: false, ...over },
    1,
  );
  return { tree, matrix };
}

function depths(tree: Tree): number[] {
  const out: number[] = [];
  const stack: [number, number][] = [[0, 0]];
  while (stack.length) {
    const [n, d] = stack.pop()!;
    if (tree.feature[n]! < 0) out.push(d);
    else stack.push([tree.left[n]!, d + 1], [tree.right[n]!, d + 1]);
  }
  return out;
}

describe('engine hist: binning', () => {
  it('puts thresholds midway between distinct values, so x < t ⟺ bin(x) ≤ b', () => {
    const t = featureThresholds(Float64Array.from([3, 1, 2, 2, Number.NaN, 10]));
    expect(Array.from(t)).to.deep.equal([1.5, 2.5, 6.5]);
    for (const [x, bin] of [[1, 0], [2, 1], [2.5, 2], [3, 2], [10, 3], [-5, 0], [99, 3]] as const) expect(binOf(x, t), String(x)).to.equal(bin);
    expect(binOf(Number.NaN, t)).to.equal(MISSING_BIN);
  });

  it('keeps a threshold strictly above the lower of two adjacent floats', () => {
    const a = 1;
    const b = 1 + Number.EPSILON;
    const t = between(a, b);
    expect(a < t).to.equal(true);
    expect(b < t).to.equal(false);
  });

  it('uses at most 254 increasing thresholds (255 value bins) for many distinct values', () => {
    const rng = new Rng(3);
    const values = Float64Array.from({ length: 20_000 }, () => rng.next() * 1000);
    const t = featureThresholds(values);
    expect(t.length).to.be.at.most(254).and.at.least(200);
    for (let i = 1; i < t.length; i++) expect(t[i]! > t[i - 1]!).to.equal(true);
    const { binned, binCount } = binMatrix(values, values.length, 1);
    expect(binCount[0]).to.equal(t.length + 1);
    const counts = new Array<number>(binCount[0]!).fill(0);
    for (const b of binned) counts[b]! += 1;
    // quantile bins hold similar numbers of rows
    expect(Math.max(...counts)).to.be.lessThan(4 * (values.length / counts.length));
  });
});

describe('engine hist: split finding', () => {
  it('finds the separating threshold on hand-checked data (classification)', () => {
    // feature 0 is noise, feature 1 separates the classes between 3 and 4
    const { tree } = oneTree([[5, 1, 4, 2, 6, 3], [1, 2, 3, 4, 5, 6]], [0, 0, 0, 1, 1, 1]);
    expect(tree.feature[0]).to.equal(1);
    expect(tree.threshold[0]).to.equal(3.5);
    const l = tree.left[0]!;
    const r = tree.right[0]!;
    expect([tree.feature[l], tree.feature[r]]).to.deep.equal([-1, -1]);
    expect(Array.from(tree.value.subarray(l * 2, l * 2 + 2))).to.deep.equal([1, 0]);
    expect(Array.from(tree.value.subarray(r * 2, r * 2 + 2))).to.deep.equal([0, 1]);
    // gini 0.5 × 6 rows removed entirely
    expect(tree.gain[0]).to.be.closeTo(3, 1e-12);
  });

  it('finds the threshold that minimizes squared error (regression)', () => {
    const { tree } = oneTree([[1, 2, 3, 10, 11, 12]], [1, 1.2, 0.8, 5, 5.1, 4.9], { classes: 0 });
    expect(tree.threshold[0]).to.equal(6.5);
    expect(tree.value[tree.left[0]!]).to.be.closeTo(1, 1e-12);
    expect(tree.value[tree.right[0]!]).to.be.closeTo(5, 1e-12);
  });

  it('learns where missing values go, and predicts them that way', () => {
    // missing values belong with the low values: they must go left
    const left = oneTree([[1, 2, Number.NaN, Number.NaN, 5, 6]], [0, 0, 0, 0, 1, 1]).tree;
    expect(left.missingLeft[0]).to.equal(1);
    expect(left.threshold[0]).to.equal(3.5);
    const nan = Float64Array.from([Number.NaN]);
    expect(Array.from(left.value.subarray(treeLeaf(left, nan, 0) * 2, treeLeaf(left, nan, 0) * 2 + 2))).to.deep.equal([1, 0]);
    // …and with the high values: right
    const right = oneTree([[1, 2, Number.NaN, Number.NaN, 5, 6]], [0, 0, 1, 1, 1, 1]).tree;
    expect(right.missingLeft[0]).to.equal(0);
    expect(Array.from(right.value.subarray(treeLeaf(right, nan, 0) * 2, treeLeaf(right, nan, 0) * 2 + 2))).to.deep.equal([0, 1]);
    // missing vs present is itself a split: all values left, missing right
    const alone = oneTree([[1, 2, Number.NaN, Number.NaN, 5, 6]], [0, 0, 1, 1, 0, 0]).tree;
    expect(alone.threshold[0]).to.equal(Number.MAX_VALUE);
    expect(alone.missingLeft[0]).to.equal(0);
  });

  it('makes no split on a constant feature or a pure node', () => {
    expect(oneTree([[7, 7, 7, 7]], [0, 1, 0, 1]).tree.nodeCount).to.equal(1);
    expect(oneTree([[1, 2, 3, 4]], [1, 1, 1, 1]).tree.nodeCount).to.equal(1);
  });

  it('honours maxDepth, minSamplesLeaf and minSamplesSplit', () => {
    const rng = new Rng(9);
    const x = Array.from({ length: 400 }, () => rng.next());
    const z = Array.from({ length: 400 }, () => rng.next());
    const y = x.map((v, i) => (Math.sin(10 * v) + z[i]! > 0.7 ? 1 : 0));
    for (const maxDepth of [1, 3, 6]) expect(Math.max(...depths(oneTree([x, z], y, { maxDepth }).tree))).to.be.at.most(maxDepth);
    const deep = oneTree([x, z], y).tree;
    expect(Math.max(...depths(deep))).to.be.greaterThan(6);
    for (const minSamplesLeaf of [5, 20]) {
      const t = oneTree([x, z], y, { minSamplesLeaf }).tree;
      for (let n = 0; n < t.nodeCount; n++) if (t.feature[n]! < 0) expect(t.samples[n]).to.be.at.least(minSamplesLeaf);
    }
    const t = oneTree([x, z], y, { minSamplesSplit: 50 }).tree;
    for (let n = 0; n < t.nodeCount; n++) if (t.feature[n]! >= 0) expect(t.samples[n]).to.be.at.least(50);
  });
});

describe('engine hist: forests', function () {
  this.timeout(120_000);
  after(cleanupTempDirs);

  function data(rows: number, width: number, seed: number, missing = 0) {
    const rng = new Rng(seed);
    const matrix = Float64Array.from({ length: rows * width }, () => (rng.next() < missing ? Number.NaN : rng.next()));
    const y = Float64Array.from({ length: rows }, (_, i) => ((matrix[i * width] ?? 0) + (matrix[i * width + 1] ?? 0) > 1 ? 1 : 0));
    return { matrix, y };
  }

  it('is the same forest, byte for byte, on 1 and 2 worker threads and across runs', async () => {
    const rows = 3000;
    const trees = Math.ceil(MIN_WORK_FOR_WORKERS / rows) + 3;
    const { matrix, y } = data(rows, 6, 1, 0.05);
    const params: TreeParams = { classes: 2, mtry: 2, maxDepth: Infinity, minSamplesSplit: 2, minSamplesLeaf: 1, draws: rows, oob: false };
    const one = await growForest(matrix, rows, 6, y, params, trees, 42, { jobs: 1 });
    const two = await growForest(matrix, rows, 6, y, params, trees, 42, { jobs: 2 });
    const again = await growForest(matrix, rows, 6, y, params, trees, 42, { jobs: 2 });
    const bytes = (f: { trees: Tree[] }) => Buffer.concat(f.trees.flatMap((t) => [t.feature, t.threshold, t.left, t.right, t.missingLeft, t.value].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
    expect(bytes(two).equals(bytes(one))).to.equal(true);
    expect(bytes(again).equals(bytes(one))).to.equal(true);
    const other = await growForest(matrix, rows, 6, y, params, trees, 43, { jobs: 2 });
    expect(bytes(other).equals(bytes(one))).to.equal(false);
  });

  it('writes identical model.json and model.bin for any number of jobs', async () => {
    const dir = await tempDir();
    const rows = 2500;
    const { matrix, y } = data(rows, 5, 2);
    const params = { trees: 90, maxFeatures: 'sqrt' as const, maxDepth: null, minSamplesSplit: 2, minSamplesLeaf: 1, maxSamples: null, seed: 7 };
    const featureNames = ['a', 'b', 'c', 'd', 'e'];
    const out: Buffer[] = [];
    for (const jobs of [1, 2]) {
      const f = await trainForest({ matrix, rows, featureNames, y, task: 'classification', classes: ['no', 'yes'] }, params, { jobs });
      await f.writeModelJson(join(dir, `m${jobs}.json`));
      out.push(await readFile(join(dir, `m${jobs}.json`)), f.compiled.toBinary());
    }
    expect(out[2]!.equals(out[0]!)).to.equal(true);
    expect(out[3]!.equals(out[1]!)).to.equal(true);
  });

  it('scores out of bag close to a holdout on data it has not seen', async () => {
    const rows = 2000;
    const { matrix, y } = data(rows, 4, 3);
    const params = { trees: 60, maxFeatures: 'all' as const, maxDepth: null, minSamplesSplit: 2, minSamplesLeaf: 1, maxSamples: null, seed: 1 };
    const f = await trainForest({ matrix, rows, featureNames: ['a', 'b', 'c', 'd'], y, task: 'classification', classes: ['0', '1'] }, params, { jobs: 1, oob: true });
    const test = data(2000, 4, 4);
    const p = f.compiled.predictMatrix(test.matrix, 2000);
    let ok = 0;
    for (let i = 0; i < 2000; i++) if (p[i] === test.y[i]) ok++;
    expect(f.oobScore).to.be.a('number');
    expect(Math.abs((f.oobScore as number) - ok / 2000)).to.be.lessThan(0.03);
  });

  it('penguins, 5-fold CV, seed 1: accuracy within 0.02 of scikit-learn on the same folds', async () => {
    // Reference: 0.9906 = mean accuracy of scikit-learn 1.2.1 RandomForestClassifier(n_estimators=100,
    // random_state 0…4) over the same 5 stratified folds (kFoldSplit(344, 5, seed 1)) of mlpipe's
    // automatic penguins features; computed once on 2026-11-26 with Debian's python3-sklearn.
    const dir = await tempDir();
    const data = await loadSource({ source: join(EXAMPLES, 'penguins', 'penguins.csv') });
    await featurize({ data, target: 'Species', out: join(dir, 'features') });
    const result = await train({ features: join(dir, 'features'), out: join(dir, 'model'), params: { seed: 1 }, holdout: 0, cv: 5, jobs: 1 });
    const accuracy = result.metrics.crossValidation!.summary.accuracy!.mean;
    expect(accuracy).to.be.closeTo(0.9906, 0.02);
  });
});
