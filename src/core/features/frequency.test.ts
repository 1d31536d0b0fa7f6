import { expect } from 'chai';
import { fitStep, run } from '../../test-helpers/features.js';

describe('frequency', () => {
  it('is the share of training rows with the value; unknown → 0; missing → the share of missing rows', () => {
    // 8 rows: red ×4, blue ×2, green ×1, missing ×1
    const t = fitStep('frequency', 'category', ['red', 'blue', 'red', null, 'green', 'red', 'blue', 'red']);
    expect(t.pipeline.featureNames).to.deep.equal(['c']);
    expect(['red', 'blue', 'green', 'mauve', null].map((v) => run(t, v)[0])).to.deep.equal([0.5, 0.25, 0.125, 0, 0.125]);
    expect(t.describe()[0]).to.equal('c (category) → frequency: red 0.5, blue 0.25, green 0.125; unknown → 0; missing → 0.125');
  });

  it('a missing value at serving time with none in training → 0; imputed → the share of that value (missing rows counted in)', () => {
    expect(run(fitStep('frequency', 'boolean', [true, false, true]), null)).to.deep.equal([0]);
    const t = fitStep('frequency', 'category', ['a', 'b', 'b', null], { impute: 'most_frequent' });
    // b ×2 + the missing row → 3 of 4
    expect([run(t, null)[0], run(t, 'b')[0], run(t, 'a')[0]]).to.deep.equal([0.75, 0.75, 0.25]);
  });
});
