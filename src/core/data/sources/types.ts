import type { DataError } from '../../errors.js';
import type { DeclaredType } from '../../values.js';
import type { FileFormat, TextFormat } from '../formats.js';

/**
 * One value as a source yields it, before mlpipe types it: CSV text, a JSON scalar, a database value
 * (numbers, booleans, Dates for timestamps, bigint for 64-bit integers), `null`/`undefined` when missing.
 * JSON records (files, stdin, commands, HTTP) are flattened first (nested objects into dotted columns,
 * Extended JSON unwrapped, arrays as their JSON text: src/core/records/flatten.ts); other nested values
 * (database json, Parquet lists and structs) are yielded as their JSON text.
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
  /**
   * The same rows as spans of one text, when the source has them (CSV): the loader reads the values
   * there without a string per value, and `rows` is then made only when it is read. Not enumerable.
   */
  spans?: TextRows;
  /**
   * Rows the reader could not read (a CSV row with the wrong number of fields, an NDJSON line that is
   * not JSON, a JSON value that is not a record), only when the source was asked to keep them in place
   * (`keepMalformedRows`) instead of throwing: their values are all missing, `lines` holds their line.
   */
  malformed?: MalformedRow[];
}

/** A row of a {@link RawChunk} that the reader could not read. */
export interface MalformedRow {
  /** Index of the row in its chunk. */
  index: number;
  /** What the reader would have thrown, naming the source, row, line (and column). */
  error: DataError;
}

/**
 * Rows of strings as spans of one text: the value of row `i`, column `j` is
 * `text.slice(starts[k], ends[k])` with `k = i * width + j`, unless `escaped` holds it.
 */
export interface TextRows {
  text: string;
  rowCount: number;
  width: number;
  starts: Int32Array;
  ends: Int32Array;
  /** Values that are not a span of the text (a quoted CSV value with a doubled quote), by `k`. */
  escaped?: Map<number, string>;
}

/** Value `k` (`row * width + column`) of {@link TextRows}. */
export function textRowsValue(spans: TextRows, k: number): string {
  const escaped = spans.escaped?.get(k);
  return escaped ?? spans.text.slice(spans.starts[k], spans.ends[k]);
}

/** The number of rows of a chunk (without making the rows of a chunk of spans). */
export function chunkRowCount(chunk: RawChunk): number {
  return chunk.spans ? chunk.spans.rowCount : chunk.rows.length;
}

/**
 * A chunk of {@link TextRows}: `rows` is made from the spans when first read, `spans` is not
 * enumerable (so a chunk compares equal to one of the same rows).
 */
