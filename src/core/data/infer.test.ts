import { expect } from 'chai';
import { type ColumnType, toCell } from '../values.js';
import { TypeInferrer } from './infer.js';

function infer(values: unknown[]): ColumnType {
  const inferrer = new TypeInferrer();
  for (const v of values) inferrer.add(v);
  return inferrer.result();
}

describe('TypeInferrer', () => {
  it('boolean: true/false/yes/no strings in any case, and JSON booleans', () => {
    expect(infer(['true', 'False', 'yes', 'NO', ''])).to.equal('boolean');
    expect(infer([true, false, null, true])).to.equal('boolean');
    expect(infer(['TRUE', false])).to.equal('boolean');
  });

  it('integer: integer literals and JSON integers (0/1 is integer, not boolean)', () => {
    expect(infer(['1', '-2', '+3', 'NA', '007'])).to.equal('integer');
    expect(infer([1, 2, 3, null])).to.equal('integer');
    expect(infer(['0', '1', '1', '0'])).to.equal('integer');
    expect(infer([1, '2'])).to.equal('integer');
  });

  it('number: decimals, exponents, and integers beyond the safe range', () => {
    expect(infer(['1', '2.5', '1e3'])).to.equal('number');
    expect(infer([1, 2.5])).to.equal('number');
    expect(infer([1.5, '2'])).to.equal('number');
    expect(infer(['9007199254740993', '1'])).to.equal('number');
    expect(infer([2 ** 60])).to.equal('number');
  });

  it('datetime: date and date-time strings', () => {
    expect(infer(['2024-03-05', '2024-03-06T10:00:00Z', 'NA', '2024/03/07 08:15'])).to.equal('datetime');
  });

  it('a column with one impossible date is not a datetime', () => {
    expect(infer(['2024-03-05', '2023-02-29'])).to.equal('category');
  });

  it('category: short or repeating strings', () => {
    expect(infer(['red', 'blue', 'red', 'green'])).to.equal('category');
    expect(infer(['New York', 'San Francisco', 'Los Angeles'])).to.equal('category');
    // Long, spaced, but repeating values are still categories.
    const sentence = 'the quick brown fox jumps over the lazy dog';
    expect(infer([sentence, sentence, sentence, 'another long sentence with several words'])).to.equal('category');
    // Long unique values without spaces (hashes, ids) are categories, not text.
    expect(infer(['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)])).to.equal('category');
  });

  it('text: long, mostly spaced, mostly unique strings', () => {
    expect(
      infer([
        'The product arrived on time and works well.',
        'Terrible packaging, the box was crushed on arrival.',
        'Would buy again, but the manual is hard to follow.',
        'NA',
      ]),
    ).to.equal('text');
  });

  it('mixed JSON types fall back to category', () => {
    expect(infer([1, 'a', true])).to.equal('category');
    expect(infer([true, 1])).to.equal('category');
    expect(infer(['yes', 1])).to.equal('category');
    // A number among date strings is not a date.
    expect(infer([1_700_000_000_000, '2024-03-05'])).to.equal('category');
    expect(infer(['2024-03-05', 1_700_000_000_000])).to.equal('category');
  });

  it('an all-missing column is a category with no distinct values', () => {
    const inferrer = new TypeInferrer();
    for (const v of [null, undefined, '', 'NA', ' ', '?', Number.NaN]) inferrer.add(v);
    expect(inferrer.result()).to.equal('category');
    expect(inferrer.distinctCount).to.equal(0);
    expect(new TypeInferrer().result()).to.equal('category');
  });

  it('numeric strings mixed with missing tokens stay numeric', () => {
    const inferrer = new TypeInferrer();
    for (const v of ['1.5', '?', 'n/a', '2', ' ', 'NaN', '#N/A', '1.5']) inferrer.add(v);
    expect(inferrer.result()).to.equal('number');
    // A numeric column keeps no set of its values: the count is the upper bound (3 values, 2 distinct).
    expect(inferrer.distinctCount).to.equal(3);
    expect(inferrer.distinctCapped).to.equal(true);
    expect(infer(['3', 'NULL', '-4', 'None'])).to.equal('integer');
  });

  it('counts distinct non-missing values', () => {
    const inferrer = new TypeInferrer();
    for (const v of ['a', 'b', 'a', null, 'c', 'b']) inferrer.add(v);
    expect(inferrer.distinctCount).to.equal(3);
  });
});

describe('TypeInferrer with a distinct-value cap (bounded memory)', () => {
  function inferCapped(values: unknown[], cap: number): { type: ColumnType; distinct: number; capped: boolean } {
    const inferrer = new TypeInferrer(cap);
    for (const v of values) inferrer.add(v);
    return { type: inferrer.result(), distinct: inferrer.distinctCount, capped: inferrer.distinctCapped };
  }

  it('gives exactly the uncapped result for columns under the cap', () => {
    const columns: unknown[][] = [
      ['red', 'blue', 'red', 'green'],
      ['The product arrived on time and works well.', 'Terrible packaging, the box was crushed on arrival.', 'Would buy again, but the manual is hard to follow.'],
      ['a', 1, true],
    ];
    for (const values of columns) {
      const distinct = new Set(values.map(String)).size;
      expect(inferCapped(values, distinct), JSON.stringify(values)).to.deep.equal({ type: infer(values), distinct, capped: false });
    }
    // Typed columns (numbers, dates, booleans) keep no distinct values: their count is the number of values.
    const typed: unknown[][] = [
      ['1', '2', '2', '3'],
      ['2024-03-05', '2024-03-06'],
      [true, false],
    ];
    for (const values of typed) {
      expect(inferCapped(values, 2), JSON.stringify(values)).to.deep.equal({ type: infer(values), distinct: values.length, capped: true });
    }
  });

  it('starts counting distinct values when a column stops looking typed, counting the earlier values as distinct', () => {
    // 1, 2, 2 while it could be integer (3 values, not remembered), then x, y, x: 2 distinct.
    expect(inferCapped(['1', '2', '2', 'x', 'y', 'x'], 100)).to.deep.equal({ type: 'category', distinct: 5, capped: true });
    // Text is still told from categories when the first values looked like dates.
    const reviews = Array.from({ length: 20 }, (_, i) => `Review number ${i} says the product is fine but slow.`);
    expect(inferCapped(['2024-03-05', ...reviews], 100).type).to.equal('text');
    expect(inferCapped(['2024-03-05', ...reviews.map(() => 'the same long sentence with many spaces in it')], 100).type).to.equal('category');
  });

  it('past the cap, stops remembering and counts unseen values as new (an upper bound)', () => {
    const r = inferCapped(['a', 'b', 'c', 'd', 'a', 'e', 'd'], 3);
    // a, b, c remembered; d, e, d counted as new
    expect(r).to.deep.equal({ type: 'category', distinct: 6, capped: true });
  });

  it('still tells free text from categories past the cap', () => {
    const sentences = Array.from({ length: 50 }, (_, i) => `Review number ${i} says the product is fine but slow.`);
    expect(inferCapped(sentences, 10).type).to.equal('text');
    const repeated = Array.from({ length: 50 }, (_, i) => `Category with spaces number ${i % 3} and more words`);
    expect(inferCapped(repeated, 2).type).to.equal('category');
  });

  it('a bigint is an integer (or a number beyond 2^53), a Date a datetime', () => {
    expect(infer([1n, 2n])).to.equal('integer');
    expect(infer([2n ** 60n])).to.equal('number');
    expect(infer([new Date(0), new Date(1e12)])).to.equal('datetime');
  });

  // Cases found by the property tests (infer.reliability.test.ts): the inferred type reads every value.
  it('±Infinity makes a column of numbers a category (no number column holds it), read as its text', () => {
    expect(infer([1.5, Number.POSITIVE_INFINITY])).to.equal('category');
    expect(infer([Number.NEGATIVE_INFINITY, 2])).to.equal('category');
    expect(toCell('category', Number.POSITIVE_INFINITY)).to.equal('Infinity');
  });

  it('an invalid Date (a zero date) is no date and throws nothing', () => {
    expect(infer([new Date(Number.NaN)])).to.equal('category');
    expect(infer([new Date(0), new Date(Number.NaN)])).to.equal('category');
  });

  it('a Date in a category column (a spreadsheet column of dates and text) is read as its ISO text', () => {
    expect(infer([new Date(0), 'unknown'])).to.equal('category');
    expect(toCell('category', new Date(0))).to.equal('1970-01-01T00:00:00.000Z');
    expect(toCell('text', new Date(0))).to.equal('1970-01-01T00:00:00.000Z');
  });
});
