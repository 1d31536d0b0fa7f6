import type { Lineage } from '../lineage.js';
import { type Column, type Table, emptyColumn } from '../table.js';
import type { ColumnType, DateOrder } from '../values.js';
import type { TruthSpellings } from '../spellings.js';
import { DatasetWriter } from './dataset-writer.js';
/**
 * The columns of a loaded dataset, in order; a datetime column with the day/month order of its numeric
 * dates, and a boolean column with the spellings of its values, when it has them.
 */
export type DatasetSchema = { name: string; type: ColumnType; dateOrder?: DateOrder; truthSpellings?: TruthSpellings }[];

/**
 * Where the typed chunks of the second pass go: an Arrow file written batch by batch, or a table in
 * memory. `start` is called once the types are known, then `write` per chunk, then `finish` with the
 * lineage — or `abort` when anything failed.
 */
export interface TableSink {
  start(schema: DatasetSchema, rowsAtMost: number): Promise<void>;
  write(chunk: Table): Promise<void>;
  finish(lineage: Lineage): Promise<void>;
  abort(): Promise<void>;
}

/** Writes the dataset file `out` batch by batch, atomically (see {@link DatasetWriter}). */
export class ArrowFileSink implements TableSink {
  private writer: DatasetWriter | undefined;
  constructor(readonly out: string) {}
  async start(schema: DatasetSchema): Promise<void> {
    this.writer = await DatasetWriter.create(this.out, schema);
  }
  async write(chunk: Table): Promise<void> {
    await this.writer!.write(chunk);
  }
  async finish(lineage: Lineage): Promise<void> {
    await this.writer!.finish(lineage);
  }
  async abort(): Promise<void> {
    await this.writer?.abort();
  }
}

/** Builds the whole typed table in memory (for featurize and run, which need it). */
export class MemoryTableSink implements TableSink {
  private columns: Column[] = [];
  private rows = 0;
  async start(schema: DatasetSchema, rowsAtMost: number): Promise<void> {
    this.columns = schema.map((c) => emptyColumn(c.name, c.type, rowsAtMost, c));
  }
  async write(chunk: Table): Promise<void> {
    const at = this.rows;
    chunk.columns.forEach((src, j) => {
      const dst = this.columns[j]!;
      if ((dst.type === 'number' || dst.type === 'integer' || dst.type === 'datetime') && src.values instanceof Float64Array) {
        (dst.values as Float64Array).set(src.values.subarray(0, chunk.rowCount), at);
      } else {
        for (let i = 0; i < chunk.rowCount; i++) (dst.values as unknown[])[at + i] = src.values[i];
      }
    });
    this.rows += chunk.rowCount;
  }
  async finish(): Promise<void> {}
  async abort(): Promise<void> {
    this.columns = [];
  }
  /** The table (call after finish). */
  table(): Table {
    const rows = this.rows;
    const columns = this.columns.map((col): Column => {
      if (col.values.length === rows) return col;
      if (col.values instanceof Float64Array) return { ...col, values: col.values.slice(0, rows) } as Column;
      (col.values as unknown[]).length = rows;
      return col;
    });
    return { columns, rowCount: rows };
  }
}
