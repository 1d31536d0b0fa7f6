import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { DataError, MlpipeError, NotFoundError, messageOf } from '../errors.js';

/** File formats mlpipe reads. `arrow` is a dataset written by `mlpipe load`. */
export type SourceFormat = 'csv' | 'tsv' | 'json' | 'ndjson' | 'arrow';
export const SOURCE_FORMATS: readonly SourceFormat[] = ['csv', 'tsv', 'json', 'ndjson', 'arrow'];

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
  /** Things the user should know, e.g. a renamed duplicate header. */
  warnings: string[];
}

/** Options of {@link readRawFile}. */
export interface ReadOptions {
  /** Overrides the format implied by the extension. */
  format?: SourceFormat;
  /** CSV field delimiter; by default sniffed from the header line (`,` `;` tab or `|`). */
  delimiter?: string;
  /** Stream to read when the path is `-` (standard input). */
  stdin?: Readable;
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
  let name = path.toLowerCase();
  if (name.endsWith('.gz')) name = name.slice(0, -3);
  const ext = extname(name).slice(1);
  if (ext === 'csv' || ext === 'txt') return 'csv';
  if (ext === 'tsv' || ext === 'tab') return 'tsv';
  if (ext === 'json') return 'json';
  if (ext === 'ndjson' || ext === 'jsonl') return 'ndjson';
  if (ext === 'arrow' || ext === 'feather' || ext === 'ipc') return 'arrow';
  throw new MlpipeError(
    'usage',
    `${path}: cannot tell the format from the extension "${extname(path)}"; use --format (${SOURCE_FORMATS.join(', ')})`,
  );
}

async function openInput(path: string, options: ReadOptions): Promise<Readable> {
  if (path === '-') {
    if (!options.stdin) throw new MlpipeError('usage', 'reading "-" needs standard input');
    return options.stdin;
  }
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new MlpipeError('data_error', `${path}: is a folder, not a file`);
  } catch (err) {
    if (err instanceof MlpipeError) throw err;
    throw new NotFoundError(`${path}: file not found`);
  }
  const stream = createReadStream(path);
  return path.toLowerCase().endsWith('.gz') ? stream.pipe(createGunzip()) : stream;
}

