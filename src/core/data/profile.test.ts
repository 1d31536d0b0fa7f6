import { expect } from 'chai';
import type { ColumnType } from '../values.js';
import { buildTable } from './build.js';
import { selectRows } from '../table.js';
import { type ColumnProfile, ProfileAccumulator, profileTable } from './profile.js';

/** Profiles one column of the given type built from raw values. */
function profileOf(type: ColumnType, values: unknown[]): ColumnProfile {
  const table = buildTable(
    { source: 't', format: 'json', columnNames: ['c'], rows: values.map((v) => [v]), warnings: [] },
    { types: { c: type } },
  );
  const profile = profileTable(table);
  expect(profile.rows).to.equal(values.length);
  expect(profile.columns).to.have.length(1);
  return profile.columns[0] as ColumnProfile;
}

describe('profileTable', () => {
  it('number: count, missing, distinct, min/max/mean and sample std', () => {
    // Mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32; sample variance 32/7.
    const p = profileOf('number', [2, 4, 4, null, 4, 5, 5, 7, 9, 'NA']);
    expect(p).to.include({ name: 'c', type: 'number', count: 8, missing: 2, distinct: 5, min: 2, max: 9, mean: 5 });
    expect(p.std).to.be.closeTo(Math.sqrt(32 / 7), 1e-12);
    expect(p.top).to.equal(undefined);
  });

  it('number: negative and fractional values', () => {
    // Mean (-1.5 + 0.5 + 4) / 3 = 1; deviations -2.5, -0.5, 3 → 6.25 + 0.25 + 9 = 15.5; variance 7.75.
    const p = profileOf('number', [-1.5, 0.5, 4]);
    expect(p).to.include({ count: 3, missing: 0, distinct: 3, min: -1.5, max: 4 });
    expect(p.mean).to.be.closeTo(1, 1e-12);
    expect(p.std).to.be.closeTo(Math.sqrt(7.75), 1e-12);
  });

  it('keeps precision for large values with a small spread', () => {
    // Epoch seconds: mean 1700000002, deviations -1, 0, 1 → sample variance 1.
    const p = profileOf('integer', [1_700_000_001, 1_700_000_002, 1_700_000_003]);
    expect(p.mean).to.equal(1_700_000_002);
    expect(p.std).to.be.closeTo(1, 1e-9);
    const q = profileOf('number', [1e12 + 0.5, 1e12 + 1.5]);
    expect(q.std).to.be.closeTo(Math.SQRT1_2, 1e-6);
  });

  it('integer: statistics and top values', () => {
    // Mean 14/6 = 7/3; squared deviations 16/9 + 2·1/9 + 3·4/9 = 30/9; sample variance 30/9/5 = 2/3.
    const p = profileOf('integer', [3, 1, 2, null, 3, 2, 3]);
    expect(p).to.include({ type: 'integer', count: 6, missing: 1, distinct: 3, min: 1, max: 3 });
    expect(p.mean).to.be.closeTo(7 / 3, 1e-12);
    expect(p.std).to.be.closeTo(Math.sqrt(2 / 3), 1e-12);
    expect(p.top).to.deep.equal([
      { value: '3', count: 3 },
      { value: '2', count: 2 },
      { value: '1', count: 1 },
    ]);
  });

  it('a single value has std 0; an all-missing column has no statistics', () => {
    const one = profileOf('number', [42, null]);
    expect(one).to.include({ count: 1, missing: 1, min: 42, max: 42, mean: 42, std: 0 });
    const none = profileOf('number', [null, 'NA']);
    expect(none).to.deep.equal({ name: 'c', type: 'number', count: 0, missing: 2, distinct: 0 });
  });

  it('datetime: min and max as ISO strings, no mean or std', () => {
    const p = profileOf('datetime', ['2024-03-05T14:30:00Z', null, '1999-12-31', '2024-03-05T16:30:00+02:00', '2030-01-01T00:00:00.250Z']);
    expect(p).to.deep.equal({
      name: 'c',
      type: 'datetime',
      count: 4,
      missing: 1,
      distinct: 3,
      min: '1999-12-31T00:00:00.000Z',
      max: '2030-01-01T00:00:00.250Z',
    });
  });

  it('category: top values by count descending, ties by value, at most five', () => {
    const p = profileOf('category', ['b', 'g', 'a', 'c', 'a', 'f', 'b', null, 'e', 'd', 'b']);
    expect(p).to.include({ count: 10, missing: 1, distinct: 7 });
    expect(p.min).to.equal(undefined);
    expect(p.top).to.deep.equal([
      { value: 'b', count: 3 },
      { value: 'a', count: 2 },
      { value: 'c', count: 1 },
      { value: 'd', count: 1 },
      { value: 'e', count: 1 },
    ]);
  });

  it('boolean and text: top values', () => {
    const b = profileOf('boolean', [true, false, 'yes', null, 'no', true]);
    expect(b).to.include({ count: 5, missing: 1, distinct: 2 });
    expect(b.top).to.deep.equal([
      { value: 'true', count: 3 },
      { value: 'false', count: 2 },
    ]);
    const t = profileOf('text', ['one long sentence', 'another one', 'one long sentence']);
    expect(t.top).to.deep.equal([
      { value: 'one long sentence', count: 2 },
      { value: 'another one', count: 1 },
    ]);
  });

  it('profiles every column of a table', () => {
    const table = buildTable({
      source: 't',
      format: 'csv',
      columnNames: ['x', 'y'],
      rows: [
        ['1', 'a'],
        ['2', 'b'],
      ],
      warnings: [],
    });
    const profile = profileTable(table);
    expect(profile.rows).to.equal(2);
    expect(profile.columns.map((c) => [c.name, c.type, c.count])).to.deep.equal([
      ['x', 'integer', 2],
      ['y', 'category', 2],
    ]);
  });
});

