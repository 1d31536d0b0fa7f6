import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { fitStep, run } from '../../test-helpers/features.js';

describe('bin', () => {
  it('cuts at the training quantiles and one-hot encodes the bin; open-ended first and last bins', () => {
    // 1 … 8, 4 bins: np.quantile(x, [0.25, 0.5, 0.75]) = [2.75, 4.5, 6.25]
    const t = fitStep('bin', 'number', [1, 2, 3, 4, 5, 6, 7, 8], { bins: 4 });
    expect(t.pipeline.featureNames).to.deep.equal(['c=[-inf,2.75)', 'c=[2.75,4.5)', 'c=[4.5,6.25)', 'c=[6.25,inf)']);
    expect(run(t, 1)).to.deep.equal([1, 0, 0, 0]);
    expect(run(t, 2.75)).to.deep.equal([0, 1, 0, 0]); // an edge belongs to the bin it opens
    expect(run(t, 6)).to.deep.equal([0, 0, 1, 0]);
    expect(run(t, -100)).to.deep.equal([1, 0, 0, 0]);
    expect(run(t, 1e9)).to.deep.equal([0, 0, 0, 1]);
  });

  it('gives the bin index with encode: ordinal, and imputes then flags a missing value', () => {
    const t = fitStep('bin', 'number', [1, 2, 3, 4, 5, 6, 7, 8, null], { bins: 4, encode: 'ordinal' });
    expect(t.pipeline.featureNames).to.deep.equal(['c.bin', 'c__missing']);
    expect([1, 3, 5, 8].map((x) => run(t, x)[0])).to.deep.equal([0, 1, 2, 3]);
    // median 4.5 → bin 2
    expect(run(t, null)).to.deep.equal([2, 1]);
  });

  it('uses fixed edges as given', () => {
    const t = fitStep('bin', 'integer', [10, 30, 70], { edges: [18, 65] });
    expect(t.pipeline.featureNames).to.deep.equal(['c=[-inf,18)', 'c=[18,65)', 'c=[65,inf)']);
    expect(run(t, 65)).to.deep.equal([0, 0, 1]);
  });

  it('merges repeated quantile cuts (few distinct values → fewer bins)', () => {
    const t = fitStep('bin', 'integer', [1, 1, 1, 1, 1, 1, 2, 3], { bins: 4, encode: 'ordinal' });
    // quantiles 0.25 and 0.5 are 1 (the minimum: no cut), 0.75 is 1.25
    expect(t.describe()[0]).to.equal('c (integer) → bin: 2 bins (4 quantile bins) cut at [1.25], ordinal; missing → median 1');
  });

  it('checks its parameters by name', () => {
    expect(() => fitStep('bin', 'number', [1], { edges: [3, 2] })).to.throw(ConfigError, 'features.columns.c.edges: must be in strictly increasing order; 2 follows 3');
    expect(() => fitStep('bin', 'number', [1], { encode: 'one-hot' })).to.throw(ConfigError, 'features.columns.c.encode: must be one of onehot, ordinal, got "one-hot" (did you mean "onehot"?)');
    expect(() => fitStep('bin', 'number', [1], { bins: 1 })).to.throw(ConfigError, 'features.columns.c.bins: must be at least 2, got 1');
  });
});
