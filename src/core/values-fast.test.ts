import { expect } from 'chai';
import {
  MISSING_TOKENS,
  isIntegerText,
  isMissing,
  isMissingSpan,
  numberKind,
  parseBoolean,
  parseBooleanSpan,
  parseDatetime,
  parseDatetimeGeneral,
  parseDatetimeSpan,
  parseNumber,
  parseNumberSpan,
  parseNumberText,
} from './values.js';
import { mulberry32, pick } from '../test-helpers/random.js';

/**
 * The fast paths of values.ts against the definitions they replace (regular expressions, `trim`,
 * Date objects), on seeded random inputs, valid and invalid.
 */

// The definitions before the fast paths.
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER_RE = /^[+-]?\d+$/;
const reference = {
  isMissing: (raw: string) => MISSING_TOKENS.has(raw.trim()),
  parseNumber: (text: string) => {
    const t = text.trim();
    if (!NUMBER_RE.test(t)) return Number.NaN;
    const n = Number(t);
    return Number.isFinite(n) ? n : Number.NaN;
  },
  isIntegerText: (text: string) => {
    const t = text.trim();
    return INTEGER_RE.test(t) && Number.isSafeInteger(Number(t));
  },
  parseBoolean: (text: string) => {
    const t = text.trim().toLowerCase();
    return t === 'true' || t === 'yes' ? true : t === 'false' || t === 'no' ? false : undefined;
  },
};

/** numberKind by its definition. */
const referenceKind = (s: string) => (reference.isIntegerText(s) ? 1 : Number.isNaN(reference.parseNumber(s)) ? 0 : 2);

