/**
 * JSON records into raw rows, for every source of JSON records: JSON and NDJSON files, standard input
 * and commands (file.ts), and HTTP APIs (http.ts). Nested records are flattened here, by the same
 * {@link flattenRecord} the server uses on requests (src/core/records/flatten.ts).
 */
import { DataError, quoteText } from '../../errors.js';
import { MAX_COLUMNS, checkColumnCount, checkColumnName } from '../files.js';
import { type FlatRecord, FlattenError, flattenRecord } from '../../records/flatten.js';
import type { MalformedRow, RawChunk, RawValue } from './types.js';

/**
 * Collects JSON records into rows over the union of their (flattened) keys, in first-seen order: a
 * column first seen in a later record is added then, and earlier rows are missing it. Records of
 * scalars take a fast path; a record with an object or array value is flattened (dotted names,
 * Extended JSON unwrapped, arrays as JSON text, see flatten.ts), with one warning per column holding
 * arrays or Extended JSON kept as text, pushed to `warnings`.
 */
export class RecordCollector {
  private readonly columns: string[] = [];
  private readonly index = new Map<string, number>();
  private rows: RawValue[][] = [];
  private lines: number[] = [];
  private malformed: MalformedRow[] = [];
  private readonly warned = new Set<string>();

  /**
   * @param source how the source is named in messages
   * @param withLines whether rows carry the line they start on (NDJSON)
   * @param warnings where the source's warnings go
   */
  constructor(
    private readonly source: string,
    private readonly withLines: boolean,
    private readonly warnings: string[],
  ) {}

  get size(): number {
    return this.rows.length;
  }

  /**
   * Adds one record as row `row` (1-based, for messages) starting on `line`. Throws a DataError naming
   * the row and column for a value that is not a record, two values that flatten to one column, or a
   * malformed Extended JSON value (with its JSON path).
   */
  add(value: unknown, row: number, line?: number): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DataError({ source: this.source, row, line }, `expected a record (a JSON object), found ${Array.isArray(value) ? 'an array' : typeof value === 'string' ? quoteText(value) : String(value)}`);
    }
    const record = value as Record<string, unknown>;
    const out: RawValue[] = new Array(this.columns.length);
    for (const key in record) {
      const v = record[key];
      if (v !== null && typeof v === 'object') {
        this.addNested(record, row, line);
        return;
      }
      out[this.columnIndex(key)] = v as RawValue;
    }
    this.push(out, line);
  }

  /**
   * {@link add}, except that a value that cannot be this row (not a record, a flattening problem: a
   * DataError naming the row) is kept in place as a malformed row. Limits of the whole table (too many
   * columns) still throw.
   */
  addOrKeep(value: unknown, row: number, line?: number): void {
    try {
      this.add(value, row, line);
    } catch (err) {
      if (!(err instanceof DataError) || err.location.row !== row) throw err;
      this.keepMalformed(err, line);
    }
  }

  /** Adds a row the reader could not read, in place, with no values and `error` saying why. */
  keepMalformed(error: DataError, line?: number): void {
    this.malformed.push({ index: this.rows.length, error });
    this.push([], line);
  }

  private columnIndex(key: string): number {
    let j = this.index.get(key);
    if (j === undefined) {
      j = this.columns.length;
      // The records' keys are the header: the same limits (a million keys must not reach the typed arrays).
      if (j >= MAX_COLUMNS) checkColumnCount(j + 1, this.source, 'the records have at least');
      checkColumnName(key, j, this.source);
      this.columns.push(key);
      this.index.set(key, j);
    }
    return j;
  }

  private push(out: RawValue[], line: number | undefined): void {
    this.rows.push(out);
    if (line !== undefined && this.withLines) this.lines.push(line);
  }

  private addNested(record: Record<string, unknown>, row: number, line: number | undefined): void {
    let flat: FlatRecord;
    try {
      flat = flattenRecord(record);
    } catch (err) {
      if (!(err instanceof FlattenError)) throw err;
      throw new DataError({ source: this.source, row, line, column: err.column }, err.clash ? err.problem : `at ${err.pointer}: ${err.problem}`);
    }
    const out: RawValue[] = new Array(this.columns.length);
    const values = flat.record;
    for (const key of Object.keys(values)) out[this.columnIndex(key)] = values[key] as RawValue;
    this.push(out, line);
    for (const n of flat.notes ?? []) {
      const id = `${n.kind}\0${n.column}`;
      if (this.warned.has(id)) continue;
      this.warned.add(id);
      this.warnings.push(
        n.kind === 'array'
          ? `${this.source}: column ${quoteText(n.column)}: arrays are kept as their JSON text (like ["a","b"]), a text or category column`
          : `${this.source}: column ${quoteText(n.column)}: MongoDB Extended JSON ${n.kind} values are kept as their JSON text`,
      );
    }
  }

  /** The rows collected since the last call, with the columns seen so far. */
  take(): RawChunk {
    const chunk: RawChunk = { columns: this.columns.slice(), rows: this.rows };
    if (this.withLines) chunk.lines = this.lines;
    if (this.malformed.length > 0) chunk.malformed = this.malformed;
    this.rows = [];
    this.lines = [];
    this.malformed = [];
    return chunk;
  }
}
