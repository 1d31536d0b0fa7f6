import { expect } from 'chai';
import { kFoldSplit, summarize } from './cv.js';
import { classificationMetrics, type ClassificationMetrics } from './metrics.js';

function expectPartition(folds: { train: number[]; test: number[] }[], rows: number): void {
  const seen = new Array<number>(rows).fill(0);
  for (const { train, test } of folds) {
    for (const i of test) seen[i] = (seen[i] as number) + 1;
    expect([...train, ...test].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: rows }, (_, i) => i));
    expect(train).to.deep.equal([...train].sort((a, b) => a - b));
    expect(test).to.deep.equal([...test].sort((a, b) => a - b));
  }
  expect(seen.every((c) => c === 1), 'every row in exactly one test fold').to.equal(true);
}

const spread = (xs: number[]): number => Math.max(...xs) - Math.min(...xs);

describe('kFoldSplit', () => {
  it('puts every row in exactly one test fold, train = the rest, ascending', () => {
    const folds = kFoldSplit(10, 3, 1);
    expect(folds).to.have.length(3);
    expectPartition(folds, 10);
    expect(folds.map((f) => f.test.length).sort()).to.deep.equal([3, 3, 4]);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(kFoldSplit(30, 5, 7)).to.deep.equal(kFoldSplit(30, 5, 7));
    expect(kFoldSplit(30, 5, 7)[0]?.test).not.to.deep.equal(kFoldSplit(30, 5, 8)[0]?.test);
  });

  it('is stratified with labels: class counts per fold differ by at most 1, and so do fold sizes', () => {
    const labels = Float64Array.from({ length: 100 }, (_, i) => (i < 67 ? 0 : i < 90 ? 1 : 2));
    const folds = kFoldSplit(100, 4, 3, labels);
    expectPartition(folds, 100);
    for (const c of [0, 1, 2]) {
      const counts = folds.map((f) => f.test.filter((i) => labels[i] === c).length);
      expect(spread(counts), `class ${c}: ${counts.join(', ')}`).to.be.at.most(1);
      expect(counts.reduce((s, v) => s + v, 0)).to.equal(labels.filter((l) => l === c).length);
    }
    expect(folds.map((f) => f.test.length)).to.deep.equal([25, 25, 25, 25]);
  });

  it('works when a class has fewer rows than folds', () => {
    const labels = [0, 0, 0, 0, 0, 0, 1, 1];
    const folds = kFoldSplit(8, 4, 5, labels);
    expectPartition(folds, 8);
    expect(folds.map((f) => f.test.filter((i) => labels[i] === 1).length).sort()).to.deep.equal([0, 0, 1, 1]);
    expect(folds.map((f) => f.test.length)).to.deep.equal([2, 2, 2, 2]);
  });

  it('allows k = rows (leave one out)', () => {
    const folds = kFoldSplit(4, 4, 1);
    expectPartition(folds, 4);
    expect(folds.every((f) => f.test.length === 1)).to.equal(true);
  });

  it('throws a clear error for k < 2, k > rows, a fractional k or mismatched labels', () => {
    expect(() => kFoldSplit(10, 1, 1)).to.throw(RangeError, '2 ≤ k ≤ rows (10), got k = 1');
    expect(() => kFoldSplit(10, 11, 1)).to.throw(RangeError, 'got k = 11; choose k between 2 and 10');
    expect(() => kFoldSplit(10, 2.5, 1)).to.throw(RangeError, 'got k = 2.5');
    expect(() => kFoldSplit(1, 2, 1)).to.throw(RangeError, 'too few rows');
    expect(() => kFoldSplit(10, 2, 1, [0, 1])).to.throw(RangeError, 'labels has 2 values for 10 rows');
  });
});

describe('summarize', () => {
  it('gives mean, sample std and values of fields that are numbers in every fold', () => {
    const s = summarize([
      { accuracy: 0.8, rocAuc: null, matrix: [[1]], name: 'x', onlyHere: 1 },
      { accuracy: 0.9, rocAuc: 0.7, matrix: [[2]], name: 'y' },
      { accuracy: 0.7, rocAuc: 0.6, matrix: [[3]], name: 'z' },
    ]);
    expect(Object.keys(s)).to.deep.equal(['accuracy']);
    expect(s.accuracy?.mean).to.be.closeTo(0.8, 1e-12);
    // deviations −0, +0.1, −0.1 → sqrt(0.02 / (3 − 1)) = 0.1
    expect(s.accuracy?.std).to.be.closeTo(0.1, 1e-12);
    expect(s.accuracy?.values).to.deep.equal([0.8, 0.9, 0.7]);
  });

  it('has std 0 for one fold and nothing for no folds', () => {
    expect(summarize([{ r2: 0.5 }])).to.deep.equal({ r2: { mean: 0.5, std: 0, values: [0.5] } });
    expect(summarize([])).to.deep.equal({});
  });

  it('takes metric results directly', () => {
    const folds: ClassificationMetrics[] = [
      classificationMetrics([0, 1], [0, 1], ['a', 'b']),
      classificationMetrics([0, 1], [0, 0], ['a', 'b']),
    ];
    const s = summarize(folds);
    expect(Object.keys(s)).to.have.members(['accuracy', 'macroF1', 'balancedAccuracy', 'weightedF1', 'support']);
    expect(s.accuracy?.mean).to.be.closeTo(0.75, 1e-12);
    // values 1 and 0.5 → sample std sqrt(2 × 0.25² / 1) = 0.3535…
    expect(s.accuracy?.std).to.be.closeTo(Math.SQRT2 / 4, 1e-12);
  });
});
