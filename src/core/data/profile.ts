import { type Table, cellAt } from '../table.js';
import type { ColumnType } from '../values.js';

/** Summary statistics of one column. */
export interface ColumnProfile {
  name: string;
  type: ColumnType;
  /** Non-missing values. */
  count: number;
  missing: number;
  distinct: number;
  /** Numbers: the value; datetimes: ISO strings. */
  min?: number | string;
  max?: number | string;
  mean?: number;
  std?: number;
  /** Most frequent values, most frequent first (ties by value), at most five. */
  top?: { value: string; count: number }[];
}

/** Summary of a whole dataset. */
export interface DatasetProfile {
  rows: number;
  columns: ColumnProfile[];
}

const TOP_N = 5;

/** Computes count, missing, distinct, min/max/mean/std and top values of every column in one pass each. */
export function profileTable(table: Table): DatasetProfile {
  const columns = table.columns.map((col): ColumnProfile => {
    const counts = new Map<string, number>();
    let count = 0;
    let min = Infinity;
    let max = -Infinity;
    // Welford's running mean and sum of squared deviations: sum-of-squares minus squared mean loses
    // every digit for large values such as epoch seconds (1.7e9 ± 1 gave std 22.6 instead of 1).
    let mean = 0;
    let m2 = 0;
    const numeric = col.type === 'number' || col.type === 'integer' || col.type === 'datetime';
    for (let i = 0; i < table.rowCount; i++) {
      const cell = cellAt(col, i);
      if (cell === null) continue;
      count++;
      const key = String(cell);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (numeric) {
        const x = cell as number;
        if (x < min) min = x;
        if (x > max) max = x;
        const delta = x - mean;
        mean += delta / count;
        m2 += delta * (x - mean);
      }
    }
    const profile: ColumnProfile = { name: col.name, type: col.type, count, missing: table.rowCount - count, distinct: counts.size };
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
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .slice(0, TOP_N)
        .map(([value, n]) => ({ value, count: n }));
    }
    return profile;
  });
  return { rows: table.rowCount, columns };
}