/** parseNumberText gives parseNumber's value and isIntegerText's answer. */
function sameAsParseNumberText(s: string): boolean {
  const info = { integer: false };
  const v = parseNumberText(s, info);
  return Object.is(v, reference.parseNumber(s)) && info.integer === reference.isIntegerText(s);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** A random ISO-looking date-time, often valid, sometimes with impossible parts. */
function isoLike(rnd: () => number): string {
  const year = rnd() < 0.15 ? Math.floor(rnd() * 100) : rnd() < 0.1 ? Math.floor(rnd() * 10000) : 1890 + Math.floor(rnd() * 150);
  const leapish = rnd() < 0.2;
  const month = leapish ? 2 : rnd() < 0.05 ? pick(rnd, [0, 13, 19]) : 1 + Math.floor(rnd() * 12);
  const day = leapish ? pick(rnd, [28, 29, 30]) : rnd() < 0.1 ? pick(rnd, [0, 31, 32, 39]) : 1 + Math.floor(rnd() * 31);
  let s = `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}`;
  if (rnd() < 0.7) {
    const hour = rnd() < 0.05 ? pick(rnd, [24, 25, 99]) : Math.floor(rnd() * 24);
    const minute = rnd() < 0.05 ? pick(rnd, [60, 61, 99]) : Math.floor(rnd() * 60);
    s += `${pick(rnd, ['T', 't', ' '])}${pad2(hour)}:${pad2(minute)}`;
    if (rnd() < 0.7) {
      s += `:${pad2(rnd() < 0.05 ? pick(rnd, [60, 61, 99]) : Math.floor(rnd() * 60))}`;
      if (rnd() < 0.4) s += `${pick(rnd, ['.', ','])}${String(Math.floor(rnd() * 1e9)).slice(0, 1 + Math.floor(rnd() * 10))}`;
    }
    if (rnd() < 0.5) s += pick(rnd, ['Z', 'z', `+${pad2(Math.floor(rnd() * 15))}`, `-${pad2(Math.floor(rnd() * 15))}:${pad2(Math.floor(rnd() * 60))}`, `+${pad2(Math.floor(rnd() * 15))}${pad2(Math.floor(rnd() * 60))}`, ' +02:00', '+5']);
  }
  return s;
}

/** A random edit: a character deleted, inserted or replaced, white space around, another separator. */
function mutate(rnd: () => number, s: string): string {
  const at = Math.floor(rnd() * (s.length + 1));
  const ch = pick(rnd, ['0', '9', '-', '/', ':', 'T', ' ', '.', 'Z', '+', 'x', '\t', '\u00a0', '5']);
  switch (Math.floor(rnd() * 5)) {
    case 0:
      return s.slice(0, at) + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + ch + s.slice(at);
    case 2:
      return s.slice(0, at) + ch + s.slice(at + 1);
    case 3:
      return pick(rnd, [' ', '\t', '\n', '\u00a0']) + s + pick(rnd, ['', ' ', '\r']);
    default:
      return s.replace(/-/g, '/');
  }
}

describe('values fast paths agree with their definitions', () => {
  it('parseDatetime: the ISO fast path gives what the general path gives (leap years, years 0–99, impossible days, invalid text)', () => {
    const rnd = mulberry32(42);
    let fast = 0;
    let valid = 0;
    for (let i = 0; i < 60_000; i++) {
      const base = isoLike(rnd);
      const text = rnd() < 0.35 ? mutate(rnd, base) : base;
      const got = parseDatetime(text);
      const want = parseDatetimeGeneral(text);
      if (!Object.is(got, want)) expect.fail(`${JSON.stringify(text)}: fast ${got}, general ${want}`);
      if (/^\d{4}-\d\d-\d\d/.test(text)) fast++;
      if (!Number.isNaN(want)) valid++;
    }
    // Both valid and invalid inputs were tried in numbers.
    expect(fast).to.be.above(30_000);
    expect(valid).to.be.above(15_000);
    expect(60_000 - valid).to.be.above(15_000);
  });

  it('parseDatetime: hand-checked leap days and early years', () => {
    expect(parseDatetime('2000-02-29')).to.equal(Date.UTC(2000, 1, 29));
    expect(parseDatetime('1900-02-29')).to.be.NaN;
    expect(parseDatetime('0000-02-29')).to.equal(parseDatetimeGeneral('0000-02-29'));
    expect(Number.isNaN(parseDatetime('0000-02-29'))).to.equal(false);
    expect(parseDatetime('0099-12-31T23:59:60Z')).to.equal(parseDatetimeGeneral('0099-12-31T23:59:60Z'));
    expect(parseDatetime('0001-01-01T00:00:00.999+01:30')).to.equal(parseDatetimeGeneral('0001-01-01T00:00:00.999+01:30'));
  });

  it('isMissing, parseNumber, isIntegerText and parseBoolean on random strings', () => {
    const rnd = mulberry32(7);
    const parts = ['0', '1', '7', '9', '.', '-', '+', 'e', 'E', ' ', '\t', 'N', 'a', 'A', 'n', '/', '#', 'I', 'D', 'Q', '<', '>', '?', 'u', 'l', 'L', 'o', 'T', 'r', 'f', 's', 'y', 'Y', 'é', '\u00a0', 'K'];
    let numbers = 0;
    let missing = 0;
    let booleans = 0;
    const seeds = [...MISSING_TOKENS, 'true', 'FALSE', 'Yes', 'no', '12', '-3.5e7', '9007199254740993', '1e999', '.5', '5.', '+7'];
    for (let i = 0; i < 100_000; i++) {
      let s: string;
      if (rnd() < 0.4) {
        s = pick(rnd, seeds);
        if (rnd() < 0.5) s = mutate(rnd, s);
      } else {
        s = '';
        const length = Math.floor(rnd() * 12);
        for (let k = 0; k < length; k++) s += pick(rnd, parts);
      }
      if (isMissing(s) !== reference.isMissing(s)) expect.fail(`isMissing(${JSON.stringify(s)})`);
      if (!Object.is(parseNumber(s), reference.parseNumber(s))) expect.fail(`parseNumber(${JSON.stringify(s)})`);
      if (isIntegerText(s) !== reference.isIntegerText(s)) expect.fail(`isIntegerText(${JSON.stringify(s)})`);
      if (parseBoolean(s) !== reference.parseBoolean(s)) expect.fail(`parseBoolean(${JSON.stringify(s)})`);
      if (numberKind(s) !== referenceKind(s)) expect.fail(`numberKind(${JSON.stringify(s)})`);
      if (!sameAsParseNumberText(s)) expect.fail(`parseNumberText(${JSON.stringify(s)})`);
      if (!Number.isNaN(reference.parseNumber(s))) numbers++;
      if (reference.isMissing(s)) missing++;
      if (reference.parseBoolean(s) !== undefined) booleans++;
    }
    expect({ numbers: numbers > 5000, missing: missing > 5000, booleans: booleans > 2000 }).to.deep.equal({ numbers: true, missing: true, booleans: true });
  });

  it('parseNumber computes short literals itself exactly as Number() does (1 to 20 digits, any point, signs, -0)', () => {
    const rnd = mulberry32(99);
    let exactRange = 0;
    for (let i = 0; i < 200_000; i++) {
      const digits = 1 + Math.floor(rnd() * 20);
      let d = '';
      for (let k = 0; k < digits; k++) d += String(rnd() < 0.15 ? 0 : Math.floor(rnd() * 10));
      const point = Math.floor(rnd() * (digits + 2)) - 1;
      let s = point < 0 || point > digits ? d : `${d.slice(0, point)}.${d.slice(point)}`;
      if (rnd() < 0.3) s = pick(rnd, ['-', '+']) + s;
      if (rnd() < 0.05) s += `e${Math.floor(rnd() * 40) - 20}`;
      if (digits <= 15) exactRange++;
      const got = parseNumber(s);
      const want = reference.parseNumber(s);
      if (!Object.is(got, want)) expect.fail(`parseNumber(${JSON.stringify(s)}): ${got}, Number() ${want}`);
      if (isIntegerText(s) !== reference.isIntegerText(s)) expect.fail(`isIntegerText(${JSON.stringify(s)})`);
      if (numberKind(s) !== referenceKind(s)) expect.fail(`numberKind(${JSON.stringify(s)})`);
      if (!sameAsParseNumberText(s)) expect.fail(`parseNumberText(${JSON.stringify(s)})`);
    }
    expect(exactRange).to.be.above(100_000);
    for (const s of ['-0', '-0.0', '+0', '0.1', '0.3', '123456789012345', '1234567890123456', '9007199254740993', '.1', '5.', '-.5']) expect(Object.is(parseNumber(s), reference.parseNumber(s)), s).to.equal(true);
  });

  it('the span versions answer as the string versions do on the slice, whatever is around the span', () => {
    const rnd = mulberry32(2024);
    const values = ['12', '-3.5', '1e5', '007', 'NA', 'n/a', '', ' ', ' 4 ', 'true', 'No', 'YES', 'x', '2024-03-05', '2024-02-30T10:00:00Z', '2024-03-05 14:30', 'Mar 5 2024', '9007199254740993', '1.#IND', '\u00a0NaN', 'null'];
    const around = ['', '1', ',', ' ', '9', 'e', '-', ':', 'Z', '\u00a0'];
    for (let i = 0; i < 50_000; i++) {
      let v = pick(rnd, values);
      if (rnd() < 0.3) v = mutate(rnd, v);
      const before = pick(rnd, around) + pick(rnd, around);
      const text = before + v + pick(rnd, around) + pick(rnd, around);
      const start = before.length;
      const end = start + v.length;
      const where = JSON.stringify([text, start, end]);
      if (isMissingSpan(text, start, end) !== isMissing(v)) expect.fail(`isMissingSpan ${where}`);
      if (parseBooleanSpan(text, start, end) !== parseBoolean(v)) expect.fail(`parseBooleanSpan ${where}`);
      if (!Object.is(parseDatetimeSpan(text, start, end), parseDatetime(v))) expect.fail(`parseDatetimeSpan ${where}`);
      const a = { integer: false };
      const b = { integer: false };
      if (!Object.is(parseNumberSpan(text, start, end, a), parseNumberText(v, b)) || a.integer !== b.integer) expect.fail(`parseNumberSpan ${where}`);
    }
  });
});
