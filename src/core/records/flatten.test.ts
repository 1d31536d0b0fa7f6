import { expect } from 'chai';
import { FlattenError, MAX_DEPTH, flattenRecord, hasNestedValue, originalPointer } from './flatten.js';

function flat(record: unknown): Record<string, unknown> {
  return flattenRecord(record as Record<string, unknown>).record;
}

function failure(record: unknown): FlattenError {
  try {
    flattenRecord(record as Record<string, unknown>);
  } catch (err) {
    expect(err).to.be.instanceOf(FlattenError);
    return err as FlattenError;
  }
  throw new Error('expected a FlattenError');
}

describe('flattenRecord', () => {
  describe('nested objects', () => {
    it('makes dotted names at any depth, in the record’s order', () => {
      expect(flat({ a: 1, record: { high: 3, low: -1 }, z: null })).to.deep.equal({ a: 1, 'record.high': 3, 'record.low': -1, z: null });
      expect(Object.keys(flat({ a: 1, record: { high: 3, low: -1 }, z: null }))).to.deep.equal(['a', 'record.high', 'record.low', 'z']);
      expect(flat({ f: { high: { high: 1, low: { x: { y: 'deep' } } } } })).to.deep.equal({ 'f.high.high': 1, 'f.high.low.x.y': 'deep' });
    });

    it('an empty object contributes nothing, but is known as an object (for error paths)', () => {
      const r = flattenRecord({ a: 1, meta: {}, b: { c: {} } });
      expect(r.record).to.deep.equal({ a: 1 });
      expect([...r.objects]).to.deep.equal([
        ['meta', '/meta'],
        ['b', '/b'],
        ['b.c', '/b/c'],
      ]);
    });

    it('records the original JSON Pointer of every name made from nested keys (escaped per RFC 6901)', () => {
      const r = flattenRecord({ top: 1, 'a/b': { 'c~d': 2 } });
      expect(r.record).to.deep.equal({ top: 1, 'a/b.c~d': 2 });
      expect([...r.pointers]).to.deep.equal([['a/b.c~d', '/a~1b/c~0d']]);
    });

    it('does not change the record it is given', () => {
      const record = { a: { b: 1 }, t: ['x'] };
      flattenRecord(record);
      expect(record).to.deep.equal({ a: { b: 1 }, t: ['x'] });
    });

    it('keeps a key named __proto__ as a property, never as the prototype', () => {
      const record = JSON.parse('{"a":{"__proto__":{"polluted":1}}}') as Record<string, unknown>;
      const r = flat(record);
      expect(Object.keys(r)).to.deep.equal(['a.__proto__.polluted']);
      const top = flat(JSON.parse('{"__proto__":5,"n":{"m":1}}'));
      expect(Object.hasOwn(top, '__proto__')).to.equal(true);
      expect(Object.getPrototypeOf(top)).to.equal(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    });
  });

  describe('name clashes', () => {
    it('a key with a dot and a nested key of the same name, in either order, names both', () => {
      const e = failure({ 'a.b': 1, a: { b: 2 } });
      expect(e.column).to.equal('a.b');
      expect(e.pointer).to.equal('/a/b');
      expect(e.clash).to.equal(true);
      expect(e.message).to.equal('two values flatten to the name "a.b": /a.b and /a/b; rename one of them');
      expect(failure({ a: { b: 2 }, 'a.b': 1 }).message).to.equal('two values flatten to the name "a.b": /a/b and /a.b; rename one of them');
    });

    it('two nested spellings of one name', () => {
      expect(failure({ a: { 'b.c': 1, b: { c: 2 } } }).message).to.equal('two values flatten to the name "a.b.c": /a/b.c and /a/b/c; rename one of them');
    });
  });

  describe('arrays', () => {
    it('are kept as their JSON text, with a note naming the column', () => {
      const r = flattenRecord({ tags: ['a', 'b'], n: { list: [1, [2, 3], { x: null }] }, none: [] });
      expect(r.record).to.deep.equal({ tags: '["a","b"]', 'n.list': '[1,[2,3],{"x":null}]', none: '[]' });
      expect(r.notes).to.deep.equal([
        { column: 'tags', kind: 'array' },
        { column: 'n.list', kind: 'array' },
        { column: 'none', kind: 'array' },
      ]);
    });

    it('with Extended JSON inside unwrapped (canonical text equals relaxed text)', () => {
      const canonical = flat({ v: [{ $numberInt: '1' }, { $date: { $numberLong: '1704164645000' } }, { $oid: '65a1b2c3d4e5f60718293a4b' }] });
      const relaxed = flat({ v: [1, { $date: '2024-01-02T03:04:05Z' }, { $oid: '65a1b2c3d4e5f60718293a4b' }] });
      expect(canonical).to.deep.equal({ v: '[1,"2024-01-02T03:04:05.000Z","65a1b2c3d4e5f60718293a4b"]' });
      expect(relaxed).to.deep.equal(canonical);
    });

    it('a bad Extended JSON value inside an array names its path', () => {
      const e = failure({ v: [1, { $numberInt: 'x' }] });
      expect(e.pointer).to.equal('/v/1/$numberInt');
      expect(e.column).to.equal('v');
    });
  });

  describe('MongoDB Extended JSON', () => {
    it('$oid → its hex text', () => {
      expect(flat({ _id: { $oid: '65a1b2c3d4e5f60718293a4b' } })).to.deep.equal({ _id: '65a1b2c3d4e5f60718293a4b' });
    });

    it('$date relaxed (ISO text), canonical ({$numberLong}) and legacy (a number) → the same ISO text', () => {
      const ms = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
      const relaxed = flat({ at: { $date: '2024-01-02T03:04:05.678Z' } });
      expect(relaxed).to.deep.equal({ at: '2024-01-02T03:04:05.678Z' });
      expect(flat({ at: { $date: { $numberLong: String(ms) } } })).to.deep.equal(relaxed);
      expect(flat({ at: { $date: ms } })).to.deep.equal(relaxed);
      expect(flat({ at: { $date: '2024-01-02T05:04:05.678+02:00' } })).to.deep.equal(relaxed);
      // No zone is UTC, as everywhere in mlpipe.
      expect(flat({ at: { $date: '2024-01-02T03:04:05.678' } })).to.deep.equal(relaxed);
      // Before 1970 (canonical form, negative milliseconds).
      expect(flat({ at: { $date: { $numberLong: '-86400000' } } })).to.deep.equal({ at: '1969-12-31T00:00:00.000Z' });
    });

    it('a bad $date names its path', () => {
      const e = failure({ a: { at: { $date: 'yesterday' } } });
      expect(e.pointer).to.equal('/a/at/$date');
      expect(e.column).to.equal('a.at');
      expect(e.problem).to.equal('Extended JSON $date must be an ISO 8601 date (like 2024-01-02T03:04:05Z) or {"$numberLong": "<milliseconds>"}, got "yesterday"');
      expect(failure({ at: { $date: { $numberLong: 'soon' } } }).pointer).to.equal('/at/$date/$numberLong');
      expect(failure({ at: { $date: { $numberLong: '999999999999999999' } } }).problem).to.contain('outside the years 0–9999');
      expect(failure({ at: { $date: true } }).pointer).to.equal('/at/$date');
    });

    it('$numberInt, $numberLong, $numberDouble, $numberDecimal → numbers', () => {
      expect(
        flat({
          i: { $numberInt: '-42' },
          l: { $numberLong: '9007199254740991' },
          d: { $numberDouble: '2.5' },
          e: { $numberDouble: '1e-3' },
          m: { $numberDecimal: '12.30' },
          relaxedInt: 7,
        }),
      ).to.deep.equal({ i: -42, l: 9007199254740991, d: 2.5, e: 0.001, m: 12.3, relaxedInt: 7 });
    });

    it('a 64-bit integer beyond 2^53 stays its exact decimal text', () => {
      expect(flat({ l: { $numberLong: '9223372036854775807' } })).to.deep.equal({ l: '9223372036854775807' });
    });

    it('NaN and ±Infinity (double or decimal) are missing values', () => {
      expect(
        flat({ a: { $numberDouble: 'NaN' }, b: { $numberDouble: 'Infinity' }, c: { $numberDouble: '-Infinity' }, d: { $numberDecimal: 'NaN' }, e: { $numberDecimal: '-Infinity' } }),
      ).to.deep.equal({ a: null, b: null, c: null, d: null, e: null });
    });

    it('a malformed number names its path and the type', () => {
      expect(failure({ n: { $numberInt: '1.5' } }).message).to.equal('/n/$numberInt: Extended JSON $numberInt must hold a whole number as text, got "1.5"');
      expect(failure({ n: { $numberLong: 'x' } }).pointer).to.equal('/n/$numberLong');
      expect(failure({ n: { $numberDouble: 'abc' } }).message).to.equal('/n/$numberDouble: Extended JSON $numberDouble must hold a number as text, got "abc"');
      expect(failure({ n: { $numberDecimal: {} } }).pointer).to.equal('/n/$numberDecimal');
      expect(failure({ n: { $oid: 5 } }).message).to.equal('/n/$oid: Extended JSON $oid must hold a string, got 5');
    });

    it('$symbol and $uuid → their text, $undefined → missing, a UUID $binary → the UUID text', () => {
      expect(flat({ s: { $symbol: 'sym' }, u: { $uuid: '3b241101-e2bb-4255-8caf-4136c566a962' }, x: { $undefined: true } })).to.deep.equal({
        s: 'sym',
        u: '3b241101-e2bb-4255-8caf-4136c566a962',
        x: null,
      });
      const base64 = Buffer.from('3b241101e2bb42558caf4136c566a962', 'hex').toString('base64');
      expect(flat({ id: { $binary: { base64, subType: '04' } } })).to.deep.equal({ id: '3b241101-e2bb-4255-8caf-4136c566a962' });
      expect(flat({ id: { $binary: base64, $type: '03' } })).to.deep.equal({ id: '3b241101-e2bb-4255-8caf-4136c566a962' });
    });

    it('other Extended JSON values are kept as their JSON text, with a note', () => {
      const r = flattenRecord({
        bin: { $binary: { base64: 'AQID', subType: '00' } },
        re: { $regularExpression: { pattern: '^a', options: 'i' } },
        legacy: { $regex: '^a', $options: 'i' },
        ts: { $timestamp: { t: 1, i: 2 } },
        min: { $minKey: 1 },
      });
      expect(r.record).to.deep.equal({
        bin: '{"$binary":{"base64":"AQID","subType":"00"}}',
        re: '{"$regularExpression":{"pattern":"^a","options":"i"}}',
        legacy: '{"$regex":"^a","$options":"i"}',
        ts: '{"$timestamp":{"t":1,"i":2}}',
        min: '{"$minKey":1}',
      });
      expect(r.notes?.map((n) => `${n.column}:${n.kind}`)).to.deep.equal(['bin:$binary', 're:$regularExpression', 'legacy:$regex', 'ts:$timestamp', 'min:$minKey']);
    });

    it('an object with several $ keys that is no Extended JSON type (a DBRef) is an ordinary nested object', () => {
      expect(flat({ owner: { $ref: 'users', $id: { $oid: '65a1b2c3d4e5f60718293a4b' } } })).to.deep.equal({
        'owner.$ref': 'users',
        'owner.$id': '65a1b2c3d4e5f60718293a4b',
      });
    });
  });

  it(`refuses nesting deeper than ${MAX_DEPTH} levels, naming the path`, () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_DEPTH + 5; i++) deep = { k: deep };
    const e = failure({ root: deep });
    expect(e.problem).to.equal(`nested more than ${MAX_DEPTH} levels deep`);
    expect(e.pointer.startsWith('/root/k/k/')).to.equal(true);
    let deepArray: unknown = 1;
    for (let i = 0; i < MAX_DEPTH + 5; i++) deepArray = [deepArray];
    expect(failure({ a: deepArray }).problem).to.equal(`nested more than ${MAX_DEPTH} levels deep`);
  });
});

