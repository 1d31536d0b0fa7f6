import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { type Readable, Transform, pipeline } from 'node:stream';
import { DataError, MlpipeError, NotFoundError, quoteText } from '../errors.js';
import { TEXT_FORMATS, type TextFormat, formatOfExtension } from './formats.js';
import { fileSource } from './sources/file.js';
import type { CsvOptions, RawValue } from './sources/types.js';

/** The file formats {@link readRawFile} reads: the text ones and `arrow` (a dataset written by `mlpipe load`). */
export type SourceFormat = TextFormat | 'arrow';
const SOURCE_FORMATS: readonly SourceFormat[] = [...TEXT_FORMATS, 'arrow'];

/**
 * Rows as read from a file, before typing: values are CSV strings or JSON scalars. `lines[i]` is the
 * physical line where row i+1 starts (CSV, NDJSON), used in error messages.
 */
export interface RawTable {
  /** How the source is named in messages (the path as given). */
  source: string;
  format: SourceFormat;
  columnNames: string[];
  rows: unknown[][];
  lines?: number[];
  /**
   * With {@link ReadOptions.keepMalformedRows}: the rows the reader could not read, by index into
   * `rows` (where they are empty), with the error that says why.
   */
  malformed?: Map<number, DataError>;
  /** Things the user should know, e.g. a renamed duplicate header. */
  warnings: string[];
}

/** Options of {@link readRawFile}. */
export interface ReadOptions extends Omit<CsvOptions, 'delimiter'> {
  /** Overrides the format implied by the extension. */
  format?: SourceFormat;
  /** CSV field delimiter; by default sniffed from the header line (`,` `;` tab or `|`). */
  delimiter?: string;
  /** Stream to read when the path is `-` (standard input). */
  stdin?: Readable;
  /**
   * Keep a row the reader cannot read (a CSV row with the wrong number of fields, an NDJSON line that
   * is not JSON or not a record, a JSON array element that is not a record) in place, empty, and
   * listed in {@link RawTable.malformed}, instead of throwing. An unclosed CSV quote still throws.
   */
  keepMalformedRows?: boolean;
}

/**
 * Picks the format from an explicit choice or the file's extension (`.gz` is looked through).
 * Throws a usage-level error for an unknown extension.
 */
export function detectFormat(path: string, explicit?: string): SourceFormat {
  if (explicit !== undefined) {
    const f = explicit.toLowerCase() as SourceFormat;
    if (!SOURCE_FORMATS.includes(f)) {
      throw new MlpipeError('usage', `unknown format "${explicit}": expected one of ${SOURCE_FORMATS.join(', ')}`);
    }
    return f;
  }
  const f = formatOfExtension(path);
  if (f !== undefined && (SOURCE_FORMATS as readonly string[]).includes(f)) return f as SourceFormat;
  throw new MlpipeError(
    'usage',
    `${path}: cannot tell the format from the extension "${extname(path)}"; use --format (${SOURCE_FORMATS.join(', ')})`,
  );
}

/**
 * Checks that a source file exists and is not a folder, and returns its size in bytes.
 * NotFoundError `<path>: file not found` when it is missing.
 */
export async function statSourceFile(path: string): Promise<number> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch {
    throw new NotFoundError(`${path}: file not found`);
  }
  if (st.isDirectory()) throw new MlpipeError('data_error', `${path}: is a folder, not a file`);
  return st.size;
}

/** A source file opened for streaming by {@link openSourceFile}. */
export interface SourceFile {
  /** The file's bytes. */
  stream: Readable;
  /** Size from the file system when it was opened. */
  bytes: number;
  /** Hex sha256 of the bytes (as `sha256File` writes it), once the stream has been read to its end. */
  sha256(): string | undefined;
}

/**
 * Opens a source file for streaming, hashing its bytes as they pass (no second read for the lineage).
 * NotFoundError for a missing file, an error for a folder.
 */
export async function openSourceFile(path: string): Promise<SourceFile> {
  const bytes = await statSourceFile(path);
  const hash = createHash('sha256');
  let digest: string | undefined;
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      digest = hash.digest('hex');
      callback();
    },
  });
  const stream = pipeline(createReadStream(path), hasher, () => {
    // errors reach the reader through the last stream
  });
  return { stream, bytes, sha256: () => digest };
}

/**
 * Counts delimiter candidates outside quotes in the header line and picks the most frequent
 * (a comma when there are none).
 */
export function sniffDelimiter(headerLine: string, quote = '"'): string {
  const candidates = [',', ';', '\t', '|'];
  const counts = new Map<string, number>(candidates.map((c) => [c, 0]));
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === quote) quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = ',';
  let bestCount = 0;
  for (const [c, n] of counts) {
    if (n > bestCount) {
      best = c;
      bestCount = n;
    }
  }
  return best;
}

/**
 * The widest table mlpipe reads: 100,000 columns. Every stage keeps per-column state (an inferrer, a
 * profile, an Arrow field, a chunk's spans are rows × columns), so a wider header costs gigabytes
 * before the first row; no table a model is trained on is that wide, and a header that wide is
 * almost always a file that is not a table (or a delimiter sniffed wrong).
 */
