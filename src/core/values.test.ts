import { expect } from 'chai';
import {
  CellError,
  type ColumnType,
  COLUMN_TYPES,
  MISSING_TOKENS,
  isIntegerText,
  isMissing,
  parseBoolean,
  parseDatetime,
  parseNumber,
  toCell,
} from './values.js';

/** The CellError thrown by `toCell(type, raw)`; fails the test when it returns instead. */
function cellError(type: ColumnType, raw: unknown): CellError {
  try {
    const cell = toCell(type, raw);
    expect.fail(`toCell(${type}, ${String(raw)}) returned ${JSON.stringify(cell)} instead of throwing`);
  } catch (err) {
    expect(err).to.be.instanceOf(CellError);
    return err as CellError;
  }
}

describe('values', () => {
  describe('isMissing', () => {
    it("reads every one of pandas' default NA tokens as missing", () => {
      const pandas = [
        '', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A',
        'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null',
      ];
      for (const token of pandas) expect(isMissing(token), JSON.stringify(token)).to.equal(true);
      expect([...MISSING_TOKENS].sort()).to.deep.equal([...pandas, '?'].sort());
    });

    it("reads '?' (the UCI marker) as missing", () => {
      expect(isMissing('?')).to.equal(true);
      expect(isMissing(' ? ')).to.equal(true);
    });

    it('ignores surrounding whitespace, so blank strings are missing', () => {
      expect(isMissing('   ')).to.equal(true);
      expect(isMissing('\t')).to.equal(true);
      expect(isMissing('  NA ')).to.equal(true);
      expect(isMissing(' null\t')).to.equal(true);
    });

    it('reads null, undefined and NaN as missing', () => {
      expect(isMissing(null)).to.equal(true);
      expect(isMissing(undefined)).to.equal(true);
      expect(isMissing(Number.NaN)).to.equal(true);
    });

    it('keeps real values, including ones that only resemble a token', () => {
      for (const v of [0, -1, false, true, 'x', '0', 'na', 'NONE', 'Null ', '??', 'N A', {}, []]) {
        expect(isMissing(v), JSON.stringify(v)).to.equal(false);
      }
      expect(isMissing(Number.POSITIVE_INFINITY)).to.equal(false);
    });
  });

  describe('parseNumber', () => {
    it('parses decimal notation with optional sign', () => {
      expect(parseNumber('3.14')).to.equal(3.14);
      expect(parseNumber('-2')).to.equal(-2);
      expect(parseNumber('+7')).to.equal(7);
      expect(parseNumber('0')).to.equal(0);
      expect(parseNumber('.5')).to.equal(0.5);
      expect(parseNumber('-.5')).to.equal(-0.5);
      expect(parseNumber('5.')).to.equal(5);
      expect(parseNumber(' 42 ')).to.equal(42);
      expect(parseNumber('007')).to.equal(7);
    });

    it('parses scientific notation', () => {
      expect(parseNumber('1e3')).to.equal(1000);
      expect(parseNumber('1.5E-2')).to.equal(0.015);
      expect(parseNumber('-2.5e+2')).to.equal(-250);
      expect(parseNumber('6.02e23')).to.equal(6.02e23);
    });

    it('rejects what is not a plain finite number', () => {
      for (const text of ['1,5', '', ' ', 'Infinity', '-Infinity', 'NaN', '0x10', '0b1', '1e', 'e5', '1e400', 'abc', '1 2', '1..2', '--1', '1_000', '.']) {
        expect(parseNumber(text), JSON.stringify(text)).to.be.NaN;
      }
    });
  });

  describe('isIntegerText', () => {
    it('accepts signed integer literals, with surrounding whitespace', () => {
      for (const text of ['42', '-7', '+3', ' 5 ', '0', '007', '9007199254740991', '-9007199254740991']) {
        expect(isIntegerText(text), text).to.equal(true);
      }
    });

    it('rejects decimals, exponents, blanks and integers beyond the safe range', () => {
      for (const text of ['1.0', '1.', '1e3', '', ' ', 'x', '1,000', '9007199254740992', '9007199254740993', '-9007199254740993']) {
        expect(isIntegerText(text), text).to.equal(false);
      }
    });
  });

  describe('parseBoolean', () => {
    it('parses true/false/yes/no in any letter case, trimmed', () => {
      expect(parseBoolean('true')).to.equal(true);
      expect(parseBoolean('TRUE')).to.equal(true);
      expect(parseBoolean('Yes')).to.equal(true);
      expect(parseBoolean(' yes ')).to.equal(true);
      expect(parseBoolean('false')).to.equal(false);
      expect(parseBoolean('False')).to.equal(false);
      expect(parseBoolean('NO')).to.equal(false);
      expect(parseBoolean('\tno')).to.equal(false);
    });

    it('returns undefined for anything else', () => {
      for (const text of ['1', '0', 'y', 'n', 't', 'f', 'on', 'off', '', 'truee', 'yes!']) {
        expect(parseBoolean(text), text).to.equal(undefined);
      }
    });
  });

  describe('parseDatetime', () => {
    it('reads a date alone as midnight UTC, with - or / separators', () => {
      expect(parseDatetime('2024-03-05')).to.equal(Date.UTC(2024, 2, 5));
      expect(parseDatetime('2024/03/05')).to.equal(Date.UTC(2024, 2, 5));
      expect(parseDatetime('2024-3-5')).to.equal(Date.UTC(2024, 2, 5));
      expect(parseDatetime(' 2024-03-05 ')).to.equal(Date.UTC(2024, 2, 5));
    });

    it('reads dates with English month names, month or day first, with an optional time', () => {
      const d = Date.UTC(1998, 5, 12);
      for (const t of ['Jun 12 1998', 'June 12, 1998', 'jun. 12 1998', '12 Jun 1998', '12-Jun-1998', '12 June, 1998']) expect(parseDatetime(t), t).to.equal(d);
      expect(parseDatetime('Sept 1 2020')).to.equal(Date.UTC(2020, 8, 1));
      expect(parseDatetime('Jun 12 1998 14:30:00Z')).to.equal(Date.UTC(1998, 5, 12, 14, 30));
      for (const t of ['Junk 12 1998', 'Ju 12 1998', 'Feb 30 2020', '12 Foo 1998', '2024-03/05', '03/05/2024']) expect(parseDatetime(t), t).to.be.NaN;
    });

    it('accepts a space or a T between date and time', () => {
      const expected = Date.UTC(2024, 2, 5, 14, 30);
      expect(parseDatetime('2024-03-05 14:30')).to.equal(expected);
      expect(parseDatetime('2024-03-05T14:30')).to.equal(expected);
      expect(parseDatetime('2024-03-05t14:30')).to.equal(expected);
      expect(parseDatetime('2024-03-05 9:05')).to.equal(Date.UTC(2024, 2, 5, 9, 5));
    });

    it('reads seconds and fractions of a second (to the millisecond)', () => {
      expect(parseDatetime('2024-03-05T14:30:15')).to.equal(Date.UTC(2024, 2, 5, 14, 30, 15));
      expect(parseDatetime('2024-03-05T14:30:15.5')).to.equal(Date.UTC(2024, 2, 5, 14, 30, 15, 500));
      expect(parseDatetime('2024-03-05T14:30:15.123')).to.equal(Date.UTC(2024, 2, 5, 14, 30, 15, 123));
      expect(parseDatetime('2024-03-05T14:30:15.123456789')).to.equal(Date.UTC(2024, 2, 5, 14, 30, 15, 123));
      expect(parseDatetime('2024-03-05T14:30:15,25')).to.equal(Date.UTC(2024, 2, 5, 14, 30, 15, 250));
      for (let ms = 0; ms < 1000; ms += 1) {
        const text = `2024-03-05T00:00:00.${String(ms).padStart(3, '0')}`;
        expect(parseDatetime(text), text).to.equal(Date.UTC(2024, 2, 5, 0, 0, 0, ms));
      }
    });

    it('reads Z as UTC and applies ±hh:mm, ±hhmm and ±hh offsets', () => {
      const utc = Date.UTC(2024, 2, 5, 12, 30);
      expect(parseDatetime('2024-03-05T12:30:00Z')).to.equal(utc);
      expect(parseDatetime('2024-03-05T12:30:00z')).to.equal(utc);
      // 14:30 at +02:00 is 12:30 UTC; 07:00 at -05:30 is 12:30 UTC.
      expect(parseDatetime('2024-03-05T14:30:00+02:00')).to.equal(utc);
      expect(parseDatetime('2024-03-05T14:30:00+0200')).to.equal(utc);
      expect(parseDatetime('2024-03-05T14:30:00+02')).to.equal(utc);
      expect(parseDatetime('2024-03-05T07:00:00-05:30')).to.equal(utc);
      expect(parseDatetime('2024-03-05T07:00-0530')).to.equal(utc);
      expect(parseDatetime('2024-03-05T18:15:00+05:45')).to.equal(utc);
      expect(parseDatetime('2024-03-05 14:30:00 +02:00')).to.equal(utc);
      expect(parseDatetime('2024-03-05T12:30:00.250-00:00')).to.equal(utc + 250);
      // An offset can move the instant to another day.
      expect(parseDatetime('2024-03-01T01:00:00+03:00')).to.equal(Date.UTC(2024, 1, 29, 22));
      // Agrees with the platform's own ISO parser.
      expect(parseDatetime('2024-03-05T14:30:00.123+09:30')).to.equal(Date.parse('2024-03-05T14:30:00.123+09:30'));
    });

    it('keeps years below 100 as written (no 19xx mapping)', () => {
      expect(parseDatetime('0050-06-15T12:00:00Z')).to.equal(Date.parse('0050-06-15T12:00:00Z'));
      expect(new Date(parseDatetime('0050-06-15')).getUTCFullYear()).to.equal(50);
      expect(new Date(parseDatetime('0099-12-31')).toISOString()).to.equal('0099-12-31T00:00:00.000Z');
      expect(new Date(parseDatetime('0001-01-01 10:20')).toISOString()).to.equal('0001-01-01T10:20:00.000Z');
      // Year 0 is a leap year in the proleptic Gregorian calendar; 1900 is not.
      expect(new Date(parseDatetime('0000-02-29')).toISOString()).to.equal('0000-02-29T00:00:00.000Z');
      expect(new Date(parseDatetime('0004-02-29T23:59:59Z')).toISOString()).to.equal('0004-02-29T23:59:59.000Z');
      expect(parseDatetime('0001-02-29')).to.be.NaN;
    });

    it('returns NaN for impossible days and times', () => {
      for (const text of [
        '2023-02-29', '2024-02-30', '1900-02-29', '2024-04-31', '2024-13-01', '2024-00-10', '2024-01-00', '2024-01-32',
        '2024-01-01T24:00', '2024-01-01T12:60', '2024-01-01T12:30:61',
      ]) {
        expect(parseDatetime(text), text).to.be.NaN;
      }
    });

    it('accepts real leap days', () => {
      expect(parseDatetime('2024-02-29')).to.equal(Date.UTC(2024, 1, 29));
      expect(parseDatetime('2000-02-29')).to.equal(Date.UTC(2000, 1, 29));
    });

    it('returns NaN for text that is not such a date', () => {
      for (const text of ['', 'abc', '20240305', '05/03/2024', '2024-03/05', '24-03-05', '2024-03-05T', '2024-03-05T14', '2024-03-05T14:30+2', '2024-03-05 14:30 EST']) {
        expect(parseDatetime(text), text).to.be.NaN;
      }
    });
  });

  describe('toCell', () => {
    it('reads a database\'s 64-bit integers (bigint) as numbers, or as text in a category', () => {
      expect(toCell('integer', 42n)).to.equal(42);
      expect(toCell('number', -(2n ** 40n))).to.equal(-(2 ** 40));
      expect(toCell('category', 9007199254740993n)).to.equal('9007199254740993');
    });

    it('turns missing values into null for every column type', () => {
      for (const type of COLUMN_TYPES) {
        for (const raw of [null, undefined, Number.NaN, '', ' ', 'NA', '?', 'null']) {
          expect(toCell(type, raw), `${type} ${String(raw)}`).to.equal(null);
        }
      }
    });

    it('number: accepts numbers and numeric strings', () => {
      expect(toCell('number', 1.5)).to.equal(1.5);
      expect(toCell('number', '1.5')).to.equal(1.5);
      expect(toCell('number', ' -2e3 ')).to.equal(-2000);
      expect(toCell('number', 0)).to.equal(0);
    });

    it('number: names what it got when it refuses a value', () => {
      expect(cellError('number', 'abc').message).to.equal('expected a number, got "abc"');
      expect(cellError('number', '1,5').message).to.equal('expected a number, got "1,5"');
      expect(cellError('number', Number.POSITIVE_INFINITY).message).to.equal('expected a finite number, got Infinity');
      expect(cellError('number', true).message).to.equal('expected a number, got true');
      expect(cellError('number', { a: 1 }).message).to.equal('expected a number, got an object');
      expect(cellError('number', [1]).message).to.equal('expected a number, got an array');
      expect(cellError('number', 'x'.repeat(50)).message).to.equal(`expected a number, got "${'x'.repeat(40)}…"`);
    });

    it('integer: accepts integers as numbers and strings', () => {
      expect(toCell('integer', 42)).to.equal(42);
      expect(toCell('integer', '-7')).to.equal(-7);
      expect(cellError('integer', 'seven').message).to.equal('expected a number, got "seven"');
      expect(cellError('integer', Number.NEGATIVE_INFINITY).message).to.equal('expected a finite number, got -Infinity');
    });

    it('boolean: accepts booleans and true/false/yes/no strings', () => {
      expect(toCell('boolean', true)).to.equal(true);
      expect(toCell('boolean', false)).to.equal(false);
      expect(toCell('boolean', 'Yes')).to.equal(true);
      expect(toCell('boolean', 'FALSE')).to.equal(false);
      expect(cellError('boolean', 'maybe').message).to.equal('expected a boolean (true/false), got "maybe"');
      expect(cellError('boolean', 1).message).to.equal('expected a boolean (true/false), got 1');
      expect(cellError('boolean', {}).message).to.equal('expected a boolean (true/false), got an object');
    });

    it('datetime: accepts date strings, epoch milliseconds and Date objects', () => {
      const t = Date.UTC(2024, 2, 5, 14, 30);
      expect(toCell('datetime', '2024-03-05T14:30:00Z')).to.equal(t);
      expect(toCell('datetime', t)).to.equal(t);
      expect(toCell('datetime', new Date(t))).to.equal(t);
    });

    it('datetime: names what it got when it refuses a value', () => {
      expect(cellError('datetime', 'soon').message).to.equal('expected a date like 2024-03-05, 2024-03-05T14:30:00Z or Mar 5 2024, got "soon"');
      expect(cellError('datetime', '2023-02-29').message).to.equal('expected a date like 2024-03-05, 2024-03-05T14:30:00Z or Mar 5 2024, got "2023-02-29"');
      expect(cellError('datetime', new Date(Number.NaN)).message).to.equal('expected a date, got an invalid Date');
      expect(cellError('datetime', Number.POSITIVE_INFINITY).message).to.equal('expected a date, got Infinity');
      expect(cellError('datetime', true).message).to.equal('expected a date, got true');
      expect(cellError('datetime', ['2024-03-05']).message).to.equal('expected a date, got an array');
    });

    it('category and text: keep strings as they are and stringify numbers and booleans', () => {
      for (const type of ['category', 'text'] as const) {
        expect(toCell(type, 'red')).to.equal('red');
        expect(toCell(type, ' padded ')).to.equal(' padded ');
        expect(toCell(type, 3)).to.equal('3');
        expect(toCell(type, 2.5)).to.equal('2.5');
        expect(toCell(type, false)).to.equal('false');
        expect(cellError(type, { a: 1 }).message).to.equal('expected a string, got an object');
        expect(cellError(type, ['a']).message).to.equal('expected a string, got an array');
        // A spreadsheet's date among a column's text cells: its ISO text (an invalid one is refused).
        expect(toCell(type, new Date(0))).to.equal('1970-01-01T00:00:00.000Z');
        expect(cellError(type, new Date(Number.NaN)).message).to.equal('expected a string, got an object');
      }
    });
  });
});