export function textRowsChunk(columns: string[], spans: TextRows, lines: number[]): RawChunk {
  let rows: RawValue[][] | undefined;
  const chunk = { columns } as RawChunk;
  Object.defineProperty(chunk, 'rows', {
    enumerable: true,
    configurable: true,
    get: () => {
      if (!rows) {
        const { rowCount, width } = spans;
        rows = new Array<RawValue[]>(rowCount);
        for (let i = 0; i < rowCount; i++) {
          const row = new Array<RawValue>(width);
          for (let j = 0; j < width; j++) row[j] = textRowsValue(spans, i * width + j);
          rows[i] = row;
        }
      }
      return rows;
    },
    set: (value: RawValue[][]) => {
      rows = value;
    },
  });
  chunk.lines = lines;
  Object.defineProperty(chunk, 'spans', { value: spans, enumerable: false });
  return chunk;
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
   * Column types the source itself declares (database column types, a Parquet schema, an mlpipe
   * dataset's types with the day/month order of its datetime columns: `datetime:dmy`) mapped to
   * mlpipe's; the loader uses them instead of inference, unless the config overrides them.
   * Complete once `chunks` has yielded its first chunk.
   */
  declaredTypes(): Record<string, DeclaredType>;
  /** The rows, chunk by chunk. Can be iterated once. */
  chunks(chunkRows: number): AsyncIterable<RawChunk>;
  /** Lineage with secrets removed; complete (rows, bytes, pages) after `chunks` has finished. */
  lineage(): SourceLineage;
}

/** Text formats a file, standard input or a command's output can be in (declared in data/formats.ts). */
export type { TextFormat };

/** Options for delimited text (CSV/TSV), in pipeline.yaml's `source:` and on `mlpipe load`. */
export interface CsvOptions {
  /** Field delimiter; default sniffed from the first line (`,` `;` tab `|`), tab for TSV. */
  delimiter?: string;
  /** Quote character, default `"`. */
  quote?: string;
  /** Text encoding (any WHATWG label Node's TextDecoder knows: utf-8, latin1, utf-16le …), default utf-8. */
  encoding?: string;
  /** false: the first line is data and columns are named column_1, column_2 … (default true). */
  header?: boolean;
}

/** A file: CSV/TSV/JSON/NDJSON (optionally .gz), .xlsx, .parquet, or an mlpipe .arrow dataset. */
export interface FileSourceSpec extends CsvOptions {
  kind: 'file';
  path: string;
  /** Overrides the format implied by the extension. */
  format?: FileFormat;
  /** Spreadsheet: sheet name (default: the first sheet) and an A1 range such as `B2:F100`. */
  sheet?: string;
  range?: string;
}

/** Standard input (`-`): CSV/TSV/JSON/NDJSON, sniffed from the first character unless `format` is given. */
export interface StdinSourceSpec extends CsvOptions {
  kind: 'stdin';
  format?: TextFormat;
}

/** A command run through the shell whose standard output is the data (e.g. `mongoexport …`, `redis-cli …`). */
export interface CommandSourceSpec extends CsvOptions {
  kind: 'command';
  command: string;
  /** Output format, default ndjson. */
  format?: TextFormat;
}

/**
 * An SQL database. `url`: `postgres://user:${PGPASSWORD}@host:5432/db`, `mysql://…` / `mariadb://…`,
 * `sqlite:path/to/file.db` (or a path ending .db/.sqlite/.sqlite3). `${NAME}` is read from the
 * environment. Exactly one of `query` and `table`.
 */
export interface SqlSourceSpec {
  kind: 'sql';
  url: string;
  query?: string;
  table?: string;
}

/** Pagination of an HTTP JSON API. */
export type HttpPagination =
  /** `?page=1,2,…` (param name, first page, page size param and value optional). */
  | { type: 'page'; param?: string; start?: number; sizeParam?: string; size?: number }
  /** `?offset=0,n,2n,…` with `limitParam=n`. */
  | { type: 'offset'; param?: string; limitParam?: string; limit: number }
  /** The next request carries a cursor taken from the response at `cursorPath` (JSON Pointer or dotted path), sent as `param`. */
  | { type: 'cursor'; cursorPath: string; param: string }
  /** The next URL comes from the response's `Link: <…>; rel="next"` header. */
  | { type: 'link' };

/** An HTTP JSON API. `${NAME}` in url, headers and token is read from the environment. */
export interface HttpSourceSpec {
  kind: 'http';
  url: string;
  method?: 'GET' | 'POST';
  /** JSON body for POST. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer …`; normally `${API_TOKEN}`. */
  bearerToken?: string;
  /** Where the records are in each response (dotted path or JSON Pointer); default: the response itself when it is an array, else its only array property. */
  recordsPath?: string;
  pagination?: HttpPagination;
  /** Retries on 429, 5xx and network errors, with exponential backoff honouring Retry-After (default 4). */
  retries?: number;
  /** Per-request timeout in milliseconds (default 30000). */
  timeoutMs?: number;
  /** Stop after this many records. */
  maxRecords?: number;
}

/** Any one source. */
export type SourceSpec = FileSourceSpec | StdinSourceSpec | CommandSourceSpec | SqlSourceSpec | HttpSourceSpec;
