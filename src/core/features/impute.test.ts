import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { fitStep, run } from '../../test-helpers/features.js';

describe('numeric imputation (every numeric kind)', () => {
  const cells = [4, 1, null, 4, 9, 1, null];
  const kinds = ['numeric', 'standard-scale', 'min-max', 'robust-scale', 'log1p', 'clip', 'bin'];

  it('fills with the median, mean, most frequent value or a constant, as the kind reads the filled value', () => {
    // present 4 1 4 9 1: median 4, mean 3.8, most frequent 1 (1 and 4 twice: the smaller)
    const numeric = (params: Record<string, unknown>) => run(fitStep('numeric', 'number', cells, params), null);
    expect(numeric({})).to.deep.equal([4, 1]);
    expect(numeric({ impute: 'mean' })[0]).to.be.closeTo(3.8, 1e-12);
    expect(numeric({ impute: 'most_frequent' })).to.deep.equal([1, 1]);
    expect(numeric({ impute: 'constant', fillValue: -7 })).to.deep.equal([-7, 1]);
    // fillValue alone means impute: constant; beside another imputation it is unused
    expect(numeric({ fillValue: -7 })).to.deep.equal([-7, 1]);
    expect(numeric({ impute: 'median', fillValue: -7 })).to.deep.equal([4, 1]);
    // the same fill, then the kind's own map: min-max of 1 over [1, 9] is 0
    expect(run(fitStep('min-max', 'number', cells, { impute: 'most_frequent' }), null)).to.deep.equal([0, 1]);
  });

  it('writes the missing indicator always, never, or when training had missing values', () => {
    for (const kind of kinds) {
      expect(fitStep(kind, 'number', [1, 2, 3], { indicator: true }).pipeline.featureNames.at(-1), kind).to.equal('c__missing');
      expect(fitStep(kind, 'number', cells, { indicator: false }).pipeline.featureNames, kind).not.to.include('c__missing');
      expect(fitStep(kind, 'number', cells).pipeline.featureNames, kind).to.include('c__missing');
      expect(fitStep(kind, 'number', [1, 2, 3]).pipeline.featureNames, kind).not.to.include('c__missing');
    }
  });

  it('names a bad imputation parameter with the allowed values', () => {
    for (const kind of kinds) {
      expect(() => fitStep(kind, 'number', cells, { impute: 'avg' }), kind).to.throw(ConfigError, 'features.columns.c.impute: must be one of median, mean, most_frequent, constant, got "avg"');
      expect(() => fitStep(kind, 'number', cells, { indicator: 'yes' }), kind).to.throw(ConfigError, 'features.columns.c.indicator: must be true, false or "auto", got "yes"');
    }
  });
});
