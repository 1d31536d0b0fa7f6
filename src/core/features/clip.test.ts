import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { fitStep, run } from '../../test-helpers/features.js';

describe('clip', () => {
  it('clips at the training quantiles 0.01 and 0.99 by default', () => {
    // 0 … 100: np.quantile(x, [0.01, 0.99]) = [1, 99]
    const t = fitStep('clip', 'number', Array.from({ length: 101 }, (_, i) => i));
    expect([-5, 0, 50, 99.5, 150].map((x) => run(t, x)[0])).to.deep.equal([1, 1, 50, 99, 99]);
    expect(t.describe()[0]).to.equal('c (number) → clip: clipped to [1, 99] (quantiles 0.01, 0.99); missing → median 50');
  });

  it('takes other quantiles, interpolating between ranks', () => {
    // 1 … 10: np.quantile(x, [0.1, 0.9]) = [1.9, 9.1]
    const t = fitStep('clip', 'integer', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { lower: 0.1, upper: 0.9 });
    expect(run(t, 1)[0]).to.be.closeTo(1.9, 1e-12);
    expect(run(t, 10)[0]).to.be.closeTo(9.1, 1e-12);
  });

  it('needs lower < upper, both between 0 and 1', () => {
    expect(() => fitStep('clip', 'number', [1], { lower: 0.9, upper: 0.1 })).to.throw(ConfigError, 'features.columns.c.upper: must be more than lower (0.9), got 0.1');
    expect(() => fitStep('clip', 'number', [1], { upper: 1.5 })).to.throw(ConfigError, 'features.columns.c.upper: must be at most 1, got 1.5');
  });
});
