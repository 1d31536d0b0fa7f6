import type { ColumnType } from '../../values.js';

/**
 * One value as a source yields it, before mlpipe types it: CSV text, a JSON scalar, a database value
 * (numbers, booleans, Dates for timestamps, bigint for 64-bit integers), `null`/`undefined` when missing.
 * Nested values (arrays, objects, database json) are yielded as their JSON text.
 */
export type RawValue = string | number | boolean | bigint | Date | null | undefined;

/**
 * A chunk of rows read from a source. `columns` lists every column the source has shown so far, in
 * first-seen order; it only grows between chunks (JSON records may bring new keys), so a row shorter
 * than `columns` is missing the values at its end. Rows are numbered by the consumer, 1-based, across
 * chunks.
 */
export interface RawChunk {
  columns: string[];
  rows: RawValue[][];
  /** Physical line (1-based) where each row starts, when the source is a text file. */
  lines?: number[];
}

/**
 * Where data came from, as recorded in the dataset file's lineage and the bundle manifest. It never
 * holds a password, token or secret header: URLs and connection strings are passed through
 * {@link redactUrl} (src/core/data/sources/redact.ts) before they are stored here.
 */
export interface SourceLineage {
  kind: 'file' | 'stdin' | 'command' | 'sqlite' | 'postgres' | 'mysql' | 'http' | 'dataset' | 'join' | 'concat';
  /** File path as given (file, sqlite, dataset). */
  path?: string;
  /** File format (csv, tsv, json, ndjson, xlsx, parquet, arrow) or the command's output format. */
  format?: string;
  /** Size and sha256 of a source file's bytes. */
  bytes?: number;
  sha256?: string;
  /** Database server host[:port] and database name (postgres, mysql). */
  host?: string;
  database?: string;
  /** The SQL query run, or the table read. */
  query?: string;
  table?: string;
  /** HTTP URL with credentials and secret query parameters removed; method; pages fetched. */
  url?: string;
  method?: string;
  pages?: number;
  /** The command run (`--from-command`), as given; environment values are never expanded into it. */
  command?: string;
  /** Spreadsheet sheet and range read. */
  sheet?: string;
  range?: string;
  /** Rows this source yielded. */
  rows?: number;
  /** The dataset this one was read from (`dataset`), or the sources combined (`join`, `concat`). */
  parent?: unknown;
  sources?: SourceLineage[];
  /** Join keys and how (`join`). */
  on?: string[];
  how?: 'inner' | 'left';
}

/**
 * A source of rows: a file, a database query, an HTTP API, a command's output. Reading is streaming:
 * `chunks` yields about `chunkRows` rows at a time and never holds the whole source in memory (except
 * where a format makes that impossible, e.g. a JSON array, which is documented per source).
 *
 * Errors: a missing file is a NotFoundError; bad content a DataError naming the source (`name`), row,
 * line and column; an unreachable host, bad credentials, an SQL error or an HTTP error a SourceError
 * (src/core/data/sources/errors.ts) with a one-line message naming the source. Messages never contain a
 * secret. Breaking out of the iteration (or an error) releases connections, cursors, child processes.
 */
export interface RecordSource {
  /** How the source is named in messages: a path, `stdin`, a redacted URL, `postgres://host/db`. */
  readonly name: string;
  /** Things the user should know (a renamed duplicate header, a skipped empty sheet row). */
  readonly warnings: string[];
  /**
   * Column types the source itself declares (database column types, a Parquet schema) mapped to
   * mlpipe's; the loader uses them instead of inference, unless the config overrides them.
   * Complete once `chunks` has yielded its first chunk.
   */
  declaredTypes(): Record<string, ColumnType>;
  /** The rows, chunk by chunk. Can be iterated once. */
  chunks(chunkRows: number): AsyncIterable<RawChunk>;
  /** Lineage with secrets removed; complete (rows, bytes, pages) after `chunks` has finished. */
  lineage(): SourceLineage;
}
