import { expect } from 'chai';
import { classificationMetrics, regressionMetrics } from './metrics.js';

// Expected values are worked out by hand below from the scikit-learn definitions
// (balanced_accuracy_score, f1_score(average='weighted'), log_loss with eps = 1e-15,
// roc_auc_score as the Mann–Whitney statistic); each comment shows the arithmetic.

describe('classificationMetrics: balanced accuracy and weighted F1', () => {
  it('matches hand computation on a three-class example', () => {
    const m = classificationMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], ['a', 'b', 'c']);
    // recall a = 2/3, b = 1/2, c = 1 → (2/3 + 1/2 + 1) / 3 = 13/18
    expect(m.balancedAccuracy).to.be.closeTo(13 / 18, 1e-12);
    // F1 a = 0.8 (support 3), b = 0.5 (2), c = 2/3 (1) → (2.4 + 1 + 2/3) / 6 = 61/90
    expect(m.weightedF1).to.be.closeTo(61 / 90, 1e-12);
    // existing fields are unchanged
    expect(m.accuracy).to.be.closeTo(4 / 6, 1e-12);
    expect(m.macroF1).to.be.closeTo((0.8 + 0.5 + 2 / 3) / 3, 1e-12);
  });

  it('balanced accuracy skips classes that only appear in the predictions', () => {
    // class c is predicted once but never actual: recall a = 1/2, b = 1 → 0.75 (not (1/2 + 1 + 0) / 3)
    const m = classificationMetrics([0, 0, 1, 1], [0, 2, 1, 1], ['a', 'b', 'c']);
    expect(m.balancedAccuracy).to.be.closeTo(0.75, 1e-12);
    // F1 a: p = 1, r = 1/2 → 2/3 (support 2); b: 1 (support 2); c: support 0 → (4/3 + 2) / 4 = 5/6
    expect(m.weightedF1).to.be.closeTo(5 / 6, 1e-12);
  });

  it('omits log loss and ROC AUC without probabilities', () => {
    const m = classificationMetrics([0, 1], [0, 1], ['a', 'b']);
    expect(m).not.to.have.property('logLoss');
    expect(m).not.to.have.property('rocAuc');
    expect(m.balancedAccuracy).to.equal(1);
    expect(m.weightedF1).to.equal(1);
  });

  it('rejects probabilities of the wrong size', () => {
    expect(() => classificationMetrics([0, 1], [0, 1], ['a', 'b'], [0.5, 0.5, 0.5])).to.throw(Error, 'expected 2 rows × 2 classes = 4');
    expect(() => classificationMetrics([0, 1], [0], ['a', 'b'])).to.throw(Error, '1 predictions for 2 actual values');
  });
});

describe('classificationMetrics: log loss', () => {
  it('is the mean negative natural log of the actual class probability (binary)', () => {
    const proba = Float64Array.from([0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.5, 0.5]);
    const m = classificationMetrics([0, 1, 1, 0], [0, 1, 0, 0], ['a', 'b'], proba);
    // −(ln 0.9 + ln 0.8 + ln 0.4 + ln 0.5) / 4 = −(−0.1053605 − 0.2231436 − 0.9162907 − 0.6931472) / 4
    expect(m.logLoss).to.be.closeTo(0.4844854949, 1e-9);
  });

  it('uses the column of the actual class (three classes)', () => {
    const proba = [0.7, 0.2, 0.1, 0.3, 0.3, 0.4, 0.25, 0.25, 0.5];
    const m = classificationMetrics([0, 1, 2], [0, 2, 2], ['a', 'b', 'c'], proba);
    // −(ln 0.7 + ln 0.3 + ln 0.5) / 3 = −(−0.3566749 − 1.2039728 − 0.6931472) / 3
    expect(m.logLoss).to.be.closeTo(0.7512649763, 1e-9);
  });

  it('clips probabilities to [1e-15, 1 − 1e-15] so a certain mistake stays finite', () => {
    const m = classificationMetrics([0, 1], [0, 0], ['a', 'b'], [1, 0, 1, 0]);
    // row 1: −ln(1 − 1e-15) ≈ 1.1e-15; row 2: −ln(1e-15) = 34.538776…; mean 17.269388… (sklearn log_loss gives the same)
    expect(m.logLoss).to.be.closeTo(34.538776394910684 / 2, 1e-9);
  });
});