describe('hasNestedValue', () => {
  it('is true only when some value is an object or an array', () => {
    expect(hasNestedValue({ a: 1, b: 'x', c: null, d: true })).to.equal(false);
    expect(hasNestedValue({})).to.equal(false);
    expect(hasNestedValue({ a: 1, b: { c: 1 } })).to.equal(true);
    expect(hasNestedValue({ a: [] })).to.equal(true);
    expect(hasNestedValue({ a: { $oid: 'x' } })).to.equal(true);
  });
});

describe('originalPointer', () => {
  const r = flattenRecord({ id: 1, record: { high: 'x', 'a/b': 2 }, meta: {}, deep: { x: { y: 1 } } });

  it('maps a flat name made from nested keys back to its nested path', () => {
    expect(originalPointer(r, '/record.high')).to.equal('/record/high');
    expect(originalPointer(r, '/record.a~1b')).to.equal('/record/a~1b');
    expect(originalPointer(r, '/deep.x.y')).to.equal('/deep/x/y');
  });

  it('a missing name under a nested object the record has → the path under it', () => {
    expect(originalPointer(r, '/record.low')).to.equal('/record/low');
    expect(originalPointer(r, '/meta.source')).to.equal('/meta/source');
    expect(originalPointer(r, '/deep.x.z')).to.equal('/deep/x/z');
  });

  it('leaves every other pointer as it is', () => {
    expect(originalPointer(r, '/id')).to.equal('/id');
    expect(originalPointer(r, '/other.name')).to.equal('/other.name');
    expect(originalPointer(r, '')).to.equal('');
  });
});

// Cases found by the property tests (flatten.reliability.test.ts).
describe('flattening: empty keys and dotted top-level names', () => {
  it('a value nested under an empty key is a nested name (".a"), not the top-level "a"', () => {
    const flat = flattenRecord({ '': { a: 1, '': false }, a: 2 });
    expect(flat.record).to.deep.equal({ '.a': 1, '.': false, a: 2 });
    expect(originalPointer(flat, '/.a')).to.equal('//a');
    expect(originalPointer(flat, '/.')).to.equal('//');
    expect(originalPointer(flat, '/a')).to.equal('/a');
  });

  it('a top-level name with a dot stays where it is, even beside a nested object it looks to be under', () => {
    const flat = flattenRecord({ b: { x: 1 }, 'b.c': 0 });
    expect(flat.record).to.deep.equal({ 'b.x': 1, 'b.c': 0 });
    expect(originalPointer(flat, '/b.c')).to.equal('/b.c');
    expect(originalPointer(flat, '/b.x')).to.equal('/b/x');
    // A name the record lacks is still placed under the object.
    expect(originalPointer(flat, '/b.d')).to.equal('/b/d');
  });
});
