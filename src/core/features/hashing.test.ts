import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { fitStep, run } from '../../test-helpers/features.js';
import { murmur3Token } from './text.js';

describe('hashing', () => {
  it('counts tokens in columns |murmurhash3_32(token)| mod width, as HashingVectorizer(alternate_sign=False, norm=None)', () => {
    const t = fitStep('hashing', 'text', ['x'], { width: 16 });
    expect(t.pipeline.featureNames).to.have.length(16);
    expect(t.pipeline.featureNames[0]).to.equal('c.hash0');
    const out = run(t, 'Foo foo, BAR!');
    // murmurhash3_32("foo") = −156908512 (scikit-learn's test value); 156908512 = 16 × 9806782 → column 0
    expect(out[0]).to.equal(2);
    const bar = Math.abs(murmur3Token('bar', 0, 3, false)) % 16;
    expect(out[bar]).to.equal(1);
    expect(out.reduce((a, b) => a + b, 0)).to.equal(3);
  });

  it('needs no vocabulary: unseen words land in a column like any other; missing → zeros', () => {
    const t = fitStep('hashing', 'text', ['only this was seen'], { width: 8 });
    expect(run(t, 'completely different words').reduce((a, b) => a + b, 0)).to.equal(3);
    expect(run(t, null)).to.deep.equal(new Array(8).fill(0));
    expect(run(t, 'a ! ?')).to.deep.equal(new Array(8).fill(0));
  });

  it('leaves out English stop words and can keep case', () => {
    const t = fitStep('hashing', 'text', ['x'], { width: 64, stopWords: 'english' });
    expect(run(t, 'The cat and the DOG').reduce((a, b) => a + b, 0)).to.equal(2);
    const cased = fitStep('hashing', 'text', ['x'], { width: 16, lowercase: false });
    const expected = new Array<number>(16).fill(0);
    expected[0]! += 1; // foo
    expected[Math.abs(murmur3Token('FOO', 0, 3, false)) % 16]! += 1;
    expect(run(cased, 'foo FOO')).to.deep.equal(expected);
    expect(expected[0]).to.equal(1); // FOO hashes elsewhere
  });

  it('checks its parameters by name', () => {
    expect(() => fitStep('hashing', 'text', ['x'], { width: 0 })).to.throw(ConfigError, 'features.columns.c.width: must be at least 1, got 0');
    expect(() => fitStep('hashing', 'text', ['x'], { stopWords: 'englsh' })).to.throw(ConfigError, 'features.columns.c.stopWords: must be one of english, none, got "englsh" (did you mean "english"?)');
  });
});
