import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, InterruptedError } from '../errors.js';
import type { Lineage, SkippedRow } from '../lineage.js';
import { type Column, type Table, emptyColumn, setCell } from '../table.js';
import { CellError, type ColumnType, toCell } from '../values.js';
import { mlpipeVersion } from '../version.js';
import { DatasetWriter } from './dataset.js';
import { Fingerprinter } from './fingerprint.js';
import { DEFAULT_DISTINCT_CAP, TypeInferrer } from './infer.js';
import { type DatasetProfile, PROFILE_DISTINCT_CAP, ProfileAccumulator } from './profile.js';
import type { RecordSource } from './sources/types.js';
import { Spool } from './spool.js';

/** What to do with a row whose value contradicts its column's type. */
export type OnBadRow = 'error' | 'skip';

/** Rows per chunk when nothing else is said (`--chunk-rows`, `chunkRows:`). */
export const DEFAULT_CHUNK_ROWS = 10_000;

/** How many skipped rows are described one by one (the rest are only counted). */
export const SKIPPED_EXAMPLES = 5;

/** Where a load is: reading the source (pass 1), or typing and writing (pass 2, `total` known). */
export interface LoadProgress {
  phase: 'read' | 'write';
  rows: number;
  total?: number;
}

/** Options of {@link streamLoad}. */
export interface StreamLoadOptions {
  /** Declared column types; they win over the source's own and over inference. */
  types?: Record<string, ColumnType>;
  /** `error` (default): a contradicting value stops the load. `skip`: the row is left out and counted. */
  onBadRow?: OnBadRow;
  /** Infer column types from the first N rows only (default: every row). */
  inferRows?: number;
  /** Rows per chunk read from the source, spooled and written as one Arrow record batch (default 10000). */
  chunkRows?: number;
  /** The spool file is created beside this path (default: in the system's temporary folder). */
  spoolNear?: string;
  /** Called after every chunk of each pass. */
  onProgress?: (p: LoadProgress) => void;
  /** Distinct values remembered per column by inference and by the profile (default 100000). */
  distinctCap?: number;
  /** Declared types for columns the source does not have are ignored instead of refused (the sides of a join). */
  typesMayBeAbsent?: boolean;
  /** Stops the load (an InterruptedError), cleaning up as after any error, also while waiting for the source. */
  signal?: AbortSignal;
}

/**
 * The chunks of a source, but rejecting with an InterruptedError as soon as `signal` aborts, even while
 * the source is waiting for a slow server or command (the source is then asked to stop).
 */
async function* interruptible<T>(iterable: AsyncIterable<T>, signal: AbortSignal | undefined): AsyncGenerator<T> {
  if (!signal) {
    yield* iterable;
    return;
  }
  const iterator = iterable[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new InterruptedError());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  let done = false;
  try {
    while (true) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort!);
    // Ask the source to stop (close connections, kill a command); do not wait for a source stuck in a read.
    if (!done) void Promise.resolve(iterator.return?.()).catch(() => {});
  }
}

/** The columns of a loaded dataset, in order. */
export type DatasetSchema = { name: string; type: ColumnType }[];

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
    this.columns = schema.map((c) => emptyColumn(c.name, c.type, rowsAtMost));
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

/** What {@link streamLoad} produced (the data itself went to the sink). */
export interface StreamLoadResult {
  schema: DatasetSchema;
  rows: number;
  lineage: Lineage;
  profile: DatasetProfile;
  /** The source's warnings (renamed headers, renamed join columns …). */
  warnings: string[];
  /** Rows left out by `onBadRow: skip`: how many, and the first few with their row numbers. */
  skipped: { count: number; first: SkippedRow[] };
}

/**
 * Loads a source in two passes with memory bounded by the chunk size, not the source size.
 *
 * Pass 1 reads the source chunk by chunk, feeds one {@link TypeInferrer} per column (only the first
 * `inferRows` rows, and only columns whose type is not declared) and spools the raw rows to a
 * temporary file. Then each column's type is the user's declared type, else the source's own
 * (database and Parquet column types), else the inferred one.
 *
 * Pass 2 reads the spool back chunk by chunk, converts every value with the shared {@link toCell}
 * (a contradicting value is a DataError naming source, row, line and column, or with `onBadRow: skip`
 * the row is dropped and counted), and feeds each typed chunk to the profile, the fingerprint and the
 * sink. The spool is always deleted; on any error the sink is aborted (no partial dataset).
 */
