import { expect } from 'chai';
import { type Column, type Table, cellAt } from '../table.js';
import type { ColumnType } from '../values.js';
import { type ColumnProfile, type DatasetProfile, ProfileAccumulator } from './profile.js';
import { mulberry32 } from '../../test-helpers/random.js';

/**
 * The profile with its hash table of numbers and its one-pass top values, against the definition it
 * replaced (a Map of every cell value, a full sort), on seeded random columns fed in random chunks.
 */

/** The profile as it was computed before: a Map of counts by cell, every entry sorted for the top values. */
function referenceProfile(table: Table, cap: number): DatasetProfile {
  const columns = table.columns.map((col): ColumnProfile => {
    const counts = new Map<number | string | boolean, number>();
    let capped = false;
    let count = 0;
    let missing = 0;
    let min = Infinity;
    let max = -Infinity;
    let mean = 0;
    let m2 = 0;
    const numeric = col.type === 'number' || col.type === 'integer' || col.type === 'datetime';
    for (let i = 0; i < table.rowCount; i++) {
      const cell = cellAt(col, i);
      if (cell === null) {
        missing++;
        continue;
      }
      count++;
      const seen = counts.get(cell);
      if (seen !== undefined) counts.set(cell, seen + 1);
      else if (counts.size < cap) counts.set(cell, 1);
      else capped = true;
      if (numeric) {
        const x = cell as number;
        if (x < min) min = x;
        if (x > max) max = x;
        const delta = x - mean;
        mean += delta / count;
        m2 += delta * (x - mean);
      }
    }
    const profile: ColumnProfile = { name: col.name, type: col.type, count, missing, distinct: counts.size };
    if (capped) profile.distinctCapped = true;
    if (numeric && count > 0) {
      if (col.type === 'datetime') {
        profile.min = new Date(min).toISOString();
        profile.max = new Date(max).toISOString();
      } else {
        profile.min = min;
        profile.max = max;
        profile.mean = mean;
        profile.std = count > 1 ? Math.sqrt(m2 / (count - 1)) : 0;
      }
    }
    if (col.type === 'category' || col.type === 'boolean' || col.type === 'text' || col.type === 'integer') {
      profile.top = [...counts.entries()]
        .map(([value, n]): [string, number] => [String(value), n])
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .slice(0, 5)
        .map(([value, n]) => ({ value, count: n }));
    }
    return profile;
  });
  return { rows: table.rowCount, columns };
}

function randomColumn(rnd: () => number, type: ColumnType, rows: number): Column {
  const missing = rnd() < 0.5 ? 0 : rnd() * 0.3;
  const spread = Math.floor(1 + rnd() * (rnd() < 0.5 ? 8 : 5000));
  switch (type) {
    case 'number':
    case 'integer':
    case 'datetime': {
      const values = new Float64Array(rows);
      for (let i = 0; i < rows; i++) {
        if (rnd() < missing) values[i] = Number.NaN;
        else if (type === 'datetime') values[i] = 1.7e12 + Math.floor(rnd() * spread) * 86_400_000;
        else if (type === 'integer') values[i] = Math.floor(rnd() * spread) - Math.floor(spread / 2) + (rnd() < 0.02 ? -0 : 0);
        else values[i] = rnd() < 0.05 ? -0 : Math.round((rnd() - 0.4) * spread * 1000) / 100;
      }
      return { name: type, type, values };
    }
    case 'boolean':
      return { name: type, type, values: Array.from({ length: rows }, () => (rnd() < missing ? null : rnd() < 0.3)) };
    default:
      return { name: type, type, values: Array.from({ length: rows }, () => (rnd() < missing ? null : `v${Math.floor(rnd() * spread)}`)) };
  }
}

/** Rows `from` to `to` of a table, as a table. */
function slice(table: Table, from: number, to: number): Table {
  const columns = table.columns.map((col): Column => {
    if (col.values instanceof Float64Array) return { ...col, values: col.values.slice(from, to) } as Column;
    return { ...col, values: (col.values as unknown[]).slice(from, to) } as Column;
  });
  return { columns, rowCount: to - from };
}

describe('profile (fast counting) agrees with its definition', () => {
  it('on random columns of every type, fed in random chunks, with and without a distinct cap', () => {
    const rnd = mulberry32(11);
    const types: ColumnType[] = ['number', 'integer', 'datetime', 'boolean', 'category', 'text'];
    for (let round = 0; round < 40; round++) {
      const rows = Math.floor(rnd() * 3000);
      const table: Table = { columns: types.map((t) => randomColumn(rnd, t, rows)), rowCount: rows };
      const cap = rnd() < 0.3 ? 1 + Math.floor(rnd() * 50) : 100_000;
      const accumulator = new ProfileAccumulator(table.columns, { distinctCap: cap });
      for (let at = 0; at < rows; ) {
        const size = 1 + Math.floor(rnd() * 700);
        accumulator.add(slice(table, at, Math.min(rows, at + size)));
        at += size;
      }
      expect(accumulator.result(), `round ${round}`).to.deep.equal(referenceProfile(table, cap));
    }
  });

  it('a category column whose counts were adopted from inference gives the same profile', () => {
    const values = ['a', null, 'b', 'a', 'c', null, 'a'];
    const table: Table = { columns: [{ name: 'c', type: 'category', values }], rowCount: values.length };
    const adopted = new ProfileAccumulator(table.columns);
    adopted.adoptCounts(0, { counts: new Map([['a', 3], ['b', 1], ['c', 1]]), capped: false, count: 5 });
    adopted.add(table);
    expect(adopted.result()).to.deep.equal(referenceProfile(table, 100_000));
  });
});
