import { expect } from 'chai';
import {
  CellError,
  DECLARED_TYPES,
  dayMonthDate,
  declaredTypeProblem,
  joinDeclaredType,
  parseDatetime,
  parseDatetimeGeneral,
  parseDatetimeSpan,
  readDateSpan,
  splitDeclaredType,
  toCell,
} from './values.js';
import { mulberry32, pick } from '../test-helpers/random.js';

/**
 * Numeric dates with the year last (`03/05/2024`, `31.12.2023`, `12-31-2023 14:30`): read only in a
 * day/month order, by a character scanner checked here against a regular-expression reference.
 */

// The reference: the shape as a regular expression (with the TIME part values.ts uses for ISO dates),
// rewritten year first and read by the general ISO reader.
const TIME = '(?:[T ](\\d{1,2}):(\\d{2})(?::(\\d{2})(?:[.,](\\d{1,9}))?)?\\s*(Z|[+-]\\d{2}(?::?\\d{2})?)?)?';
const DAY_MONTH_RE = new RegExp(`^(\\d{1,2})([-/.])(\\d{1,2})\\2(\\d{4})(${TIME})$`, 'i');
function reference(text: string, order: 'mdy' | 'dmy'): number | undefined {
  const m = DAY_MONTH_RE.exec(text.trim());
  if (!m) return undefined;
  const [a, b] = [Number(m[1]), Number(m[3])];
  const [month, day] = order === 'mdy' ? [a, b] : [b, a];
  if (month < 1 || month > 12 || day < 1) return Number.NaN;
  return parseDatetimeGeneral(`${m[4]}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}${m[5]}`);
}

