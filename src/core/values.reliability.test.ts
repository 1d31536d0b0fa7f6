/**
 * Property tests of cell parsing (issue 11): the span variants (reading a value in place inside a
 * larger text, as the CSV loader does) agree with the string variants on any value, and toCell gives a
 * cell or a CellError, never anything else.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { byScale, countReliability } from '../test-helpers/reliability.js';
import {
  CellError,
  type ColumnType,
  isMissing,
  isMissingSpan,
  parseBoolean,
  parseBooleanSpan,
  parseDatetime,
  parseDatetimeSpan,
  parseNumberSpan,
  parseNumberText,
  toCell,
} from './values.js';

const RUNS = byScale(1000, 20000);

/** Values that look like numbers, dates, booleans and missing tokens, or anything. */
const value = fc.oneof(
  fc.double().map(String),
  fc.integer().map((n) => ` ${n} `),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('', 'NA', 'null', 'true', 'False', 'yes', '1e5', '-0', '0x10', '1,000', '03/05/2024', '2024-02-30', ' ', 'NaN', 'Infinity'),
  fc.string({ maxLength: 20 }),
);

/** NaN-safe equality. */
function same(a: unknown, b: unknown): boolean {
  return Object.is(a, b) || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
}

describe('cell parsing properties (reliability)', () => {
  it('span variants agree with the string variants, wherever the value sits in a text', () => {
    let cases = 0;
    fc.assert(
      fc.property(value, fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), fc.constantFrom<'mdy' | 'dmy' | undefined>(undefined, 'mdy', 'dmy'), (v, before, after, order) => {
        cases++;
        const text = before + v + after;
        const a = before.length;
        const b = a + v.length;
        expect(isMissingSpan(text, a, b)).to.equal(isMissing(v));
        expect(parseBooleanSpan(text, a, b)).to.equal(parseBoolean(v));
        const infoSpan = { integer: false };
        const infoText = { integer: false };
        expect(same(parseNumberSpan(text, a, b, infoSpan), parseNumberText(v, infoText)), `number ${JSON.stringify(v)}`).to.equal(true);
        expect(infoSpan.integer).to.equal(infoText.integer);
        expect(same(parseDatetimeSpan(text, a, b, order), parseDatetime(v, order)), `datetime ${JSON.stringify(v)}`).to.equal(true);
      }),
      { numRuns: RUNS },
    );
    countReliability('cell parsing: span variants agree', { cases, passed: cases });
  });

  it('toCell gives a cell or a CellError for any value and type, never anything else', () => {
    let cases = 0;
    const types: ColumnType[] = ['number', 'integer', 'boolean', 'category', 'datetime', 'text'];
    fc.assert(
      fc.property(fc.oneof(value, fc.jsonValue()), fc.constantFrom(...types), fc.constantFrom<'mdy' | 'dmy' | undefined>(undefined, 'mdy', 'dmy'), (raw, type, order) => {
        cases++;
        try {
          toCell(type, raw, order);
        } catch (err) {
          expect(err).to.be.instanceOf(CellError);
        }
      }),
      { numRuns: RUNS },
    );
    countReliability('cell parsing: toCell total', { cases, passed: cases });
  });
});
