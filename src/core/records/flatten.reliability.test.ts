/**
 * Property tests of flattening (issue 11): any JSON record (with Extended JSON wrappers, keys holding
 * `.`, `/`, `~`, `__proto__` or nothing, nesting up to and beyond the depth limit) flattens to a record
 * of scalars or throws a FlattenError, never anything else and never a stack overflow; every flat name
 * maps back, through `originalPointer`, to a JSON pointer that resolves in the original record to the
 * value the flat record holds (or the array or Extended JSON value it was made from); a batch of
 * records collected by the RecordCollector equals flattening each record alone.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { byScale, countReliability } from '../../test-helpers/reliability.js';
import { DataError } from '../errors.js';
import { type FlatRecord, FlattenError, MAX_DEPTH, flattenRecord, hasNestedValue, originalPointer } from './flatten.js';
import { RecordCollector } from '../data/sources/records.js';

const RUNS = byScale(1000, 20_000);

/** An object from entries, every key an own property (`__proto__` too, as JSON.parse makes it). */
function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

const key = fc.oneof(
  { arbitrary: fc.constantFrom('a', 'b', 'a.b', 'b.c', '', '.', 'x/y', '~', '~1', '~0/', '__proto__', 'constructor', 'toString', '$oid', '$date', '$x', 'é', '😀'), weight: 3 },
  { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
);
const scalar = fc.oneof(fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.string({ maxLength: 8 }));
const wrapper = fc.oneof(
  fc.string({ maxLength: 24 }).map(($oid) => ({ $oid })),
  fc.date({ min: new Date(-70_000_000_000_000), max: new Date(300_000_000_000_000), noInvalidDate: true }).map((d) => ({ $date: d.toISOString() })),
  fc.integer({ min: -1e15, max: 1e15 }).map((ms) => ({ $date: { $numberLong: String(ms) } })),
  fc.double({ noNaN: true }).map(($date) => ({ $date })),
  fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n }).map(String), fc.constantFrom('1.5', 'x', ' 7 ', '')).map(($numberLong) => ({ $numberLong })),
  fc.oneof(fc.double().map(String), fc.constantFrom('NaN', '-Infinity', '1e400', 'abc', '')).map(($numberDecimal) => ({ $numberDecimal })),
  fc.oneof(fc.integer().map(String), fc.constantFrom('1.5', 'x')).map(($numberInt) => ({ $numberInt })),
  fc.constantFrom({ $undefined: true }, { $minKey: 1 }, { $regex: 'a+', $options: 'i' }, { $binary: { base64: 'AAAAAAAAAAAAAAAAAAAAAA==', subType: '04' } }, { $binary: 'AAAA', $type: '00' }, { $timestamp: { t: 1, i: 2 } }),
  // Wrappers holding the wrong thing.
  fc.tuple(fc.constantFrom('$oid', '$date', '$numberLong', '$numberDecimal', '$numberInt', '$uuid'), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) => objectOf([[k, v]])),
);
const { value } = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, wrapper, tie('object'), fc.array(tie('value'), { maxLength: 3 }), fc.jsonValue({ maxDepth: 3 })),
  object: fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(objectOf),
}));
const record = fc.array(fc.tuple(key, value), { maxLength: 6 }).map(objectOf);

/** A value nested `depth` levels deep (objects, arrays, or both), built without recursion. */
function deep(depth: number, kind: 'object' | 'array' | 'mixed', leaf: unknown): unknown {
  let v = leaf;
  for (let d = 0; d < depth; d++) v = kind === 'array' || (kind === 'mixed' && d % 2) ? [v] : objectOf([[d % 3 ? 'k' : 'a.b', v]]);
  return v;
}
const deepRecord = fc
  .tuple(fc.constantFrom(MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 2, 1_000, 100_000), fc.constantFrom('object', 'array', 'mixed') as fc.Arbitrary<'object' | 'array' | 'mixed'>, fc.oneof(scalar, wrapper))
  .map(([depth, kind, leaf]) => objectOf([['top', deep(depth, kind, leaf)]]));

/** The value a JSON pointer names in `doc`, or `missing`. */
const missing = Symbol('missing');
function resolve(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let v = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const t = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, t)) return missing;
    v = (v as Record<string, unknown>)[t];
  }
  return v;
}

