import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { fitStep, run } from '../../test-helpers/features.js';

describe('log1p', () => {
  it('is ln(1 + x)', () => {
    const t = fitStep('log1p', 'number', [0, Math.E - 1, 9]);
    expect(run(t, 0)).to.deep.equal([0]);
    expect(run(t, Math.E - 1)[0]).to.be.closeTo(1, 1e-15);
    expect(run(t, 9)[0]).to.be.closeTo(Math.LN10, 1e-15);
  });

  it('refuses negative training values by default, naming the smallest and the fix', () => {
    expect(() => fitStep('log1p', 'number', [3, -0.5, -2, 4])).to.throw(
      ConfigError,
      'features.columns.c.negative: is "error" and the column has negative values (the smallest is -2); set negative: clip to read them as 0, or choose another featurizer (standard-scale, robust-scale)',
    );
  });

  it('with negative: clip, reads negative values as 0; at serving time a negative value is always 0', () => {
    const t = fitStep('log1p', 'number', [-2, 0, 3, null], { negative: 'clip' });
    expect(run(t, -2)).to.deep.equal([0, 0]);
    const strict = fitStep('log1p', 'number', [0, 3]);
    expect(run(strict, -5)).to.deep.equal([0]);
  });

  it('imputes in the column units, then transforms', () => {
    const t = fitStep('log1p', 'integer', [0, 1, 3, null]);
    // median of 0 1 3 = 1 → ln 2
    expect(run(t, null)[0]).to.be.closeTo(Math.LN2, 1e-15);
    expect(run(t, null)[1]).to.equal(1);
  });
});
