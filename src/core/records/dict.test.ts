import { expect } from 'chai';
import { DataRecord, dict } from './dict.js';

describe('DataRecord: objects keyed by data, in V8’s fast form', () => {
  it('inherits nothing and takes any key as its own, __proto__ and toString included, as dict() does', () => {
    for (const make of [() => new DataRecord(), () => dict<unknown>()]) {
      const r = make();
      expect(r.toString).to.equal(undefined);
      expect('constructor' in r).to.equal(false);
      r['__proto__'] = 5;
      r['toString'] = 'text';
      r.x = 1;
      expect(Object.keys(r)).to.deep.equal(['__proto__', 'toString', 'x']);
      expect(Object.hasOwn(r, '__proto__')).to.equal(true);
      expect(JSON.stringify(r)).to.equal('{"__proto__":5,"toString":"text","x":1}');
      const seen: string[] = [];
      for (const key in r) seen.push(key);
      expect(seen).to.deep.equal(['__proto__', 'toString', 'x']);
    }
  });

  it('cannot be polluted through its shared prototype', () => {
    const proto = Object.getPrototypeOf(new DataRecord()) as object;
    expect(Object.isFrozen(proto)).to.equal(true);
    expect(Object.getPrototypeOf(proto)).to.equal(null);
    expect(() => {
      (proto as Record<string, unknown>).polluted = true;
    }).to.throw(TypeError);
    expect(new DataRecord().polluted).to.equal(undefined);
  });
});
