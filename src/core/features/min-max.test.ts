import { expect } from 'chai';
import { fitStep, run } from '../../test-helpers/features.js';

describe('min-max', () => {
  it('maps the training range to [0, 1]; values outside it land outside unless clipped', () => {
    const t = fitStep('min-max', 'number', [2, 4, 10, null]);
    expect(t.pipeline.featureNames).to.deep.equal(['c', 'c__missing']);
    expect([2, 4, 10, 12, 0].map((x) => run(t, x)[0])).to.deep.equal([0, 0.25, 1, 1.25, -0.25]);
    // missing → median 4 → 0.25
    expect(run(t, null)).to.deep.equal([0.25, 1]);
    const clipped = fitStep('min-max', 'number', [2, 4, 10], { clip: true });
    expect([12, 0, 6].map((x) => run(clipped, x)[0])).to.deep.equal([1, 0, 0.5]);
  });

  it('imputes the most frequent value (ties → the smallest)', () => {
    const t = fitStep('min-max', 'integer', [3, 1, 3, 1, 9, null], { impute: 'most_frequent', indicator: false });
    // 1 and 3 both twice → 1 → (1 − 1) / 8
    expect(run(t, undefined)).to.deep.equal([0]);
  });

  it('gives a constant column range 1', () => {
    expect(run(fitStep('min-max', 'number', [4, 4]), 6)).to.deep.equal([2]);
  });

  it('rejects a clip that is not a boolean, naming it', () => {
    expect(() => fitStep('min-max', 'number', [1, 2], { clip: 'yes' })).to.throw('features.columns.c.clip: must be true or false, got "yes"');
  });
});
