import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MlpipeError } from '../errors.js';
import type { Lineage } from '../lineage.js';
import type { Table } from '../table.js';
import type { DeclaredType } from '../values.js';
import { type CombineSpec, type KeyLocation, concatSources, joinSources } from './combine.js';
import type { DatasetProfile } from './profile.js';
import { openSource } from './sources/index.js';
import type { FileSourceSpec, RecordSource, SourceSpec } from './sources/types.js';
import { removeStaleTemps } from '../fs-util.js';
import { ArrowFileSink, type DatasetSchema, MemoryTableSink, type TableSink } from './table-sinks.js';
import { type LoadProgress, type OnBadRow, type StreamLoadOptions, type StreamLoadResult, streamLoad } from './type-chunks.js';

/** Several sources made into one table (pipeline.yaml's list form of `source:`). */
export interface CombinedSources {
  sources: SourceSpec[];
  /** Required with two or more sources. */
  combine?: CombineSpec;
}

/** Options of {@link loadSource} and {@link loadToDataset}. */
export interface LoadOptions {
  /**
   * What to read: a path (CSV, TSV, JSON, NDJSON, .xlsx, .parquet, an mlpipe `.arrow` dataset,
   * optionally `.gz`) or `-` for standard input; a source spec (file, stdin, command, sql, http); or
   * several sources with how to combine them.
   */
  source: string | SourceSpec | CombinedSources;
  /** For a path: the format name overriding the extension. */
  format?: string;
  /** For a path: the CSV delimiter (default: sniffed). */
  delimiter?: string;
  /** Declared column types: they win over the source's own types and over inference (`datetime:dmy` also fixes the day/month order). */
  types?: Record<string, DeclaredType>;
  /** Declared types for columns the source does not have are ignored instead of refused (types taken from a bundle). */
  typesMayBeAbsent?: boolean;
  /** `error` (default) or `skip` rows whose values contradict their column's type. */
  onBadRow?: OnBadRow;
  /** Infer types from the first N rows only. */
  inferRows?: number;
  /** Rows per chunk (default 10000): the unit of reading, spooling and Arrow record batches. */
  chunkRows?: number;
  /** Standard input, for `-`. */
  stdin?: Readable;
  /** Environment for `${NAME}` in URLs, headers and tokens (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Rows read (pass 1) and written (pass 2), after every chunk. */
  onProgress?: (p: LoadProgress) => void;
  /** Where a join's key list is written, for messages (pipeline.yaml path and line). */
  keyLocation?: KeyLocation;
  /** Distinct values remembered per column by inference and the profile (default 100000). */
  distinctCap?: number;
  /** Aborting stops the load with an InterruptedError; nothing is left behind. */
  signal?: AbortSignal;
}

/** What loading produced, without the rows (they went to the dataset file). */
export interface DatasetLoadResult {
  /** Column names and types, in order. */
  schema: DatasetSchema;
  rows: number;
  lineage: Lineage;
  profile: DatasetProfile;
  warnings: string[];
  /** Rows left out by `onBadRow: skip` (count 0 when none). */
  skipped: StreamLoadResult['skipped'];
}

/** A loaded, typed table in memory with its lineage, profile and any warnings. */
export interface LoadResult extends DatasetLoadResult {
  table: Table;
}

function isCombined(source: LoadOptions['source']): source is CombinedSources {
  return typeof source === 'object' && 'sources' in source;
}

/** The spec a bare path (or `-`) stands for. */
function specOfPath(path: string, options: Pick<LoadOptions, 'format' | 'delimiter'>): SourceSpec {
  const format = options.format?.toLowerCase() as FileSourceSpec['format'];
  if (path === '-') return { kind: 'stdin', ...(format ? { format: format as never } : {}), ...(options.delimiter ? { delimiter: options.delimiter } : {}) };
  return { kind: 'file', path, ...(format ? { format } : {}), ...(options.delimiter ? { delimiter: options.delimiter } : {}) };
}

/**
 * Opens what {@link LoadOptions.source} names as one {@link RecordSource}: a single source, or several
 * concatenated or joined (see src/core/data/combine.ts).
 */
function openLoadSource(options: LoadOptions, spoolNear?: string): RecordSource {
  const ctx = { env: options.env ?? process.env, stdin: options.stdin };
  const { source } = options;
  if (typeof source === 'string') return openSource(specOfPath(source, options), ctx);
  if (!isCombined(source)) return openSource(source, ctx);
  const specs = source.sources;
  if (specs.length === 0) throw new MlpipeError('invalid_config', 'source: no source given');
  if (specs.length === 1 && !source.combine) return openSource(specs[0]!, ctx);
  const combine = source.combine;
  if (!combine) throw new MlpipeError('invalid_config', 'combine: several sources need combine: {how: concat} or {how: inner|left, on: [key, ...]}');
  const opened = specs.map((s) => openSource(s, ctx));
  if (combine.how === 'concat') return concatSources(opened);
  return joinSources(opened[0]!, opened.slice(1), {
    how: combine.how,
    on: combine.on,
    keyLocation: options.keyLocation,
    load: { types: options.types, chunkRows: options.chunkRows, inferRows: options.inferRows, distinctCap: options.distinctCap, spoolNear, signal: options.signal },
  });
}

function streamOptions(options: LoadOptions, spoolNear: string): StreamLoadOptions {
  return {
    types: options.types,
    ...(options.typesMayBeAbsent ? { typesMayBeAbsent: true } : {}),
    onBadRow: options.onBadRow,
    inferRows: options.inferRows,
    chunkRows: options.chunkRows,
    onProgress: options.onProgress,
    distinctCap: options.distinctCap,
    signal: options.signal,
    spoolNear,
  };
}

async function run(options: LoadOptions, sink: TableSink, spoolNear: string): Promise<StreamLoadResult> {
  const source = openLoadSource(options, spoolNear);
  return streamLoad(source, sink, streamOptions(options, spoolNear));
}

/**
 * Reads any supported source into a typed table in memory (featurize and run need it whole), through
 * the same two-pass loader as {@link loadToDataset} with an in-memory sink. Throws NotFoundError,
 * DataError (naming source, row, line, column), SourceError (unreachable host, SQL or HTTP error) or
 * ConfigError.
 */
export async function loadSource(options: LoadOptions): Promise<LoadResult> {
  const sink = new MemoryTableSink();
  const spoolNear = join(tmpdir(), 'mlpipe-load');
  // A killed load (kill -9, power loss) leaves its spool behind: remove those whose owner is gone.
  await removeStaleTemps(spoolNear, [tmpdir()]);
  const result = await run(options, sink, spoolNear);
  const { schema, rows, lineage, profile, warnings, skipped } = result;
  return { table: sink.table(), schema, rows, lineage, profile, warnings, skipped };
}

/**
 * Loads a source into the dataset file `out` with memory bounded by the chunk size: the spool lives
 * beside `out` and is always removed; the dataset is written batch by batch to a temporary file that is
 * renamed onto `out` only when complete, so on any error `out` is left as it was. Temporary files for
 * `out` left by a load that was killed (their owner process gone) are removed first.
 */
export async function loadToDataset(options: LoadOptions & { out: string }): Promise<DatasetLoadResult> {
  // A killed load leaves its temporary dataset and spool (named after `out`, with the owner's pid): remove those whose owner is gone.
  await removeStaleTemps(options.out);
  return run(options, new ArrowFileSink(options.out), options.out);
}
