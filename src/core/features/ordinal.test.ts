import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { fitStep, run } from '../../test-helpers/features.js';

describe('ordinal', () => {
  it('codes values by a given order; unknown → -1, missing → -2', () => {
    const t = fitStep('ordinal', 'category', ['low', 'high', null, 'medium'], { order: ['low', 'medium', 'high'] });
    expect(t.pipeline.featureNames).to.deep.equal(['c']);
    expect(['low', 'medium', 'high', 'extreme', null].map((v) => run(t, v)[0])).to.deep.equal([0, 1, 2, -1, -2]);
    expect(t.describe()[0]).to.equal('c (category) → ordinal: given order: low=0, medium=1, high=2; unknown → -1; missing → -2');
  });

  it('codes by training frequency by default (most frequent = 0, ties by value)', () => {
    const t = fitStep('ordinal', 'category', ['b', 'c', 'c', 'a', 'b', 'c']);
    // c ×3, b ×2, a ×1
    expect(['c', 'b', 'a'].map((v) => run(t, v)[0])).to.deep.equal([0, 1, 2]);
  });

  it('takes its own unknown and missing codes, or imputes', () => {
    const t = fitStep('ordinal', 'integer', [3, 1, 3, null], { unknownValue: 99, missingValue: 98 });
    expect([3, 1, 7, null].map((v) => run(t, v)[0])).to.deep.equal([0, 1, 99, 98]);
    const imputed = fitStep('ordinal', 'integer', [3, 1, 3, null], { impute: 'most_frequent' });
    expect(run(imputed, null)).to.deep.equal([0]);
    const constant = fitStep('ordinal', 'category', ['x', null], { order: ['x', 'none'], fillValue: 'none' });
    expect(run(constant, null)).to.deep.equal([1]);
  });

  it('checks the order', () => {
    expect(() => fitStep('ordinal', 'category', ['a'], { order: ['a', 'a'] })).to.throw(ConfigError, 'features.columns.c.order: lists "a" twice');
    expect(() => fitStep('ordinal', 'category', ['a'], { order: 'a,b' })).to.throw(ConfigError, 'features.columns.c.order: must be a non-empty list of values, got "a,b"');
  });
});
