import { expect } from 'chai';
import { InvalidArgumentError } from 'commander';
import { featurizerModule } from './parse.js';

describe('--featurizer-module name=path', () => {
  it('collects name and absolute path, in order', () => {
    const one = featurizerModule('zip-prefix=/a/zip.ts', undefined);
    expect(featurizerModule('r2=/b/r.mjs', one)).to.deep.equal([
      { name: 'zip-prefix', path: '/a/zip.ts', origin: '--featurizer-module zip-prefix=/a/zip.ts' },
      { name: 'r2', path: '/b/r.mjs', origin: '--featurizer-module r2=/b/r.mjs' },
    ]);
  });

  const wrong: [string, string][] = [
    ['zip-prefix', 'expected name=path (a custom featurizer\'s name and its module), got "zip-prefix"'],
    ['=zip.ts', 'expected name=path (a custom featurizer\'s name and its module), got "=zip.ts"'],
    ['zip-prefix=', 'expected name=path (a custom featurizer\'s name and its module), got "zip-prefix="'],
    ['Zip=zip.ts', '"Zip" is not a featurizer name (lower-case letters, digits and -, starting with a letter)'],
  ];
  for (const [value, message] of wrong) {
    it(`refuses ${JSON.stringify(value)}`, () => {
      expect(() => featurizerModule(value, undefined)).to.throw(InvalidArgumentError, message);
    });
  }

  it('refuses a name given twice', () => {
    expect(() => featurizerModule('zip=/b.ts', featurizerModule('zip=/a.ts', undefined))).to.throw(InvalidArgumentError, '"zip" is given twice');
  });
});
