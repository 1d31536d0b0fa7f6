import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import type { ForestParams } from './forest-format.js';
import { checkForestParams, featuresPerTree, trainForest, trainMljs } from './random-forest.js';
import { Rng } from './rng.js';

function data(rows: number, width: number, seed: number) {
  const rng = new Rng(seed);
  const matrix = Float64Array.from({ length: rows * width }, () => Math.round(rng.next() * 50));
  const y = Float64Array.from({ length: rows }, (_, i) => ((matrix[i * width] as number) > 25 ? 1 : 0));
  return { matrix, rows, featureNames: Array.from({ length: width }, (_, j) => `f${j}`), y, task: 'classification' as const, classes: ['no', 'yes'] };
}

const base: ForestParams = { trees: 8, maxFeatures: 0.7, maxDepth: null, minSamplesSplit: 4, minSamplesLeaf: 1, maxSamples: null, seed: 5 };

describe('trainForest', function () {
  this.timeout(60_000);

  it('mljs engine: deterministic for a seed, byte for byte, and different for another seed', () => {
    const d = data(80, 4, 1);
    const a = JSON.stringify(trainMljs(d, base));
    expect(JSON.stringify(trainMljs(d, base))).to.equal(a);
    expect(JSON.stringify(trainMljs(d, { ...base, seed: 6 }))).not.to.equal(a);
  });

  it('keeps the state ml-random-forest drops: classes, feature names, importances, params', async () => {
    for (const engine of ['hist', 'mljs'] as const) {
      const d = data(120, 4, 2);
      const { header } = await trainForest(d, base, { engine, jobs: 1 });
      expect(header.engine).to.equal(engine);
      expect(header.classes).to.deep.equal(['no', 'yes']);
      expect(header.featureNames).to.deep.equal(['f0', 'f1', 'f2', 'f3']);
      expect(header.params).to.deep.equal(base);
      expect(header.featureImportances.reduce((s, v) => s + v, 0)).to.be.closeTo(1, 1e-9);
      // y depends on f0 alone
      expect(header.featureImportances[0], engine).to.equal(Math.max(...header.featureImportances));
    }
  });

  it('mljs engine honours maxDepth and draws the stated number of features per tree, without repeats', () => {
    const depth = (n: { left?: unknown; right?: unknown }): number => (n.left ? 1 + Math.max(depth(n.left as never), depth(n.right as never)) : 0);
    for (const tree of trainMljs(data(120, 3, 3), { ...base, maxDepth: 2 }).mljs.baseModel.estimators) expect(depth(tree.root)).to.be.at.most(2);
    for (const idx of trainMljs(data(60, 6, 4), { ...base, maxFeatures: 1 }).mljs.baseModel.indexes) expect(idx).to.have.length(1);
    for (const idx of trainMljs(data(60, 6, 4), { ...base, maxFeatures: 3 }).mljs.baseModel.indexes) expect(new Set(idx).size).to.equal(3);
  });

  it('counts features for every maxFeatures form, rounding down as scikit-learn does', () => {
    for (const [mf, width, expected] of [['sqrt', 16, 4], ['sqrt', 14, 3], ['sqrt', 133, 11], ['log2', 16, 4], ['log2', 31, 4], ['all', 5, 5], [0.5, 10, 5], [1, 10, 1], [3, 10, 3], [0.01, 10, 1], [50, 10, 10]] as const) {
      expect(featuresPerTree(mf, width), `${mf} of ${width}`).to.equal(expected);
    }
  });

  it('names the parameter at fault', () => {
    expect(() => checkForestParams({ ...base, trees: 0 })).to.throw(ConfigError, 'model.trees: must be a whole number from 1 to 10000, got 0');
    expect(() => checkForestParams({ ...base, maxDepth: 0 })).to.throw(ConfigError, 'model.maxDepth');
    expect(() => checkForestParams({ ...base, minSamplesSplit: 1 })).to.throw(ConfigError, 'model.minSamplesSplit');
    expect(() => checkForestParams({ ...base, minSamplesLeaf: 0 })).to.throw(ConfigError, 'model.minSamplesLeaf');
    expect(() => checkForestParams({ ...base, maxSamples: 1.5 })).to.throw(ConfigError, 'model.maxSamples');
    expect(() => checkForestParams({ ...base, maxFeatures: 2.5 })).to.throw(ConfigError, 'model.maxFeatures');
    expect(() => checkForestParams({ ...base, seed: -1 })).to.throw(ConfigError, 'model.seed');
    expect(() => checkForestParams({ ...base, minSamplesLeaf: 2 }, 'mljs')).to.throw(ConfigError, 'engine mljs (ml-random-forest) has no such setting');
    expect(() => checkForestParams({ ...base, maxSamples: 0.5 }, 'mljs')).to.throw(ConfigError, 'does not sample rows correctly');
  });

  it('refuses to train without features, and out-of-bag scoring with engine mljs', async () => {
    try {
      await trainForest({ ...data(10, 1, 1), featureNames: [], matrix: new Float64Array(0) }, base);
      expect.fail('should refuse');
    } catch (err) {
      expect((err as Error).message).to.contain('no features to train on');
    }
    try {
      await trainForest(data(30, 2, 1), base, { engine: 'mljs', oob: true });
      expect.fail('should refuse');
    } catch (err) {
      expect((err as Error).message).to.contain('engine mljs cannot score out of bag');
    }
  });
});