export const MAX_COLUMNS = 100_000;

/** The longest column name mlpipe takes: 1,000 characters (a longer "name" is data on the wrong line). */
export const MAX_COLUMN_NAME_LENGTH = 1_000;

/** Refuses a table wider than {@link MAX_COLUMNS}, naming the source. */
export function checkColumnCount(count: number, source: string, what = 'the header has'): void {
  if (count > MAX_COLUMNS) {
    throw new DataError(
      { source },
      `${what} ${count.toLocaleString('en-US')} columns, more than mlpipe reads (${MAX_COLUMNS.toLocaleString('en-US')}); ` +
        'is this a table, and is the delimiter right (--delimiter)?',
    );
  }
}

/** Refuses a column name longer than {@link MAX_COLUMN_NAME_LENGTH} (column `index`, 0-based), naming the source. */
export function checkColumnName(name: string, index: number, source: string): void {
  if (name.length > MAX_COLUMN_NAME_LENGTH) {
    throw new DataError(
      { source },
      `column ${index + 1}'s name ${quoteText(name)} is longer than mlpipe takes (${MAX_COLUMN_NAME_LENGTH.toLocaleString('en-US')} characters); ` +
        'is the first line a header (--no-header if not), and are the quotes closed?',
    );
  }
}

/**
 * Gives header names that are safe to use: blank names become `unnamed_<n>` and repeated names get a
 * `_2`, `_3` suffix, each with a warning. Refuses more than {@link MAX_COLUMNS} columns and names longer
 * than {@link MAX_COLUMN_NAME_LENGTH}. Linear in the number of names: the next suffix to try is kept
 * per name, so `a,a,a,…` does not search from `_2` again for every column.
 */
export function cleanHeader(names: string[], source: string, warnings: string[]): string[] {
  checkColumnCount(names.length, source);
  const seen = new Set<string>();
  /** Per repeated name, the suffix to try next (every smaller one is taken). */
  const nextSuffix = new Map<string, number>();
  return names.map((raw, i) => {
    let name = raw.trim();
    checkColumnName(name, i, source);
    if (name === '') {
      name = `unnamed_${i + 1}`;
      warnings.push(`${source}: column ${i + 1} has no name; calling it ${quoteText(name)}`);
    }
    if (seen.has(name)) {
      let k = nextSuffix.get(name) ?? 2;
      while (seen.has(`${name}_${k}`)) k++;
      nextSuffix.set(name, k + 1);
      const renamed = `${name}_${k}`;
      warnings.push(`${source}: column name ${quoteText(name)} appears more than once; column ${i + 1} is renamed ${quoteText(renamed)}`);
      name = renamed;
    }
    seen.add(name);
    return name;
  });
}

/** Rows per chunk when {@link readRawFile} collects a streaming source. */
const COLLECT_CHUNK_ROWS = 8192;

/**
 * Reads a CSV/TSV, JSON (array of records) or NDJSON file, or `-` for standard input, into raw rows:
 * the chunks of {@link fileSource} (or `stdinSource` for `-`) collected into one table.
 * Throws {@link NotFoundError} for a missing file and {@link DataError} naming file, row (and line) and
 * column for malformed content (unless `keepMalformedRows` keeps a malformed row in place).
 */
export async function readRawFile(path: string, options: ReadOptions = {}): Promise<RawTable> {
  const format = path === '-' && !options.format ? undefined : detectFormat(path, options.format);
  if (format === 'arrow') {
    if (path !== '-') await statSourceFile(path);
    throw new MlpipeError('usage', `${basename(path)}: Arrow datasets are read with readDataset, not readRawFile`);
  }
  if (path === '-' && !options.stdin) throw new MlpipeError('usage', 'reading "-" needs standard input');
  const source = fileSource(
    {
      kind: 'file',
      path,
      format,
      delimiter: options.delimiter,
      quote: options.quote,
      encoding: options.encoding,
      header: options.header,
    },
    { stdin: options.stdin, keepMalformedRows: options.keepMalformedRows },
  );
  let columnNames: string[] = [];
  const rows: RawValue[][] = [];
  let lines: number[] | undefined;
  let malformed: Map<number, DataError> | undefined;
  for await (const chunk of source.chunks(COLLECT_CHUNK_ROWS)) {
    columnNames = chunk.columns;
    const first = rows.length;
    for (const row of chunk.rows) rows.push(row);
    for (const m of chunk.malformed ?? []) {
      rows[first + m.index] = [];
      (malformed ??= new Map()).set(first + m.index, m.error);
    }
    if (chunk.lines) {
      lines ??= [];
      for (const line of chunk.lines) lines.push(line);
    }
  }
  const table: RawTable = {
    source: source.name,
    format: (source.lineage().format ?? format ?? 'csv') as SourceFormat,
    columnNames,
    rows,
    warnings: source.warnings,
  };
  if (lines) table.lines = lines;
  if (malformed) table.malformed = malformed;
  return table;
}