/** Reads a whole stream as UTF-8 text (with a byte-order mark removed). */
async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  const text = Buffer.concat(chunks).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Counts delimiter candidates outside quotes in the header line and picks the most frequent. */
export function sniffDelimiter(headerLine: string): string {
  const candidates = [',', ';', '\t', '|'];
  const counts = new Map<string, number>(candidates.map((c) => [c, 0]));
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
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
 * Gives header names that are safe to use: blank names become `unnamed_<n>` and repeated names get a
 * `_2`, `_3` suffix, each with a warning.
 */
export function cleanHeader(names: string[], source: string, warnings: string[]): string[] {
  const seen = new Set<string>();
  return names.map((raw, i) => {
    let name = raw.trim();
    if (name === '') {
      name = `unnamed_${i + 1}`;
      warnings.push(`${source}: column ${i + 1} has no name; calling it "${name}"`);
    }
    if (seen.has(name)) {
      let k = 2;
      while (seen.has(`${name}_${k}`)) k++;
      warnings.push(`${source}: column name "${name}" appears more than once; column ${i + 1} is renamed "${name}_${k}"`);
      name = `${name}_${k}`;
    }
    seen.add(name);
    return name;
  });
}

type ParsedRecord = { record: string[]; info: { lines: number; empty_lines: number } };

/**
 * The physical line where a record starts: the line after the previous record ends, plus the empty
 * lines skipped in between (`empty_lines` counts them cumulatively).
 */
function startLine(previous: ParsedRecord['info'] | undefined, emptyLinesSoFar: number): number {
  return (previous?.lines ?? 0) + 1 + (emptyLinesSoFar - (previous?.empty_lines ?? 0));
}

async function readCsv(path: string, input: Readable, delimiterOption: string | undefined, isTsv: boolean): Promise<RawTable> {
  const source = path === '-' ? 'stdin' : path;
  const text = await readText(input);
  const newline = text.indexOf('\n');
  const delimiter = delimiterOption ?? (isTsv ? '\t' : sniffDelimiter(newline < 0 ? text : text.slice(0, newline)));
  const options = { delimiter, bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true } as const;
  let parsed: ParsedRecord[];
  try {
    parsed = parseCsvSync(text, options) as unknown as ParsedRecord[];
  } catch (err) {
    throw csvError(source, err, text, options);
  }
  const first = parsed[0];
  if (!first) throw new DataError({ source }, 'the file is empty: expected a header line with column names');
  const warnings: string[] = [];
  const header = cleanHeader(first.record, source, warnings);
  const rows: unknown[][] = new Array(parsed.length - 1);
  const lines: number[] = new Array(parsed.length - 1);
  for (let i = 1; i < parsed.length; i++) {
    const { record, info } = parsed[i]!;
    if (record.length !== header.length) {
      const line = startLine(parsed[i - 1]?.info, info.empty_lines);
      const got = record.length;
      const column = got > header.length ? `#${header.length + 1} (extra)` : (header[got] as string);
      throw new DataError(
        { source, row: i, line, column },
        `expected ${header.length} fields like the header, found ${got}` +
          (got < header.length ? ' (a value is missing, or a quote is not closed)' : ' (a delimiter inside an unquoted value?)'),
      );
    }
    rows[i - 1] = record;
    lines[i - 1] = startLine(parsed[i - 1]?.info, info.empty_lines);
  }
  return { source, format: isTsv ? 'tsv' : 'csv', columnNames: header, rows, lines, warnings };
}

function csvError(source: string, err: unknown, text: string, options: Record<string, unknown>): DataError {
  const e = err as { code?: string; lines?: number; records?: number; empty_lines?: number; column?: number | string | null };
  // `records` counts the complete records before the bad one, header included.
  const done = typeof e.records === 'number' ? e.records : undefined;
  let header: string[] | undefined;
  let line = e.lines;
  if (done !== undefined && done > 0) {
    try {
      const before = parseCsvSync(text, { ...options, to: done }) as unknown as ParsedRecord[];
      header = before[0]?.record;
      const last = before[before.length - 1]?.info;
      line = startLine(last, e.empty_lines ?? last?.empty_lines ?? 0);
    } catch {
      // keep what the error said
    }
  }
  const row = done === undefined || done === 0 ? undefined : done;
  const where = { source, row, line: row === undefined ? e.lines : line };
  switch (e.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return new DataError(where, 'a quoted value is never closed (missing ")');
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE': {
      const index = typeof e.column === 'number' ? e.column : undefined;
      const column = index !== undefined ? (header?.[index] ?? `#${index + 1}`) : undefined;
      return new DataError({ ...where, column }, 'unexpected character after a closing quote (a quote inside a value must be doubled: "")');
    }
    default:
      return new DataError(where, `malformed CSV: ${messageOf(err)}`);
  }
}

/** Line and column (1-based) of a character offset in a text. */
function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastBreak = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastBreak = i;
    }
  }
  return { line, column: offset - lastBreak };
}

/** `lineOffset` is the number of lines before `text` in the file (NDJSON); undefined for a whole file. */
function parseJsonText(text: string, source: string, lineOffset?: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec(messageOf(err));
    const reason = messageOf(err).replace(/ in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, '');
    if (m) {
      const { line, column } = lineColumnAt(text, Number(m[1]));
      throw new DataError({ source, line: line + (lineOffset ?? 0) }, `invalid JSON at character ${column}: ${reason}`);
    }
    throw new DataError({ source, line: lineOffset === undefined ? undefined : lineOffset + 1 }, `invalid JSON: ${reason}`);
  }
}

