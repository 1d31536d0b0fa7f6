import { expect } from 'chai';
import { mulberry32 } from '../../test-helpers/random.js';
import { histogram, prCurve, rocCurve, thinCurve } from './curves.js';
import { classificationMetrics } from './metrics.js';

describe('evaluation curves', () => {
  // scikit-learn's documented example: y = [0, 0, 1, 1], scores = [0.1, 0.4, 0.35, 0.8].
  const positive = [false, false, true, true];
  const scores = [0.1, 0.4, 0.35, 0.8];

  it('rocCurve gives scikit-learn roc_curve(drop_intermediate=False) on its documented example', () => {
    const roc = rocCurve(positive, scores, 'yes')!;
    expect(roc.fpr).to.deep.equal([0, 0, 0.5, 0.5, 1]);
    expect(roc.tpr).to.deep.equal([0, 0.5, 0.5, 1, 1]);
    expect(roc.thresholds).to.deep.equal([null, 0.8, 0.4, 0.35, 0.1]);
    expect(roc.auc).to.equal(0.75);
    expect(roc.positive).to.equal('yes');
  });

  it('prCurve gives scikit-learn precision_recall_curve and average_precision_score (0.8333…)', () => {
    const pr = prCurve(positive, scores, 'yes')!;
    // sklearn: precision [0.5, 0.667, 0.5, 1, 1], recall [1, 1, 0.5, 0.5, 0], thresholds [0.1, 0.35, 0.4, 0.8]
    expect(pr.precision.map((p) => +p.toFixed(4))).to.deep.equal([0.5, 0.6667, 0.5, 1, 1]);
    expect(pr.recall).to.deep.equal([1, 1, 0.5, 0.5, 0]);
    expect(pr.thresholds).to.deep.equal([0.1, 0.35, 0.4, 0.8]);
    expect(pr.averagePrecision).to.be.closeTo(0.8333333, 1e-6);
    expect(pr.prevalence).to.equal(0.5);
  });

  it('ties cross a threshold together, and the ROC AUC equals the Mann–Whitney AUC of the metrics', () => {
    const rnd = mulberry32(11);
    const rows = Array.from({ length: 400 }, () => ({ y: rnd() < 0.3 ? 1 : 0, s: Math.round(rnd() * 20) / 20 }));
    // make the score informative
    const s = rows.map((row) => Math.min(1, row.s + row.y * 0.3));
    const roc = rocCurve(rows.map((row) => row.y === 1), s, '1')!;
    expect(new Set(roc.thresholds.slice(1)).size).to.equal(roc.thresholds.length - 1);
    const proba = rows.flatMap((_, i) => [1 - s[i]!, s[i]!]);
    const m = classificationMetrics(rows.map((row) => row.y), rows.map(() => 0), ['0', '1'], proba);
    expect(roc.auc).to.be.closeTo(m.rocAuc!, 1e-12);
  });

  it('is undefined (null) with a single class', () => {
    expect(rocCurve([true, true], [0.2, 0.3], 'a')).to.equal(null);
    expect(prCurve([false, false], [0.2, 0.3], 'a')).to.equal(null);
  });

  it('thinCurve keeps the ends and at most max points, arrays thinned alike', () => {
    const c = { x: Array.from({ length: 1000 }, (_, i) => i), y: Array.from({ length: 1000 }, (_, i) => -i), label: 'k' };
    const t = thinCurve(c, ['x', 'y'], 100);
    expect(t.x).to.have.length(100);
    expect(t.x[0]).to.equal(0);
    expect(t.x[99]).to.equal(999);
    expect(t.y.every((v, i) => v === -t.x[i]!)).to.equal(true);
    expect(t.label).to.equal('k');
    expect(thinCurve(c, ['x', 'y'], 2000)).to.equal(c);
  });

  it('histogram counts every finite value once, the maximum in the last bin', () => {
    const h = histogram([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, NaN], 5);
    expect(h.counts).to.deep.equal([2, 2, 2, 2, 3]);
    expect(h.edges).to.deep.equal([0, 2, 4, 6, 8, 10]);
    expect(histogram([3, 3, 3]).counts).to.deep.equal([3]);
    expect(histogram([]).counts).to.deep.equal([]);
  });
});
