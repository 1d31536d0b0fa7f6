import { expect } from 'chai';
import { fitStep, rounded, run } from '../../test-helpers/features.js';

describe('standard-scale', () => {
  it('scales [1, 2, 3] to [-1.2247, 0, 1.2247] (population std, as scikit-learn)', () => {
    const t = fitStep('standard-scale', 'number', [1, 2, 3]);
    expect(t.pipeline.featureNames).to.deep.equal(['c']);
    expect(rounded([1, 2, 3].flatMap((x) => run(t, x)))).to.deep.equal([-1.2247, 0, 1.2247]);
    // unseen values scale the same way: (7 − 2) / 0.8165
    expect(rounded(run(t, 7))).to.deep.equal([6.1237]);
    expect(t.describe()).to.deep.equal(['c (number) → standard-scale: mean 2, std 0.816497; missing → median 2']);
  });

  it('learns mean and std from the present values; a missing value is imputed, then scaled, and flagged', () => {
    const t = fitStep('standard-scale', 'number', [1, null, 2, 3, 10], { impute: 'constant', fillValue: 10 });
    // present: 1 2 3 10 → mean 4, std sqrt((9 + 4 + 1 + 36) / 4) = 3.5355
    expect(t.pipeline.featureNames).to.deep.equal(['c', 'c__missing']);
    expect(rounded(run(t, null))).to.deep.equal([1.6971, 1]);
    expect(rounded(run(t, 4))).to.deep.equal([0, 0]);
  });

  it('gives a constant column scale 1 (every training value → 0)', () => {
    const t = fitStep('standard-scale', 'integer', [5, 5, 5]);
    expect(run(t, 5)).to.deep.equal([0]);
    expect(run(t, 7)).to.deep.equal([2]);
  });

  it('keeps mean and scale finite when huge values of both signs overflow a running mean (found by the property test)', () => {
    const t = fitStep('standard-scale', 'number', [1.7976931348623157e308, 1.7976931348623157e308, -9.9792015476736e291, null]);
    const state = t.pipeline.steps[0]?.state as { mean: number; scale: number };
    expect(Number.isFinite(state.mean) && Number.isFinite(state.scale)).to.equal(true);
    expect(JSON.parse(JSON.stringify(state))).to.deep.equal(state);
    expect(run(t, 0).every(Number.isFinite)).to.equal(true);
  });
});