describe('ProfileAccumulator (chunk by chunk)', () => {
  const raw = {
    source: 't',
    format: 'csv' as const,
    columnNames: ['n', 'i', 'c', 'b', 'd'],
    rows: Array.from({ length: 37 }, (_, r) => [
      r % 5 === 0 ? 'NA' : String(r * 0.75 - 9),
      String(r % 7),
      ['x', 'y', 'z', 'x'][r % 4]!,
      r % 3 === 0 ? 'yes' : 'no',
      r % 6 === 0 ? '' : `2024-01-${String((r % 28) + 1).padStart(2, '0')}`,
    ]),
    warnings: [],
  };

  it('gives the same profile as profileTable for any chunking', () => {
    const table = buildTable(raw);
    const whole = profileTable(table);
    for (const size of [1, 5, 36, 37]) {
      const acc = new ProfileAccumulator(table.columns);
      for (let start = 0; start < table.rowCount; start += size) {
        const rows = Array.from({ length: Math.min(size, table.rowCount - start) }, (_, k) => start + k);
        acc.add(selectRows(table, rows));
      }
      expect(acc.result(), `chunks of ${size}`).to.deep.equal(whole);
    }
  });

  it('counts at most distinctCap values per column, and says the distinct count is a lower bound', () => {
    const table = buildTable({ source: 't', format: 'csv', columnNames: ['c'], rows: [['a'], ['b'], ['a'], ['c'], ['d'], ['a'], ['d']], warnings: [] });
    const p = profileTable(table, { distinctCap: 2 }).columns[0]!;
    expect(p).to.deep.include({ count: 7, missing: 0, distinct: 2, distinctCapped: true });
    expect(p.top).to.deep.equal([
      { value: 'a', count: 3 },
      { value: 'b', count: 1 },
    ]);
    expect(profileTable(table).columns[0]!.distinctCapped).to.equal(undefined);
  });
});