describe('classificationMetrics: ROC AUC', () => {
  it('binary: AUC of the positive class labels[1]', () => {
    // the scikit-learn docs example: y = [0, 0, 1, 1], scores [0.1, 0.4, 0.35, 0.8] → 0.75
    const scores = [0.1, 0.4, 0.35, 0.8];
    const proba = scores.flatMap((s) => [1 - s, s]);
    const m = classificationMetrics([0, 0, 1, 1], [0, 1, 0, 1], ['neg', 'pos'], proba);
    expect(m.rocAuc).to.be.closeTo(0.75, 1e-12);
  });

  it('binary: tied scores count 1/2', () => {
    // positives score 0.35, 0.8, 0.4; negatives 0.1, 0.4, 0.4. Pairs won (of 3 × 3 = 9):
    // 0.35 beats 0.1 → 1; 0.8 beats all → 3; 0.4 beats 0.1 and ties twice → 1 + 0.5 + 0.5 = 2 → 6/9
    const actual = [0, 0, 1, 1, 0, 1];
    const scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4];
    const proba = scores.flatMap((s) => [1 - s, s]);
    expect(classificationMetrics(actual, [0, 0, 0, 1, 0, 0], ['n', 'p'], proba).rocAuc).to.be.closeTo(2 / 3, 1e-12);
    // every score equal → every pair is a tie → 0.5
    const flat = actual.flatMap(() => [0.5, 0.5]);
    expect(classificationMetrics(actual, actual, ['n', 'p'], flat).rocAuc).to.be.closeTo(0.5, 1e-12);
  });

  it('multiclass: macro average of one-vs-rest AUCs', () => {
    const actual = [0, 1, 2, 2];
    const proba = [0.5, 0.3, 0.2, 0.3, 0.3, 0.4, 0.2, 0.5, 0.3, 0.1, 0.2, 0.7];
    // class a: positive 0.5 vs 0.3, 0.2, 0.1 → 1
    // class b: positive 0.3 vs 0.3 (tie 1/2), 0.5 (lose), 0.2 (win) → 1.5/3 = 0.5
    // class c: positives 0.3, 0.7 vs 0.2, 0.4 → (1 + 2)/4 = 0.75
    // macro (1 + 0.5 + 0.75) / 3 = 0.75 (= sklearn roc_auc_score(multi_class='ovr', average='macro'))
    const m = classificationMetrics(actual, [0, 2, 1, 2], ['a', 'b', 'c'], proba);
    expect(m.rocAuc).to.be.closeTo(0.75, 1e-12);
  });

  it('multiclass: classes absent from the actual values are left out of the average', () => {
    const actual = [0, 1, 2, 2];
    const proba = [0.5, 0.3, 0.2, 0, 0.3, 0.3, 0.4, 0, 0.2, 0.5, 0.3, 0, 0.1, 0.2, 0.7, 0];
    const m = classificationMetrics(actual, [0, 2, 1, 2], ['a', 'b', 'c', 'd'], proba);
    expect(m.rocAuc).to.be.closeTo(0.75, 1e-12);
  });

  it('is null when only one class is present', () => {
    const binary = classificationMetrics([1, 1, 1], [1, 1, 0], ['n', 'p'], [0.2, 0.8, 0.3, 0.7, 0.6, 0.4]);
    expect(binary.rocAuc).to.equal(null);
    expect(binary.logLoss).to.be.a('number');
    const multi = classificationMetrics([2, 2], [2, 2], ['a', 'b', 'c'], [0.1, 0.1, 0.8, 0.2, 0.2, 0.6]);
    expect(multi.rocAuc).to.equal(null);
  });
});

describe('regressionMetrics: MAPE', () => {
  it('is the mean of |(a − p) / a| over rows with a ≠ 0, as a fraction', () => {
    const m = regressionMetrics([2, 0, 4, -5], [1, 3, 5, -4]);
    // rows with a ≠ 0: |1/2| = 0.5, |−1/4| = 0.25, |−1/−5| = 0.2 → 0.95 / 3
    expect(m.mape).to.be.closeTo(0.95 / 3, 1e-12);
    // the row with a = 0 still counts for the other metrics: errors 1, −3, −1, −1
    expect(m.mae).to.be.closeTo(6 / 4, 1e-12);
    expect(m.support).to.equal(4);
  });

  it('is null when every actual value is 0', () => {
    expect(regressionMetrics([0, 0], [1, 2]).mape).to.equal(null);
  });

  it('keeps the existing fields', () => {
    const m = regressionMetrics([1, 2, 3, 4], [1, 2, 3, 5]);
    expect(m).to.have.all.keys('r2', 'rmse', 'mae', 'mape', 'support');
    expect(m.mape).to.be.closeTo(0.25 / 4, 1e-12);
  });
});
