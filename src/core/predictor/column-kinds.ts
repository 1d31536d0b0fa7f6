/**
 * The typed outputs' column types (the SQL and Parquet sinks) and how a value is written into one: the
 * prediction's type from the model's labels, the id column's type chosen from the first chunk's ids,
 * and a later id converted to it only when that is exact.
 */
import type { ScoredChunk, SinkColumns } from './sink.js';

/** The column types the typed sinks write (SQL BIGINT, double, boolean, text; Parquet INT64, DOUBLE, BOOLEAN, STRING). */
export type Kind = 'bigint' | 'double' | 'boolean' | 'text';

/** A value written into a column of a {@link Kind} (null when missing). */
export type KindValue = string | number | bigint | boolean | null;

/** The prediction column's type: double for regression; for a classifier boolean, double or text as its labels all are. */
export function predictionKindOf(columns: SinkColumns): Kind {
  const { labels } = columns;
  if (columns.task === 'regression') return 'double';
  if (labels.length > 0 && labels.every((l) => typeof l === 'boolean')) return 'boolean';
  if (labels.length > 0 && labels.every((l) => typeof l === 'number')) return 'double';
  return 'text';
}

/** The id column's type from a first chunk's ids, good rows and bad (text when there is no id column). */
export function firstIdKind(columns: SinkColumns, chunk: ScoredChunk): Kind {
  const { id } = columns;
  if (id === undefined) return 'text';
  return idKindOf([...chunk.records.map((r) => r[id]), ...[...chunk.bad.values()].map((b) => b.record[id])]);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isInt64(v: unknown): boolean {
  if (typeof v === 'bigint') return v >= INT64_MIN && v <= INT64_MAX;
  return typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63;
}

/** A value as text: a date in ISO 8601, an object as JSON, anything else with String. */
export function textOf(v: unknown): string {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/** The id column's type from the first chunk's ids (nulls aside): all integers BIGINT, all numbers double, all booleans boolean, else text. */
export function idKindOf(values: readonly unknown[]): Kind {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) return 'text';
  if (present.every(isInt64)) return 'bigint';
  if (present.every((v) => typeof v === 'number' || (typeof v === 'bigint' && BigInt(Number(v)) === v))) return 'double';
  if (present.every((v) => typeof v === 'boolean')) return 'boolean';
  return 'text';
}

/**
 * `v` as a parameter of a column of type `kind`, or undefined when it does not fit. Text is converted
 * only when exact: it reads back with the same spelling (`12` into BIGINT, not `012` or `1e3`).
 */
export function fit(kind: Kind, v: unknown): KindValue | undefined {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'text':
      return textOf(v);
    case 'bigint':
      if (typeof v === 'number' || typeof v === 'bigint') return isInt64(v) ? v : undefined;
      if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) {
        const b = BigInt(v);
        return isInt64(b) && String(b) === v ? b : undefined;
      }
      return undefined;
    case 'double':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return BigInt(Number(v)) === v ? Number(v) : undefined;
      if (typeof v === 'string' && v.trim() !== '' && String(Number(v)) === v) return Number(v);
      return undefined;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      return undefined;
  }
}
