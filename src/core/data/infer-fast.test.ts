import { expect } from 'chai';
import { type ColumnType, MISSING_TOKENS, toCell } from '../values.js';
import { TypeInferrer, type TypedChunk, hasInnerSpace } from './infer.js';
import type { TextRows } from './sources/types.js';
import { StringCounts } from './string-counts.js';
import { mulberry32, pick } from '../../test-helpers/random.js';

/**
 * The inferrer's chunk paths (values as spans of a text, values as strings) against feeding the same
 * values one by one to `add`, on seeded random columns: same type, same distinct count, and typed
 * values equal to what `toCell` makes of each value.
 */

/** A value of a column that is mostly of one kind, with now and then a missing token, white space or an odd one out. */
function value(rnd: () => number, kind: string): string {
  const r = rnd();
  if (r < 0.06) return pick(rnd, [...MISSING_TOKENS, ' NA ', '\u00a0']);
  if (r < 0.08) return pick(rnd, ['oops', 'x y', '12abc', 'true', '2024-02-30', '1e999', ' 7 ']);
  switch (kind) {
    case 'integer':
      return String(Math.floor(rnd() * 2000) - 1000);
    case 'number':
      return (rnd() * 100 - 50).toFixed(Math.floor(rnd() * 4));
    case 'datetime':
      return new Date(Date.UTC(1990 + Math.floor(rnd() * 40), 0, 1) + Math.floor(rnd() * 3e10)).toISOString().slice(0, pick(rnd, [10, 16, 19, 24]));
    case 'boolean':
      return pick(rnd, ['true', 'False', 'yes', 'NO']);
    case 'text':
      return `${pick(rnd, ['The', 'A', 'One'])} review number ${Math.floor(rnd() * 1000)} says it is ${pick(rnd, ['fine', 'slow', 'great'])}`;
    default:
      return pick(rnd, ['red', 'green', 'blue', 'dark red', 'x', 'y\u2003z']);
  }
}

/** The values as spans of one text (every other value padded, as a CSV text would have them around delimiters). */
function asSpans(values: string[]): TextRows {
  let text = '';
  const starts = new Int32Array(values.length);
  const ends = new Int32Array(values.length);
  values.forEach((v, i) => {
    text += i % 2 === 0 ? ',' : ';;';
    starts[i] = text.length;
    text += v;
    ends[i] = text.length;
  });
  return { text, rowCount: values.length, width: 1, starts, ends };
}

function state(inferrer: TypeInferrer): { type: ColumnType; distinct: number; capped: boolean } {
  return { type: inferrer.result(), distinct: inferrer.distinctCount, capped: inferrer.distinctCapped };
}

/** The typed values of a chunk are what toCell makes of each value, for the types they are given for. */
let sections = 0;
function expectTyped(typed: TypedChunk, values: string[], where: string): void {
  if (typed.numbers || typed.datetimes || typed.booleans) sections++;
  const check = (type: ColumnType, got: ArrayLike<unknown> | undefined) => {
    if (!got) return;
    values.forEach((v, i) => {
      const cell = toCell(type, v);
      const want = cell === null && type !== 'boolean' ? Number.NaN : cell;
      if (!Object.is(got[i], want)) expect.fail(`${where}: ${type} of ${JSON.stringify(v)} is ${String(got[i])}, toCell gives ${String(want)}`);
    });
  };
  check('number', typed.numbers);
  check('datetime', typed.datetimes);
  check('boolean', typed.booleans);
}

describe('TypeInferrer chunk paths agree with add()', () => {
  it('spans and strings give the type, distinct count and typed values of adding one by one', () => {
    const rnd = mulberry32(5);
    const kinds = ['integer', 'number', 'datetime', 'boolean', 'text', 'category'];
    for (let round = 0; round < 300; round++) {
      const kind = pick(rnd, kinds);
      const cap = rnd() < 0.2 ? 5 : 100_000;
      const chunks = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => Array.from({ length: Math.floor(rnd() * 60) }, () => value(rnd, kind)));
      const one = new TypeInferrer(cap);
      const bySpans = new TypeInferrer(cap);
      const byStrings = new TypeInferrer(cap);
      for (const [c, values] of chunks.entries()) {
        for (const v of values) one.add(v);
        const where = `round ${round} (${kind}), chunk ${c}: ${JSON.stringify(values)}`;
        expectTyped(bySpans.addSpans(asSpans(values), 0), values, where);
        expectTyped(byStrings.addChunk(values, values.length), values, where);
        expect(state(bySpans), where).to.deep.equal(state(one));
        expect(state(byStrings), where).to.deep.equal(state(one));
      }
    }
    // Typed values were given (and checked) for many chunks.
    expect(sections).to.be.above(200);
  });

  it('hasInnerSpace is /\\s/ on the trimmed span, for every kind of white space', () => {
    const rnd = mulberry32(9);
    const chars = ['a', 'b', ' ', '\t', '\n', '\v', '\f', '\r', '\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u200b', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', '\u0085', 'é'];
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const length = Math.floor(rnd() * 8);
      for (let k = 0; k < length; k++) s += pick(rnd, chars);
      const text = `x${s}y`;
      if (hasInnerSpace(text, 1, 1 + s.length) !== /\s/.test(s.trim())) expect.fail(`hasInnerSpace(${JSON.stringify(s)})`);
    }
  });

  it('StringCounts counts like a Map of strings, by string or by span, with a cap', () => {
    const rnd = mulberry32(31);
    for (let round = 0; round < 50; round++) {
      const cap = rnd() < 0.3 ? 1 + Math.floor(rnd() * 40) : 100_000;
      const counts = new StringCounts();
      const reference = new Map<string, number>();
      let refused = 0;
      let refusedByReference = 0;
      for (let i = 0; i < 2000; i++) {
        let v = '';
        const length = Math.floor(rnd() * (rnd() < 0.5 ? 3 : 30));
        for (let k = 0; k < length; k++) v += pick(rnd, ['a', 'b', 'c', 'é', '😀', ' ', 'Z']);
        const accepted = rnd() < 0.5 ? counts.count(v, cap) : counts.countSpan(`xy${v}z`, 2, 2 + v.length, cap);
        if (!accepted) refused++;
        const seen = reference.get(v);
        if (seen !== undefined) reference.set(v, seen + 1);
        else if (reference.size < cap) reference.set(v, 1);
        else refusedByReference++;
      }
      expect(counts.size).to.equal(reference.size);
      expect(new Map(counts)).to.deep.equal(reference);
      expect(refused).to.equal(refusedByReference);
    }
  });
});
