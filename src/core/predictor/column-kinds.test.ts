import { expect } from 'chai';
import { fit, idKindOf, textOf } from './column-kinds.js';

describe('sql sink values', () => {
  it('chooses the id type from the values present', () => {
    expect(idKindOf([1, 2n ** 63n - 1n, null, undefined])).to.equal('bigint');
    expect(idKindOf([1, 2 ** 63])).to.equal('double');
    expect(idKindOf([2n ** 63n])).to.equal('double');
    expect(idKindOf([2n ** 63n + 1n])).to.equal('text');
    expect(idKindOf([0.5, 3n])).to.equal('double');
    expect(idKindOf([true, false])).to.equal('boolean');
    expect(idKindOf([true, 1])).to.equal('text');
    expect(idKindOf([])).to.equal('text');
  });

  it('converts a later value only when it reads back with the same spelling', () => {
    expect(fit('bigint', '12')).to.equal(12n);
    expect(fit('bigint', '-9223372036854775808')).to.equal(-(2n ** 63n));
    for (const v of ['012', '+1', '1.0', ' 1', '9223372036854775808', 1.5, true, 'abc']) expect(fit('bigint', v), String(v)).to.equal(undefined);
    expect(fit('double', '0.25')).to.equal(0.25);
    expect(fit('double', 2n ** 53n)).to.equal(2 ** 53);
    for (const v of ['1e3', '0.250', '', 2n ** 53n + 1n, false]) expect(fit('double', v), String(v)).to.equal(undefined);
    expect(fit('boolean', 'false')).to.equal(false);
    expect(fit('boolean', 1)).to.equal(undefined);
    expect(fit('text', 7n)).to.equal('7');
    expect(fit('bigint', null)).to.equal(null);
    expect(fit('text', undefined)).to.equal(null);
  });

  it('writes dates in ISO 8601 and objects as JSON when the id column is text', () => {
    expect(textOf(new Date(Date.UTC(2026, 11, 8, 3, 4, 5)))).to.equal('2026-12-08T03:04:05.000Z');
    expect(textOf({ a: [1] })).to.equal('{"a":[1]}');
    expect(textOf(false)).to.equal('false');
  });
});
