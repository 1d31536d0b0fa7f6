import { expect } from 'chai';
import { TokenCursor, TokenTable, murmur3Token, tokenString } from './text.js';

/** Every token of a text, as the cursor finds them and the featurizers read them. */
function tokensOf(text: string, lowercase: boolean, cursor = new TokenCursor()): string[] {
  const out: string[] = [];
  cursor.reset(text);
  while (cursor.next()) out.push(tokenString(text, cursor.start, cursor.end, lowercase));
  return out;
}

describe('text tokens', () => {
  it('are runs of two or more word characters, as scikit-learn\'s \\b\\w\\w+\\b', () => {
    expect(tokensOf("The cat's 2 dogs, a_b & x-ray: über-cool 42!", true)).to.deep.equal(['the', 'cat', 'dogs', 'a_b', 'ray', 'über', 'cool', '42']);
    expect(tokensOf('MiXeD Case', false)).to.deep.equal(['MiXeD', 'Case']);
    // letters of any script; a combining mark is not a word character (as Python's \w)
    expect(tokensOf('日本語 Ελληνικά e\u0301t\u00e9', true)).to.deep.equal(['日本語', 'ελληνικά', 'té']);
    // beyond the Basic Multilingual Plane: letters count once each; emoji are not words
    expect(tokensOf('𝐀𝐁 🙂🙂 a🙂b', true)).to.deep.equal(['𝐀𝐁']);
  });

  it('finds a token in a table in place', () => {
    const table = new TokenTable(['cat', 'dog', 'über']);
    const cursor = new TokenCursor();
    const text = 'Dog ÜBER bird';
    const found: number[] = [];
    cursor.reset(text);
    while (cursor.next()) found.push(table.find(text, cursor.start, cursor.end, true));
    expect(found).to.deep.equal([1, 2, -1]);
  });

  it('hashes a token\'s UTF-8 bytes with MurmurHash3 as scikit-learn\'s murmurhash3_32', () => {
    // scikit-learn's own test values (sklearn/utils/tests/test_murmurhash.py)
    expect(murmur3Token('foo', 0, 3, false)).to.equal(-156908512);
    expect(murmur3Token('foo', 0, 3, false, 42)).to.equal(-1322301282);
    expect(murmur3Token('xFOOx', 1, 4, true)).to.equal(-156908512);
    // the 32-bit reference implementation's values for the empty input and "hello"
    expect(murmur3Token('', 0, 0, false) >>> 0).to.equal(0);
    expect(murmur3Token('hello', 0, 5, false) >>> 0).to.equal(0x248bfa47);
  });
});
