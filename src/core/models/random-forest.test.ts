import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import type { ForestParams } from './forest-format.js';
import { checkForestParams, featuresPerTree, trainForest } from './random-forest.js';
import { Rng } from './rng.js';

function data(rows: number, width: number, seed: number) {
  const rng = new Rng(seed);
  const matrix = Float64Array.from({ length: rows * width }, () => Math.round(rng.next() * 50));
  const y = Float64Array.from({ length: rows }, (_, i) => ((matrix[i * width] as number) > 25 ? 1 : 0));
  return { matrix, rows, featureNames: Array.from({ length: width }, (_, j) => `f${j}`), y, task: 'classification' as const, classes: ['no', 'yes'] };
}

const base: ForestParams = { trees: 8, maxFeatures: 0.7, maxDepth: null, minSamplesSplit: 4, seed: 5 };

describe('trainForest (ml-random-forest engine)', () => {
  it('is deterministic for a seed, byte for byte, and differs for another seed', () => {
    const d = data(80, 4, 1);
    const a = JSON.stringify(trainForest(d, base));
    const b = JSON.stringify(trainForest(d, base));
    const c = JSON.stringify(trainForest(d, { ...base, seed: 6 }));
    expect(a).to.equal(b);
    expect(a).not.to.equal(c);
  });

  it('keeps the state ml-random-forest drops: classes, feature names, importances, params', () => {
    const d = data(80, 4, 2);
    const saved = trainForest(d, base);
    expect(saved.classes).to.deep.equal(['no', 'yes']);
    expect(saved.featureNames).to.deep.equal(['f0', 'f1', 'f2', 'f3']);
    expect(saved.params).to.deep.equal(base);
    expect(saved.featureImportances).to.have.length(4);
    expect(saved.featureImportances.reduce((s, v) => s + v, 0)).to.be.closeTo(1, 1e-9);
    // y depends on f0 alone
    expect(saved.featureImportances[0]).to.equal(Math.max(...saved.featureImportances));
  });

  it('honours maxDepth', () => {
    const saved = trainForest(data(120, 3, 3), { ...base, maxDepth: 2 });
    const depth = (n: { left?: unknown; right?: unknown }): number => (n.left ? 1 + Math.max(depth(n.left as never), depth(n.right as never)) : 0);
    for (const tree of saved.mljs.baseModel.estimators) expect(depth(tree.root)).to.be.at.most(2);
  });

  it('draws the stated number of features per tree, without repeats', () => {
    for (const [mf, width, expected] of [['sqrt', 16, 4], ['log2', 16, 4], ['all', 5, 5], [0.5, 10, 5], [1, 10, 1], [3, 10, 3], [0.01, 10, 1], [50, 10, 10]] as const) {
      expect(featuresPerTree(mf, width), `${mf} of ${width}`).to.equal(expected);
    }
    const saved = trainForest(data(60, 6, 4), { ...base, maxFeatures: 1 });
    for (const idx of saved.mljs.baseModel.indexes) expect(idx).to.have.length(1);
    const saved3 = trainForest(data(60, 6, 4), { ...base, maxFeatures: 3 });
    for (const idx of saved3.mljs.baseModel.indexes) expect(new Set(idx).size).to.equal(3);
  });

  it('names the parameter at fault', () => {
    expect(() => checkForestParams({ ...base, trees: 0 })).to.throw(ConfigError, 'model.trees: must be a whole number from 1 to 10000, got 0');
    expect(() => checkForestParams({ ...base, maxDepth: 0 })).to.throw(ConfigError, 'model.maxDepth');
    expect(() => checkForestParams({ ...base, minSamplesSplit: 1 })).to.throw(ConfigError, 'model.minSamplesSplit');
    expect(() => checkForestParams({ ...base, maxFeatures: 2.5 })).to.throw(ConfigError, 'model.maxFeatures');
    expect(() => checkForestParams({ ...base, seed: -1 })).to.throw(ConfigError, 'model.seed');
  });

  it('refuses to train without features', () => {
    expect(() => trainForest({ ...data(10, 1, 1), featureNames: [], matrix: new Float64Array(0) }, base)).to.throw(ConfigError, 'no features to train on');
  });
});
