import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { fitStep, run } from '../../test-helpers/features.js';

describe('one-hot imputation', () => {
  const cells = ['b', 'a', 'b', null, 'c', 'a', null];

  it('by default gives a missing value its own slot', () => {
    const t = fitStep('one-hot', 'category', cells, { minFrequency: 1 });
    expect(t.pipeline.featureNames).to.deep.equal(['c=a', 'c=b', 'c=c', 'c=<missing>', 'c=<other>']);
    expect(run(t, null)).to.deep.equal([0, 0, 0, 1, 0]);
  });

  it('reads a missing value as the most frequent one (counted as such at fit; ties → first by value)', () => {
    const t = fitStep('one-hot', 'category', cells, { minFrequency: 1, impute: 'most_frequent' });
    // a ×2, b ×2 → a; with the 2 missing rows a ×4
    expect(t.pipeline.featureNames).to.deep.equal(['c=a', 'c=b', 'c=c', 'c=<other>']);
    expect(run(t, null)).to.deep.equal([1, 0, 0, 0]);
    expect(run(t, undefined)).to.deep.equal([1, 0, 0, 0]);
    expect(t.describe()[0]).to.equal('c (category) → one-hot: 3 values [a, b, c]; missing → "a" (most_frequent) + <other> (min frequency 1, at most 20)');
  });

  it('reads a missing value as fillValue (its own column when frequent enough)', () => {
    const t = fitStep('one-hot', 'category', cells, { fillValue: 'unknown' });
    // fillValue alone means impute: constant; "unknown" ×2 reaches minFrequency 2
    expect(t.pipeline.featureNames).to.deep.equal(['c=a', 'c=b', 'c=unknown', 'c=<other>']);
    expect(run(t, null)).to.deep.equal([0, 0, 1, 0]);
    expect(run(t, 'c')).to.deep.equal([0, 0, 0, 1]);
  });

  it('checks the imputation parameters', () => {
    expect(() => fitStep('one-hot', 'category', cells, { impute: 'constant' })).to.throw(ConfigError, 'features.columns.c.fillValue: is required with impute: constant');
    expect(() => fitStep('one-hot', 'category', cells, { impute: 'median' })).to.throw(ConfigError, 'features.columns.c.impute: must be one of missing, most_frequent, constant, got "median"');
  });
});