describe('numeric dates with the year last (values.ts)', () => {
  const iso = (text: string) => parseDatetime(text);

  it('read in the order given: mdy reads 03/05/2024 as March 5, dmy as May 3', () => {
    expect(parseDatetime('03/05/2024', 'mdy')).to.equal(iso('2024-03-05'));
    expect(parseDatetime('03/05/2024', 'dmy')).to.equal(iso('2024-05-03'));
    expect(parseDatetime('3/5/2024', 'mdy')).to.equal(iso('2024-03-05'));
    expect(parseDatetime('12/31/2023', 'mdy')).to.equal(iso('2023-12-31'));
    expect(parseDatetime('31/12/2023', 'dmy')).to.equal(iso('2023-12-31'));
  });

  it('take the separators /, - and . (the same one twice)', () => {
    for (const text of ['31/12/2023', '31-12-2023', '31.12.2023']) expect(parseDatetime(text, 'dmy'), text).to.equal(iso('2023-12-31'));
    expect(parseDatetime('12-31-2023', 'mdy')).to.equal(iso('2023-12-31'));
    expect(parseDatetime('31/12-2023', 'dmy')).to.be.NaN;
    expect(parseDatetime('31.12/2023', 'dmy')).to.be.NaN;
  });

  it('take a time, as ISO dates do (seconds, fractions, zones; no zone = UTC)', () => {
    expect(parseDatetime('15/06/2024 14:30', 'dmy')).to.equal(iso('2024-06-15 14:30'));
    expect(parseDatetime('15/06/2024 9:05', 'dmy')).to.equal(iso('2024-06-15 09:05'));
    expect(parseDatetime('06/15/2024T14:30:15.250Z', 'mdy')).to.equal(iso('2024-06-15T14:30:15.250Z'));
    expect(parseDatetime('15.06.2024 14:30:00 +02:00', 'dmy')).to.equal(iso('2024-06-15T12:30:00Z'));
    expect(parseDatetime('15-06-2024 14:30-0130', 'dmy')).to.equal(iso('2024-06-15T16:00:00Z'));
    expect(parseDatetime('15/06/2024 24:00', 'dmy')).to.be.NaN;
    expect(parseDatetime('15/06/2024 14:3', 'dmy')).to.be.NaN;
    expect(parseDatetime('15/06/2024 14:30 and more', 'dmy')).to.be.NaN;
  });

  it('refuse an impossible day in the order given (NaN)', () => {
    expect(parseDatetime('02/30/2024', 'mdy')).to.be.NaN;
    expect(parseDatetime('31/04/2024', 'dmy')).to.be.NaN;
    expect(parseDatetime('02/29/2023', 'mdy')).to.be.NaN;
    expect(parseDatetime('02/29/2024', 'mdy')).to.equal(iso('2024-02-29'));
    expect(parseDatetime('31/12/2023', 'mdy')).to.be.NaN;
    expect(parseDatetime('00/12/2023', 'dmy')).to.be.NaN;
  });

  it('are not dates without an order (as before), and an order changes nothing else', () => {
    expect(parseDatetime('03/05/2024')).to.be.NaN;
    expect(parseDatetime('31/12/2023')).to.be.NaN;
    for (const text of ['2024-06-15', '2024/06/15', '2024-06-15T14:30:00Z', 'Jun 15 2024', '15 Jun 2024', '15-Jun-2024', 'June 15, 2024']) {
      expect(parseDatetime(text, 'dmy'), text).to.equal(iso(text)).and.not.be.NaN;
      expect(parseDatetime(text, 'mdy'), text).to.equal(iso(text));
    }
    expect(parseDatetime('1/2/24', 'mdy')).to.be.NaN;
    expect(parseDatetime('123/1/2024', 'mdy')).to.be.NaN;
  });

  it('read spans of a text without reading past them, trimmed like whole texts', () => {
    const text = 'x,15/06/2024,03/05/2024 10:00,  3/5/2024 ,y';
    expect(parseDatetimeSpan(text, 2, 12, 'dmy')).to.equal(iso('2024-06-15'));
    expect(parseDatetimeSpan(text, 13, 29, 'mdy')).to.equal(iso('2024-03-05 10:00'));
    expect(parseDatetimeSpan(text, 30, 41, 'mdy')).to.equal(iso('2024-03-05'));
    // a span that stops inside the year is no date, whatever follows it
    expect(parseDatetimeSpan(text, 2, 11, 'dmy')).to.be.NaN;
  });

  it('agree with the regular-expression reference on seeded random texts, valid and not', () => {
    const rnd = mulberry32(6);
    const digits = (n: number) => String(Math.floor(rnd() * 10 ** n)).padStart(pick(rnd, [1, n]), '0');
    const part = () => (rnd() < 0.8 ? String(1 + Math.floor(rnd() * 12)).padStart(pick(rnd, [1, 2]), '0') : digits(2));
    let dates = 0;
    for (let k = 0; k < 20_000; k++) {
      const sep = pick(rnd, ['/', '-', '.']);
      const sep2 = rnd() < 0.95 ? sep : pick(rnd, ['/', '-', '.', ' ']);
      let text = `${part()}${sep}${part()}${sep2}${String(1900 + Math.floor(rnd() * 200))}`;
      if (rnd() < 0.5) {
        text += `${pick(rnd, ['T', 't', ' ', '  ', '_'])}${rnd() < 0.8 ? String(Math.floor(rnd() * 24)) : digits(2)}:${String(Math.floor(rnd() * 70)).padStart(2, '0')}`;
        if (rnd() < 0.5) text += `:${String(Math.floor(rnd() * 62)).padStart(2, '0')}${rnd() < 0.3 ? `${pick(rnd, ['.', ','])}${'7'.repeat(Math.floor(rnd() * 11))}` : ''}`;
        if (rnd() < 0.5) text += `${pick(rnd, ['', ' '])}${pick(rnd, ['Z', 'z', '+02:00', '-0530', '+01', '+1', '+02:0', 'Q'])}`;
      }
      if (rnd() < 0.05) text = text.slice(0, Math.floor(rnd() * text.length));
      if (rnd() < 0.05) text = ` ${text}\t`;
      for (const order of ['mdy', 'dmy'] as const) {
        const expected = reference(text, order) ?? parseDatetimeGeneral(text);
        const actual = parseDatetime(text, order);
        if (!Number.isNaN(actual)) dates++;
        expect(Object.is(actual, expected) || (Number.isNaN(actual) && Number.isNaN(expected)), `${JSON.stringify(text)} ${order}: ${actual} vs ${expected}`).to.equal(true);
      }
    }
    expect(dates).to.be.greaterThan(8_000);
  });

  it('readDateSpan (inference) reports a numeric date instead of reading it, and reads every other date as before', () => {
    const dm = dayMonthDate();
    expect(readDateSpan('15/06/2024 10:30', 0, 16, dm)).to.be.NaN;
    expect(dm).to.deep.equal({ matched: true, first: 15, second: 6, year: 2024, time: 10.5 * 3_600_000 });
    expect(readDateSpan('2024-06-15', 0, 10, dm)).to.equal(iso('2024-06-15'));
    expect(dm.matched).to.equal(false);
    expect(readDateSpan('15 Jun 2024', 0, 11, dm)).to.equal(iso('2024-06-15'));
    expect(dm.matched).to.equal(false);
  });

  it('toCell reads a datetime in the column\'s order, and says which order it expected', () => {
    expect(toCell('datetime', '15/06/2024', 'dmy')).to.equal(iso('2024-06-15'));
    expect(toCell('datetime', '2024-06-15', 'mdy')).to.equal(iso('2024-06-15'));
    expect(() => toCell('datetime', '15/06/2024', 'mdy')).to.throw(CellError, 'expected a date as MM/DD/YYYY (the column\'s order) or like 2024-03-05, got "15/06/2024"');
    expect(() => toCell('datetime', '15/06/2024')).to.throw(CellError, 'expected a date like 2024-03-05');
  });

  it('declared types: datetime:mdy and datetime:dmy, and a sentence listing the allowed values otherwise', () => {
    expect(DECLARED_TYPES).to.include.members(['datetime', 'datetime:mdy', 'datetime:dmy', 'category']);
    expect(splitDeclaredType('datetime:dmy')).to.deep.equal({ type: 'datetime', dateOrder: 'dmy' });
    expect(splitDeclaredType('datetime')).to.deep.equal({ type: 'datetime' });
    expect(joinDeclaredType('datetime', 'mdy')).to.equal('datetime:mdy');
    expect(joinDeclaredType('integer', undefined)).to.equal('integer');
    expect(declaredTypeProblem('datetime:dmy')).to.equal(undefined);
    expect(declaredTypeProblem('datetime:ymd')).to.equal(
      'unknown date order "ymd": expected datetime:mdy (month first: 03/05/2024 is March 5) or datetime:dmy (day first: 03/05/2024 is May 3), or datetime to learn the order from the values',
    );
    expect(declaredTypeProblem('date')).to.equal('unknown type "date": expected one of number, integer, boolean, category, datetime, text, datetime:mdy, datetime:dmy');
  });
});