export async function streamLoad(source: RecordSource, sink: TableSink, options: StreamLoadOptions = {}): Promise<StreamLoadResult> {
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const inferRows = options.inferRows ?? Number.POSITIVE_INFINITY;
  const userTypes = options.types ?? {};
  const onBadRow = options.onBadRow ?? 'error';
  const loadedAt = new Date().toISOString();
  const spool = await Spool.create(options.spoolNear ?? join(tmpdir(), 'mlpipe-load'));
  let started = false;
  try {
    // Pass 1: read, infer, spool.
    let names: string[] = [];
    const inferrers: (TypeInferrer | undefined)[] = [];
    let rows = 0;
    for await (const chunk of interruptible(source.chunks(chunkRows), options.signal)) {
      if (chunk.columns.length > names.length) {
        const declared = source.declaredTypes();
        for (let j = names.length; j < chunk.columns.length; j++) {
          const name = chunk.columns[j] as string;
          inferrers[j] = userTypes[name] !== undefined || declared[name] !== undefined ? undefined : new TypeInferrer(options.distinctCap ?? DEFAULT_DISTINCT_CAP);
        }
        names = chunk.columns.slice();
      }
      const inferUpTo = Math.min(chunk.rows.length, Math.max(0, inferRows - rows));
      for (let i = 0; i < inferUpTo; i++) {
        const row = chunk.rows[i]!;
        const width = Math.min(row.length, names.length);
        for (let j = 0; j < width; j++) inferrers[j]?.add(row[j]);
      }
      if (chunk.rows.length > 0) await spool.write({ rows: chunk.rows, ...(chunk.lines ? { lines: chunk.lines } : {}) });
      rows += chunk.rows.length;
      options.onProgress?.({ phase: 'read', rows });
    }

    // The types.
    const declared = source.declaredTypes();
    for (const name of Object.keys(userTypes)) {
      if (!names.includes(name) && !options.typesMayBeAbsent) {
        throw new DataError({ source: source.name, column: name }, `a type is declared for this column but the source has no such column (columns: ${names.join(', ')})`);
      }
    }
    const schema: DatasetSchema = names.map((name, j) => ({ name, type: userTypes[name] ?? declared[name] ?? inferrers[j]?.result() ?? 'category' }));
    inferrers.length = 0;
    const usedTypes = Object.keys(userTypes).filter((n) => names.includes(n));

    // Pass 2: type, profile, fingerprint, write.
    await sink.start(schema, rows);
    started = true;
    const profile = new ProfileAccumulator(schema, { distinctCap: options.distinctCap ?? PROFILE_DISTINCT_CAP });
    const fingerprint = new Fingerprinter(schema);
    const skipped: StreamLoadResult['skipped'] = { count: 0, first: [] };
    const width = schema.length;
    let rowNumber = 0;
    let kept = 0;
    for await (const chunk of spool.chunks()) {
      if (options.signal?.aborted) throw new InterruptedError();
      const n = chunk.rows.length;
      const columns = schema.map((c) => emptyColumn(c.name, c.type, n));
      let k = 0;
      for (let i = 0; i < n; i++) {
        const row = chunk.rows[i]!;
        rowNumber++;
        let bad = false;
        for (let j = 0; j < width; j++) {
          const type = schema[j]!.type;
          let cell;
          try {
            cell = toCell(type, row[j]);
          } catch (err) {
            if (!(err instanceof CellError)) throw err;
            const line = chunk.lines?.[i];
            const column = schema[j]!.name;
            const message = `${err.message} (column type ${type})`;
            if (onBadRow === 'error') throw new DataError({ source: source.name, row: rowNumber, line, column }, message);
            skipped.count++;
            if (skipped.first.length < SKIPPED_EXAMPLES) skipped.first.push({ row: rowNumber, ...(line !== undefined ? { line } : {}), column, message });
            bad = true;
            break;
          }
          setCell(columns[j]!, k, cell);
        }
        if (!bad) k++;
      }
      const typed: Table = { columns, rowCount: k };
      profile.add(typed);
      fingerprint.add(typed);
      if (k > 0) await sink.write(typed);
      kept += k;
      options.onProgress?.({ phase: 'write', rows: rowNumber, total: rows });
    }

    const lineage: Lineage = {
      source: source.lineage(),
      rows: kept,
      columns: schema.length,
      fingerprint: fingerprint.digest(),
      loadedAt,
      mlpipeVersion: mlpipeVersion(),
      ...(skipped.count > 0 ? { skippedRows: skipped.count } : {}),
      ...(usedTypes.length > 0 ? { types: Object.fromEntries(usedTypes.map((n) => [n, userTypes[n]!])) } : {}),
    };
    await sink.finish(lineage);
    return { schema, rows: kept, lineage, profile: profile.result(), warnings: [...source.warnings], skipped };
  } catch (err) {
    if (started) await sink.abort();
    throw err;
  } finally {
    await spool.remove();
  }
}
