import { expect } from 'chai';
import { fitStep, run } from '../../test-helpers/features.js';

describe('robust-scale', () => {
  it('centres on the median and divides by the interquartile range (numpy linear quantiles)', () => {
    // [1, 2, 3, 4, 100]: q25 = 2, median = 3, q75 = 4 → IQR 2; the outlier moves neither
    const t = fitStep('robust-scale', 'number', [1, 2, 3, 4, 100]);
    expect([1, 3, 4, 100].map((x) => run(t, x)[0])).to.deep.equal([-1, 0, 0.5, 48.5]);
    expect(t.describe()[0]).to.equal('c (number) → robust-scale: median 3, IQR 2; missing → median 3');
  });

  it('interpolates quartiles between ranks', () => {
    // [1, 2, 3, 4]: q25 = 1.75, median 2.5, q75 = 3.25 → IQR 1.5
    const t = fitStep('robust-scale', 'number', [4, 1, 3, 2]);
    expect(run(t, 4)[0]).to.equal(1);
  });

  it('replaces a zero IQR by 1 and imputes before scaling', () => {
    const t = fitStep('robust-scale', 'integer', [7, 7, 7, 7, 20, null], { impute: 'mean' });
    // q25 = q75 = 7 → IQR 1; mean of present = 48 / 5 = 9.6 → 9.6 − 7
    expect(run(t, null)[0]).to.be.closeTo(2.6, 1e-12);
    expect(run(t, null)[1]).to.equal(1);
  });
});