/** Collects records (objects of scalars) into rows over the union of their keys, in first-seen order. */
class RecordCollector {
  readonly columnNames: string[] = [];
  private readonly index = new Map<string, number>();
  readonly rows: unknown[][] = [];
  readonly lines: number[] = [];

  constructor(private readonly source: string) {}

  add(value: unknown, row: number, line?: number): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DataError({ source: this.source, row, line }, `expected a record (a JSON object), found ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
    }
    const out: unknown[] = new Array(this.columnNames.length);
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== null && typeof v === 'object') {
        throw new DataError(
          { source: this.source, row, line, column: key },
          `nested ${Array.isArray(v) ? 'arrays' : 'objects'} are not supported: every value must be a string, number, boolean or null`,
        );
      }
      let j = this.index.get(key);
      if (j === undefined) {
        j = this.columnNames.length;
        this.columnNames.push(key);
        this.index.set(key, j);
      }
      out[j] = v;
    }
    this.rows.push(out);
    if (line !== undefined) this.lines.push(line);
  }
}

async function readJson(path: string, input: Readable): Promise<RawTable> {
  const source = path === '-' ? 'stdin' : path;
  const text = await readText(input);
  if (text.trim() === '') throw new DataError({ source }, 'the file is empty: expected a JSON array of records');
  const doc = parseJsonText(text, source);
  let records: unknown = doc;
  if (!Array.isArray(records)) {
    // Accept {"records": [...]} / {"data": [...]} wrappers, common in API exports.
    const wrapped = doc && typeof doc === 'object' ? Object.values(doc as object).filter(Array.isArray) : [];
    if (wrapped.length === 1) records = wrapped[0];
    else throw new DataError({ source }, 'expected a JSON array of records (or an object holding exactly one such array)');
  }
  const collector = new RecordCollector(source);
  (records as unknown[]).forEach((r, i) => collector.add(r, i + 1));
  return { source, format: 'json', columnNames: collector.columnNames, rows: collector.rows, warnings: [] };
}

async function readNdjson(path: string, input: Readable): Promise<RawTable> {
  const source = path === '-' ? 'stdin' : path;
  const collector = new RecordCollector(source);
  const rl = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  let row = 0;
  for await (const raw of rl) {
    line++;
    const text = line === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (text.trim() === '') continue;
    row++;
    collector.add(parseJsonText(text, source, line - 1), row, line);
  }
  return { source, format: 'ndjson', columnNames: collector.columnNames, rows: collector.rows, lines: collector.lines, warnings: [] };
}

/**
 * Reads a CSV/TSV, JSON (array of records) or NDJSON file, or `-` for standard input, into raw rows.
 * Throws {@link NotFoundError} for a missing file and {@link DataError} naming file, row (and line) and
 * column for malformed content.
 */
export async function readRawFile(path: string, options: ReadOptions = {}): Promise<RawTable> {
  const format = path === '-' && !options.format ? undefined : detectFormat(path, options.format);
  const input = await openInput(path, options);
  try {
    switch (format) {
      case 'csv':
      case 'tsv':
        return await readCsv(path, input, options.delimiter, format === 'tsv');
      case 'json':
        return await readJson(path, input);
      case 'ndjson':
        return await readNdjson(path, input);
      case 'arrow':
        throw new MlpipeError('usage', `${basename(path)}: Arrow datasets are read with readDataset, not readRawFile`);
      case undefined: {
        // stdin without --format: sniff JSON / NDJSON / CSV from the first character.
        const text = await readText(input);
        const { Readable } = await import('node:stream');
        const first = text.trimStart()[0];
        const again = Readable.from([text]);
        if (first === '[') return await readJson(path, again);
        if (first === '{') return await readNdjson(path, again);
        return await readCsv(path, again, options.delimiter, false);
      }
    }
  } catch (err) {
    if (err instanceof MlpipeError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'Z_DATA_ERROR') throw new DataError({ source: path }, 'not a valid gzip file');
    throw new DataError({ source: path }, messageOf(err), { cause: err });
  }
}
