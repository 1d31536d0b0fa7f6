import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { classificationMetrics, regressionMetrics } from './metrics.js';
import { holdoutSplit } from './split.js';
import { classLabels, inferTask, labelValues } from './task.js';

describe('holdoutSplit', () => {
  const labels = Float64Array.from({ length: 100 }, (_, i) => (i < 70 ? 0 : i < 95 ? 1 : 2));

  it('is stratified: each class keeps its share in the test set', () => {
    const { train, test } = holdoutSplit(100, 0.2, 1, labels);
    const count = (rows: number[], c: number) => rows.filter((i) => labels[i] === c).length;
    expect([count(test, 0), count(test, 1), count(test, 2)]).to.deep.equal([14, 5, 1]);
    expect(train.length + test.length).to.equal(100);
    expect(new Set([...train, ...test]).size).to.equal(100);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(holdoutSplit(100, 0.2, 1, labels)).to.deep.equal(holdoutSplit(100, 0.2, 1, labels));
    expect(holdoutSplit(100, 0.2, 1, labels).test).not.to.deep.equal(holdoutSplit(100, 0.2, 2, labels).test);
  });

  it('never puts every row of a class in the test set', () => {
    const two = Float64Array.from([0, 0, 1, 1, 1, 1, 1, 1]);
    const { train } = holdoutSplit(8, 0.5, 3, two);
    expect(train.filter((i) => two[i] === 0)).to.have.length(1);
  });

  it('splits regression rows without labels', () => {
    const { train, test } = holdoutSplit(50, 0.2, 9);
    expect(test).to.have.length(10);
    expect(train).to.have.length(40);
  });

  it('splits 300,000 rows in one group (a regression target, or one big class) without overflowing the stack', () => {
    const { train, test } = holdoutSplit(300_000, 0.2, 9);
    expect(test).to.have.length(60_000);
    expect(train).to.have.length(240_000);
    const big = Float64Array.from({ length: 300_000 }, (_, i) => (i % 100 === 0 ? 1 : 0));
    const s = holdoutSplit(300_000, 0.2, 9, big);
    expect(s.test.filter((i) => big[i] === 1)).to.have.length(600);
    expect(s.train.length + s.test.length).to.equal(300_000);
  });
});

describe('metrics', () => {
  it('classification: accuracy, per-class and macro F1, confusion matrix (rows actual)', () => {
    const m = classificationMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ['a', 'b', 'c']);
    expect(m.accuracy).to.be.closeTo(4 / 6, 1e-12);
    expect(m.confusionMatrix).to.deep.equal([[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
    // a: p=1 r=2/3 f=0.8; b: p=1/2 r=1/2 f=1/2; c: p=1/2 r=1 f=2/3
    expect(m.perClass.map((c) => c.f1)).to.deep.equal([0.8, 0.5, 2 / 3]);
    expect(m.macroF1).to.be.closeTo((0.8 + 0.5 + 2 / 3) / 3, 1e-12);
  });

  it('regression: R², RMSE, MAE', () => {
    const m = regressionMetrics([1, 2, 3, 4], [1, 2, 3, 5]);
    expect(m.rmse).to.be.closeTo(0.5, 1e-12);
    expect(m.mae).to.be.closeTo(0.25, 1e-12);
    expect(m.r2).to.be.closeTo(1 - 1 / 5, 1e-12);
    expect(regressionMetrics([2, 2], [1, 3]).r2).to.equal(0);
  });
});

describe('target', () => {
  it('infers the task from the column', () => {
    expect(inferTask('category', ['a', 'b'])).to.equal('classification');
    expect(inferTask('boolean', [true, false])).to.equal('classification');
    expect(inferTask('integer', [1, 2, 3, 1, 2, 3, 1, 2])).to.equal('classification');
    expect(inferTask('integer', Array.from({ length: 100 }, (_, i) => i % 40))).to.equal('regression');
    expect(inferTask('number', [1.5, 2.5])).to.equal('regression');
    expect(() => inferTask('datetime', [1])).to.throw(ConfigError, 'a datetime column cannot be predicted');
  });

  it('sorts class labels numerically for numbers and by code point otherwise', () => {
    expect(classLabels('integer', [10, 9, 2, 10])).to.deep.equal(['2', '9', '10']);
    expect(classLabels('category', ['b', 'B', 'a', null])).to.deep.equal(['B', 'a', 'b']);
  });

  it('turns labels back into the target type', () => {
    expect(labelValues(['3'], 'integer')).to.deep.equal([3]);
    expect(labelValues(['false', 'true'], 'boolean')).to.deep.equal([false, true]);
    expect(labelValues(['Adelie'], 'category')).to.deep.equal(['Adelie']);
  });
});
