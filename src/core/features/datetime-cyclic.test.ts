import { expect } from 'chai';
import { fitStep, rounded, run } from '../../test-helpers/features.js';

const D = (s: string) => Date.parse(s);

describe('datetime-cyclic', () => {
  it('puts month, day of week, time of day and day of year on circles (sin, cos)', () => {
    const t = fitStep('datetime-cyclic', 'datetime', [D('2024-01-01'), null]);
    expect(t.pipeline.featureNames).to.deep.equal([
      'c.month_sin', 'c.month_cos', 'c.dayofweek_sin', 'c.dayofweek_cos', 'c.hour_sin', 'c.hour_cos', 'c.dayofyear_sin', 'c.dayofyear_cos', 'c__missing',
    ]);
    // 2024-01-01 00:00 is a Monday, day 1, month 1: every angle 0
    expect(rounded(run(t, '2024-01-01T00:00:00Z'))).to.deep.equal([0, 1, 0, 1, 0, 1, 0, 1, 0]);
    // 2024-04-04 06:00: month 4 → 90°, Thursday (3) → 3/7 turn, 06:00 → 90°, day 95 of 366 → 94/366 turn
    const a = (f: number) => [Math.sin(2 * Math.PI * f), Math.cos(2 * Math.PI * f)];
    expect(rounded(run(t, '2024-04-04T06:00:00Z'))).to.deep.equal(rounded([...a(0.25), ...a(3 / 7), ...a(0.25), ...a(94 / 366), 0]));
    // 2024-07-02 is day 184 of a leap year: half a turn
    expect(rounded(run(t, '2024-07-02T18:00:00Z'))).to.deep.equal(rounded([...a(6 / 12), ...a(1 / 7), ...a(0.75), ...a(0.5), 0]));
  });

  it('sits December next to January and 23:59 next to 00:00', () => {
    const t = fitStep('datetime-cyclic', 'datetime', [0], { parts: ['hour'] });
    const [s1, c1] = run(t, '2024-01-01T23:59:00Z');
    const [s2, c2] = run(t, '2024-01-02T00:01:00Z');
    expect(Math.hypot(s1! - s2!, c1! - c2!)).to.be.lessThan(0.01);
  });

  it('computes the parts in a time zone', () => {
    const t = fitStep('datetime-cyclic', 'datetime', [0], { parts: ['hour'], timezone: 'Asia/Kolkata' });
    // 00:30 UTC is 06:00 in Kolkata (+05:30): a quarter turn
    expect(rounded(run(t, '2024-01-10T00:30:00Z'))).to.deep.equal([1, 0]);
  });

  it('fills a missing date with the median training date', () => {
    const t = fitStep('datetime-cyclic', 'datetime', [D('2024-01-01'), D('2024-04-01T06:00:00Z'), D('2024-12-01'), null], { parts: ['month'] });
    expect(rounded(run(t, null))).to.deep.equal([1, 0, 1]);
  });
});
