import { expect } from 'chai';
import { FOREST_PARAMS, type ForestParamName, type ForestParamSpec, defaultForestParams, defaultText, flagOf, forestParamProblems, forestParamSchema, forestParamSchemas } from './params.js';

const forestParam = (name: ForestParamName): ForestParamSpec => FOREST_PARAMS.find((p) => p.name === name)!;

describe('forest parameters (one declaration)', () => {
  it('gives the defaults engine hist and engine mljs had before the declaration', () => {
    expect(defaultForestParams('classification')).to.deep.equal({ trees: 100, maxFeatures: 'sqrt', maxDepth: null, minSamplesSplit: 2, minSamplesLeaf: 1, maxSamples: null });
    expect(defaultForestParams('regression')).to.deep.equal({ trees: 100, maxFeatures: 'all', maxDepth: null, minSamplesSplit: 2, minSamplesLeaf: 1, maxSamples: null });
    expect(defaultForestParams('classification', 'mljs')).to.deep.equal({ trees: 100, maxFeatures: 0.7, maxDepth: null, minSamplesSplit: 4, minSamplesLeaf: 1, maxSamples: null });
    expect(defaultForestParams('regression', 'mljs')).to.deep.equal({ trees: 100, maxFeatures: 'all', maxDepth: null, minSamplesSplit: 4, minSamplesLeaf: 1, maxSamples: null });
  });

  it('names each flag after its parameter, as the CLI always spelt them', () => {
    expect(FOREST_PARAMS.map(flagOf)).to.deep.equal(['--trees', '--max-features', '--max-depth', '--min-samples-split', '--min-samples-leaf', '--max-samples', '--seed']);
    expect(defaultText(forestParam('maxDepth'))).to.equal('unlimited');
    expect(defaultText(forestParam('minSamplesSplit'))).to.equal('2; engine mljs: 4');
    expect(defaultText(forestParam('maxFeatures'))).to.equal('sqrt for classification, all for regression; engine mljs: 0.7 for classification, all for regression');
  });

  it('generates the JSON Schema pipeline.yaml had by hand', () => {
    const model = forestParamSchemas('model');
    expect(Object.keys(model)).to.deep.equal(['trees', 'maxFeatures', 'maxDepth', 'minSamplesSplit', 'minSamplesLeaf', 'maxSamples']);
    expect(model.trees).to.deep.equal({ type: 'integer', minimum: 1, maximum: 10000, default: 100, description: 'more trees: steadier predictions, slower training' });
    expect(model.maxFeatures).to.deep.include({ oneOf: [{ enum: ['sqrt', 'log2', 'all'] }, { type: 'number', exclusiveMinimum: 0 }] }).and.not.to.have.property('default');
    expect(model.maxDepth).to.deep.include({ oneOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }], default: null });
    expect(model.maxSamples).to.deep.include({ oneOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'null' }], default: null });
    expect(Object.keys(forestParamSchemas('top'))).to.deep.equal(['seed']);
    expect(forestParamSchema(forestParam('seed'))).to.deep.include({ type: 'integer', minimum: 0, maximum: 2147483647 }).and.not.to.have.property('default');
  });

  it('words each problem as the trainer always did, and lets engine mljs refuse what it cannot do', () => {
    const problems = (p: object, engine?: 'hist' | 'mljs') => forestParamProblems(p, engine).map((x) => `${x.spec.name}: ${x.problem}`);
    expect(problems({ trees: 0, maxDepth: 0, minSamplesSplit: 1, minSamplesLeaf: 0, maxSamples: 1.5, maxFeatures: 2.5, seed: -1 })).to.deep.equal([
      'trees: must be a whole number from 1 to 10000, got 0',
      'maxFeatures: must be sqrt, log2, all, a fraction in (0, 1) or a whole count, got 2.5',
      'maxDepth: must be a whole number ≥ 1, got 0',
      'minSamplesSplit: must be a whole number ≥ 2, got 1',
      'minSamplesLeaf: must be a whole number ≥ 1, got 0',
      'maxSamples: must be a fraction in (0, 1] or a whole count, got 1.5',
      'seed: must be a whole number from 0 to 2147483647, got -1',
    ]);
    // Every value a default or a boundary takes is fine; 1 is a count for maxFeatures, all rows for maxSamples.
    expect(problems({ trees: 10_000, maxFeatures: 1, maxDepth: null, minSamplesSplit: 2, minSamplesLeaf: 1, maxSamples: 1, seed: 2 ** 31 - 1 })).to.deep.equal([]);
    expect(problems({ maxFeatures: 'log2', maxSamples: 0.5 })).to.deep.equal([]);
    expect(problems({ maxFeatures: 'half' })[0]).to.match(/^maxFeatures: must be sqrt/);
    expect(problems({ minSamplesLeaf: 2, maxSamples: 0.5 }, 'mljs')).to.deep.equal([
      'minSamplesLeaf: engine mljs (ml-random-forest) has no such setting; use engine hist',
      'maxSamples: engine mljs (ml-random-forest) does not sample rows correctly; use engine hist',
    ]);
    expect(problems(defaultForestParams('classification', 'mljs'), 'mljs')).to.deep.equal([]);
  });
});