function token(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Flattens, failing on anything thrown but a FlattenError. */
function flatten(r: Record<string, unknown>): FlatRecord | FlattenError {
  try {
    return flattenRecord(r);
  } catch (err) {
    if (err instanceof FlattenError) return err;
    throw err;
  }
}

/** Every flat name leads back to where its value is in the record. */
function expectPointersResolve(r: Record<string, unknown>, flat: FlatRecord): void {
  for (const name of Object.keys(flat.record)) {
    const pointer = originalPointer(flat, `/${token(name)}`);
    const original = resolve(r, pointer);
    const got = flat.record[name];
    const where = `${JSON.stringify(name)} → ${pointer}`;
    expect(original, `${where} resolves`).to.not.equal(missing);
    if (original === null || typeof original !== 'object') {
      expect(Object.is(original, got), `${where}: ${String(original)} vs ${String(got)}`).to.equal(true);
      continue;
    }
    // An array or Extended JSON value: what flattening it alone makes of it.
    const alone = flattenRecord(objectOf([['v', original]])).record.v;
    expect(Object.is(alone, got), `${where}: ${String(alone)} vs ${String(got)}`).to.equal(true);
  }
}

describe('flattening properties (reliability)', function () {
  this.timeout(120_000);

  it('any record: a flat record or a FlattenError; every flat name maps back to its value', () => {
    let cases = 0;
    let flattened = 0;
    fc.assert(
      fc.property(record, (r) => {
        cases++;
        const flat = flatten(r);
        if (flat instanceof FlattenError) {
          expect(flat.pointer.startsWith('/'), flat.message).to.equal(true);
          return;
        }
        flattened++;
        for (const v of Object.values(flat.record)) expect(v === null || typeof v !== 'object', 'scalars only').to.equal(true);
        if (!hasNestedValue(r)) expect(flat.record).to.deep.equal({ ...r });
        expectPointersResolve(r, flat);
      }),
      { numRuns: RUNS },
    );
    expect(flattened).to.be.above(cases / 4);
    countReliability('flatten: records and pointers', { cases, passed: cases });
  });

  it('nesting up to and beyond the depth limit: a flat record or a FlattenError, never a stack overflow', () => {
    let cases = 0;
    fc.assert(
      fc.property(deepRecord, (r) => {
        cases++;
        const flat = flatten(r);
        if (flat instanceof FlattenError) expect(flat.problem).to.match(/nested more than|Extended JSON|two values/);
        else expectPointersResolve(r, flat);
      }),
      { numRuns: byScale(100, 1000) },
    );
    countReliability('flatten: deep nesting', { cases, passed: cases });
  });

  it('a batch of records collected together equals each record flattened alone', () => {
    let cases = 0;
    fc.assert(
      fc.property(fc.array(fc.oneof(record, fc.array(fc.tuple(key, scalar), { maxLength: 4 }).map(objectOf)), { maxLength: 8 }), (records) => {
        cases++;
        const batch = new RecordCollector('batch', false, []);
        const alone = records.map(flatten);
        records.forEach((r, i) => {
          const flat = alone[i]!;
          try {
            batch.add(r, i + 1);
            expect(flat, `record ${i + 1} flattens alone`).to.not.be.instanceOf(FlattenError);
          } catch (err) {
            if (!(err instanceof DataError)) throw err;
            expect(flat, `record ${i + 1}: ${err.message}`).to.be.instanceOf(FlattenError);
            expect(err.message).to.include((flat as FlattenError).problem);
          }
        });
        const { columns, rows } = batch.take();
        const kept = alone.filter((f): f is FlatRecord => !(f instanceof FlattenError));
        expect(rows).to.have.length(kept.length);
        rows.forEach((row, i) => {
          const want = kept[i]!.record;
          columns.forEach((c, j) => expect(Object.is(row[j], Object.hasOwn(want, c) ? want[c] : undefined), `row ${i}, column ${JSON.stringify(c)}`).to.equal(true));
          for (const c of Object.keys(want)) expect(columns).to.include(c);
        });
      }),
      { numRuns: byScale(500, 10_000) },
    );
    countReliability('flatten: batch = each alone', { cases, passed: cases });
  });
});
