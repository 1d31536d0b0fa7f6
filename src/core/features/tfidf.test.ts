import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { fitStep, rounded, run } from '../../test-helpers/features.js';

describe('tfidf', () => {
  // scikit-learn's user guide ("Tf–idf term weighting") weights these counts of three terms over six
  // documents with TfidfTransformer(smooth_idf=True, norm='l2'):
  //   [[3, 0, 1], [2, 0, 0], [3, 0, 0], [4, 0, 0], [3, 2, 0], [3, 0, 2]]
  // idf = ln((1 + 6) / (1 + df)) + 1 = [1, 2.2528, 1.8473]; rows 1, 5, 6 →
  //   [0.85151335, 0, 0.52433293], [0.55422893, 0.83236428, 0], [0.63035731, 0, 0.77630514]
  const docs = ['apple apple apple cherry', 'apple apple', 'apple apple apple', 'apple apple apple apple', 'apple apple apple banana banana', 'apple apple apple cherry cherry'];

  it('gives scikit-learn\'s smoothed, l2-normalized TF-IDF', () => {
    const t = fitStep('tfidf', 'text', docs);
    expect(t.pipeline.featureNames).to.deep.equal(['c.apple', 'c.banana', 'c.cherry']);
    expect(rounded(run(t, docs[0]), 8)).to.deep.equal([0.85151335, 0, 0.52433293]);
    expect(rounded(run(t, docs[1]), 8)).to.deep.equal([1, 0, 0]);
    expect(rounded(run(t, docs[4]), 8)).to.deep.equal([0.55422893, 0.83236428, 0]);
    expect(rounded(run(t, docs[5]), 8)).to.deep.equal([0.63035731, 0, 0.77630514]);
    expect(rounded((t.pipeline.steps[0]!.state as { idf: number[] }).idf)).to.deep.equal([1, 2.2528, 1.8473]);
  });

  it('ignores unseen words; a missing or wordless text → zeros', () => {
    const t = fitStep('tfidf', 'text', docs);
    expect(rounded(run(t, 'Cherry! durian elderberry'), 8)).to.deep.equal([0, 0, 1]);
    expect(run(t, null)).to.deep.equal([0, 0, 0]);
    expect(run(t, 'durian')).to.deep.equal([0, 0, 0]);
  });

  it('keeps words in at least minDf rows, then the maxFeatures most frequent, in alphabetical order', () => {
    // totals: apple 18, cherry 3, banana 2; df: apple 6, cherry 2, banana 1
    expect(fitStep('tfidf', 'text', docs, { minDf: 2 }).pipeline.featureNames).to.deep.equal(['c.apple', 'c.cherry']);
    expect(fitStep('tfidf', 'text', docs, { minDf: 0.3 }).pipeline.featureNames).to.deep.equal(['c.apple', 'c.cherry']);
    expect(fitStep('tfidf', 'text', docs, { maxFeatures: 2 }).pipeline.featureNames).to.deep.equal(['c.apple', 'c.cherry']);
    expect(fitStep('tfidf', 'text', docs, { maxFeatures: 1 }).pipeline.featureNames).to.deep.equal(['c.apple']);
  });

  it('counts a missing text as an empty document for idf', () => {
    // n = 3, df(cat) = 1 → idf = ln(4 / 2) + 1
    const t = fitStep('tfidf', 'text', ['cat dog', 'dog', null]);
    expect(rounded((t.pipeline.steps[0]!.state as { idf: number[] }).idf)).to.deep.equal([rounded([Math.log(2) + 1])[0], rounded([Math.log(4 / 3) + 1])[0]]);
  });

  it('leaves out stop words, and says which parameter to change when no word is left', () => {
    expect(fitStep('tfidf', 'text', ['the cat and the dog'], { stopWords: 'english' }).pipeline.featureNames).to.deep.equal(['c.cat', 'c.dog']);
    expect(() => fitStep('tfidf', 'text', ['a b', 'c d'])).to.throw(ConfigError, 'features.columns.c.minDf: leaves no word: no word of two or more letters is in at least 1 row(s); lower minDf or drop the column');
    expect(() => fitStep('tfidf', 'text', docs, { minDf: 1.5 })).to.throw(ConfigError, 'features.columns.c.minDf: must be a whole number of rows (≥ 1) or a share of them (between 0 and 1), got 1.5');
  });
});
