import { expect } from 'chai';
import { previewJson } from './json-preview.js';

describe('previewJson', () => {
  it('writes small values as JSON.stringify does', () => {
    for (const v of [null, 1, -2.5, true, 'a"b', [], {}, [1, 'x', null], { a: 1, b: [true] }]) expect(previewJson(v, 100)).to.equal(JSON.stringify(v));
    expect(previewJson(undefined)).to.equal('nothing');
  });

  it('cuts at max characters with …', () => {
    expect(previewJson('x'.repeat(100), 10)).to.equal(`"${'x'.repeat(9)}…`);
    expect(previewJson({ abc: [1, 2, 3, 4, 5, 6] }, 12)).to.equal('{"abc":[1,2,…');
  });

  it('is bounded in work and depth: a value nested 100,000 deep, a million keys, a 10 MB string', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(previewJson(deep, 40)).to.equal(`${'['.repeat(40)}…`);
    const wide: Record<string, number> = {};
    for (let i = 0; i < 1_000_000; i++) wide[`k${i}`] = i;
    expect(previewJson(wide, 20)).to.equal('{"k0":0,"k1":1,"k2":…');
    expect(previewJson('y'.repeat(10_000_000), 5)).to.equal('"yyyy…');
  });
});
