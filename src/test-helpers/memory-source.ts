/**
 * Small in-test {@link RecordSource} implementations for the loader's tests (not part of the build).
 */
import type { RawChunk, RawValue, RecordSource, SourceLineage } from '../core/data/sources/types.js';
import type { ColumnType } from '../core/values.js';

/** Options of {@link memorySource}. */
export interface MemorySourceOptions {
  name?: string;
  /** Column types the source declares (as a database would). */
  declared?: Record<string, ColumnType>;
  /** Physical line of each row. */
  lines?: number[];
  /**
   * Columns shown with each row index: lets a test make columns appear later (as new JSON keys do).
   * By default every column is shown from the first chunk.
   */
  columnsAt?: (rowIndex: number) => number;
  /** Throw this after yielding this many rows. */
  failAfter?: { rows: number; error: Error };
  warnings?: string[];
  lineage?: SourceLineage;
}

/** A source over rows held in memory, chunked by the `chunkRows` it is asked for. */
export function memorySource(columns: string[], rows: RawValue[][], options: MemorySourceOptions = {}): RecordSource {
  let yielded = 0;
  return {
    name: options.name ?? 'memory',
    warnings: options.warnings ?? [],
    declaredTypes: () => options.declared ?? {},
    lineage: () => options.lineage ?? { kind: 'file', path: options.name ?? 'memory', rows: yielded },
    async *chunks(chunkRows: number): AsyncGenerator<RawChunk> {
      if (rows.length === 0) {
        yield { columns, rows: [] };
        return;
      }
      for (let start = 0; start < rows.length; start += chunkRows) {
        const end = Math.min(rows.length, start + chunkRows);
        if (options.failAfter && end > options.failAfter.rows) throw options.failAfter.error;
        const width = options.columnsAt ? options.columnsAt(end - 1) : columns.length;
        const chunk: RawChunk = { columns: columns.slice(0, width), rows: rows.slice(start, end).map((r) => r.slice(0, width)) };
        if (options.lines) chunk.lines = options.lines.slice(start, end);
        yielded += end - start;
        yield chunk;
      }
    },
  };
}

/** A source of `rows` generated rows (never held whole): `make(i)` gives row i. */
export function generatedSource(columns: string[], rowCount: number, make: (i: number) => RawValue[], name = 'generated'): RecordSource {
  let yielded = 0;
  return {
    name,
    warnings: [],
    declaredTypes: () => ({}),
    lineage: () => ({ kind: 'command', command: name, rows: yielded }),
    async *chunks(chunkRows: number): AsyncGenerator<RawChunk> {
      for (let start = 0; start < rowCount; start += chunkRows) {
        const end = Math.min(rowCount, start + chunkRows);
        const out: RawValue[][] = [];
        for (let i = start; i < end; i++) out.push(make(i));
        yielded += out.length;
        yield { columns, rows: out };
      }
    },
  };
}
