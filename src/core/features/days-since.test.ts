import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { fitStep, run } from '../../test-helpers/features.js';

const D = (s: string) => Date.parse(s);

describe('days-since', () => {
  it('counts days from the latest training date by default (training dates ≤ 0, later dates > 0)', () => {
    const t = fitStep('days-since', 'datetime', [D('2024-01-01'), D('2024-03-01'), null, D('2024-02-01')]);
    expect(t.pipeline.featureNames).to.deep.equal(['c.days_since', 'c__missing']);
    expect(run(t, '2024-03-01')).to.deep.equal([0, 0]);
    expect(run(t, '2024-01-01')).to.deep.equal([-60, 0]);
    expect(run(t, '2024-03-02T12:00:00Z')).to.deep.equal([1.5, 0]);
    // missing → the median date 2024-02-01: −29 days
    expect(run(t, null)).to.deep.equal([-29, 1]);
    expect(t.describe()[0]).to.equal('c (datetime) → days-since: days since 2024-03-01 (the latest training date); missing → -29 (median) + missing indicator');
  });

  it('takes a reference date', () => {
    const t = fitStep('days-since', 'datetime', [D('2024-01-01')], { reference: '2000-01-01' });
    expect(run(t, '2000-01-11')).to.deep.equal([10]);
    expect(run(t, '1999-12-31T00:00:00Z')).to.deep.equal([-1]);
  });

  it('refuses a reference that is not a date', () => {
    expect(() => fitStep('days-since', 'datetime', [0], { reference: '01/02/2024' })).to.throw(ConfigError, 'features.columns.c.reference: must be a date like 2024-01-31 or 2024-01-31T12:00:00Z, got "01/02/2024"');
  });
});
