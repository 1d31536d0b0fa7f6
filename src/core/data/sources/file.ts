/**
 * Streaming sources of delimited text and JSON: files (optionally gzip-compressed), standard input and
 * the output of a command (command.ts). One parser ({@link textStreamSource}) serves all three; `.xlsx` and
 * `.parquet` files are handed to excel.ts and parquet.ts.
 *
 * Memory stays flat whatever the size of the input: CSV/TSV goes through mlpipe's own streaming parser
 * (csv-parser.ts), NDJSON is read line by line, and rows leave in chunks of about `chunkRows`. The one
 * exception is a JSON array (`[{…}, {…}]`), which has to be parsed whole: its text and records are held in memory
 * (use NDJSON for large data).
 */
import { extname } from 'node:path';
import { type Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DataError, MlpipeError, messageOf } from '../../errors.js';
import { type SourceFile, openSourceFile } from '../files.js';
import { FILE_FORMATS, type FileFormat, TEXT_FORMATS, formatOfExtension } from '../formats.js';
import { TextInput, asSourceError, csvChunks, csvSettings, decodeText } from './csv-chunks.js';
import { readOnce } from './once.js';
import { excelSource } from './excel.js';
import { parquetSource } from './parquet.js';
import { RecordCollector } from './records.js';
import {
  type CsvOptions,
  type FileSourceSpec,
  type RawChunk,
  type RecordSource,
  type SourceLineage,
  type StdinSourceSpec,
  type TextFormat,
  chunkRowCount,
} from './types.js';


/**
 * A file: CSV/TSV/JSON/NDJSON (optionally `.gz`), `.xlsx` or `.parquet`, by extension unless
 * `spec.format` says otherwise. The path `-` reads `io.stdin` (see {@link stdinSource}). Arrow datasets
 * are not record sources: the loader reads them (a usage error here). With `keepMalformedRows` (text
 * formats only), a row the reader cannot read is yielded in place as a {@link MalformedRow} instead of
 * ending the reading with a DataError.
 */
export function fileSource(spec: FileSourceSpec, io: { stdin?: Readable; keepMalformedRows?: boolean } = {}): RecordSource {
  const keepMalformedRows = io.keepMalformedRows === true;
  const { path } = spec;
  if (path === '-') {
    const format = spec.format === undefined ? undefined : checkFormat(spec.format, FILE_FORMATS);
    if (format !== undefined && !TEXT_FORMATS.includes(format as TextFormat)) {
      throw new MlpipeError('usage', `standard input can be read as ${TEXT_FORMATS.join(', ')}, not ${format}`);
    }
    if (!io.stdin) throw new MlpipeError('usage', 'reading "-" needs standard input');
    return stdinSource({ ...csvOptionsOf(spec), kind: 'stdin', format: format as TextFormat | undefined }, io.stdin, { keepMalformedRows });
  }
  const format = fileFormat(path, spec.format);
  if (format === 'arrow') {
    throw new MlpipeError('usage', `${path}: Arrow datasets are read by the loader (mlpipe load), not as a record source`);
  }
  const gzip = path.toLowerCase().endsWith('.gz');
  if ((format === 'xlsx' || format === 'parquet') && gzip) {
    throw new MlpipeError('usage', `${path}: a compressed ${format} file cannot be read; decompress it first`);
  }
  if (format === 'xlsx') return excelSource(spec);
  if (format === 'parquet') return parquetSource(spec);
  let file: SourceFile | undefined;
  return textStreamSource(
    path,
    async () => {
      file = await openSourceFile(path);
      return gzip ? pipeline(file.stream, createGunzip(), () => {}) : file.stream;
    },
    { ...csvOptionsOf(spec), format, keepMalformedRows },
    () => ({ kind: 'file', path, format, bytes: file?.bytes, sha256: file?.sha256() }),
  );
}

/**
 * Standard input, named `stdin` in messages. Without `spec.format` the format is sniffed from the first
 * character that is not white space: `[` JSON, `{` NDJSON, anything else CSV. `keepMalformedRows`: as
 * for {@link fileSource}.
 */
export function stdinSource(spec: StdinSourceSpec, stdin: Readable, { keepMalformedRows = false } = {}): RecordSource {
  const format = spec.format === undefined ? undefined : (checkFormat(spec.format, TEXT_FORMATS) as TextFormat);
  return streamSource('stdin', async () => stdin, { ...csvOptionsOf(spec), format, keepMalformedRows }, () => ({ kind: 'stdin' }));
}

/**
 * The streaming parser behind {@link fileSource}, {@link stdinSource} and {@link commandSource}: reads
 * the bytes `open` returns as CSV/TSV/JSON/NDJSON text, decoded with `options.encoding`, and yields
 * rows in chunks. `name` names the source in messages; `lineage` gives the source's own lineage, to
 * which the format and the number of rows yielded are added. `open` is called when iteration starts;
 * the stream is destroyed when it ends (also early). `keepMalformedRows`: see {@link fileSource}.
 */
export function textStreamSource(
  name: string,
  open: () => Promise<Readable>,
  options: CsvOptions & { format: TextFormat; keepMalformedRows?: boolean },
  lineage: () => SourceLineage,
): RecordSource {
  return streamSource(name, open, options, lineage);
}

/** {@link textStreamSource}, with the format sniffed from the text when `options.format` is not given. */
function streamSource(
  name: string,
  open: () => Promise<Readable>,
  options: CsvOptions & { format?: TextFormat; keepMalformedRows?: boolean },
  lineage: () => SourceLineage,
): RecordSource {
  const keep = options.keepMalformedRows === true;
  const settings = csvSettings(options, name);
  const warnings: string[] = [];
  let format = options.format;
  let rows = 0;
  return {
    name,
    warnings,
    declaredTypes: () => ({}),
    lineage: () => {
      const base = lineage();
      return compact({ ...base, format: format ?? base.format, rows });
    },
    chunks: readOnce(name, async function* (size: number): AsyncGenerator<RawChunk> {
      let input: Readable | undefined;
      try {
        input = await open();
        const text = new TextInput(decodeText(input, settings.encoding));
        if (format === undefined) {
          const head = await text.peek((t) => /\S/.test(t));
          const first = /\S/.exec(head)?.[0];
          format = first === '[' ? 'json' : first === '{' ? 'ndjson' : 'csv';
        }
        const parts =
          format === 'json'
            ? jsonChunks(text, name, size, warnings, keep)
            : format === 'ndjson'
              ? ndjsonChunks(text, name, size, warnings, keep)
              : csvChunks(text, { name, size, warnings, settings, tsv: format === 'tsv', keepMalformedRows: keep });
        for await (const chunk of parts) {
          rows += chunkRowCount(chunk);
          yield chunk;
        }
      } catch (err) {
        throw asSourceError(err, name);
      } finally {
        input?.destroy();
      }
    }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Options

export function csvOptionsOf(spec: CsvOptions): CsvOptions {
  return { delimiter: spec.delimiter, quote: spec.quote, encoding: spec.encoding, header: spec.header };
}

export function checkFormat<F extends string>(format: string, allowed: readonly F[]): F {
  const f = format.toLowerCase() as F;
  if (!allowed.includes(f)) throw new MlpipeError('usage', `unknown format "${format}": expected one of ${allowed.join(', ')}`);
  return f;
}

/** The format of a file from `explicit` or its extension (`.gz` looked through). */
function fileFormat(path: string, explicit: string | undefined): FileFormat {
  if (explicit !== undefined) return checkFormat(explicit, FILE_FORMATS);
  if (extname(path.toLowerCase().replace(/\.gz$/, '')) === '.xls') throw new MlpipeError('usage', `${path}: old Excel .xls files cannot be read; save the workbook as .xlsx`);
  const format = formatOfExtension(path);
  if (format !== undefined) return format;
  throw new MlpipeError('usage', `${path}: cannot tell the format from the extension "${extname(path)}"; use --format (${FILE_FORMATS.join(', ')})`);
}

/** Drops undefined properties, so that lineage records hold only what is known. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

// ---------------------------------------------------------------------------------------------------
// Text

/** Lines of a text, split at `\n`, `\r\n` or `\r`, without their ends; in batches (one per piece of text). */
async function* splitLines(text: AsyncIterable<string>): AsyncGenerator<string[]> {
  let buffer = '';
  for await (const piece of text) {
    buffer += piece;
    const breaks = /\r\n|\r|\n/g;
    const lines: string[] = [];
    let start = 0;
    for (let m = breaks.exec(buffer); m !== null; m = breaks.exec(buffer)) {
      // A `\r` at the end may be the first half of `\r\n`: wait for the next piece.
      if (m[0] === '\r' && m.index === buffer.length - 1) break;
      lines.push(buffer.slice(start, m.index));
      start = m.index + m[0].length;
    }
    buffer = buffer.slice(start);
    if (lines.length > 0) yield lines;
  }
  if (buffer.endsWith('\r')) yield [buffer.slice(0, -1)];
  else if (buffer !== '') yield [buffer];
}

// ---------------------------------------------------------------------------------------------------
// JSON and NDJSON

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

/** `lineOffset` is the number of lines before `text` in the input (NDJSON); undefined for a whole file. */
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

/**
 * A JSON array of records (or an object holding exactly one): parsed whole, then yielded in chunks.
 * Records are flattened (records.ts). `keep`: an element that is not a record is kept in place as a
 * malformed row (a text that is not JSON at all still throws: it has no rows).
 */
async function* jsonChunks(text: AsyncIterable<string>, source: string, size: number, warnings: string[], keep: boolean): AsyncGenerator<RawChunk> {
  let all = '';
  for await (const piece of text) all += piece;
  if (all.trim() === '') throw new DataError({ source }, 'the file is empty: expected a JSON array of records');
  const doc = parseJsonText(all, source);
  all = '';
  let records: unknown = doc;
  if (!Array.isArray(records)) {
    // Accept {"records": [...]} / {"data": [...]} wrappers, common in API exports.
    const wrapped = doc && typeof doc === 'object' ? Object.values(doc as object).filter(Array.isArray) : [];
    if (wrapped.length === 1) records = wrapped[0];
    else throw new DataError({ source }, 'expected a JSON array of records (or an object holding exactly one such array)');
  }
  const list = records as unknown[];
  const collector = new RecordCollector(source, false, warnings);
  let emitted = false;
  for (let i = 0; i < list.length; i++) {
    if (keep) collector.addOrKeep(list[i], i + 1);
    else collector.add(list[i], i + 1);
    list[i] = undefined;
    if (collector.size >= size) {
      yield collector.take();
      emitted = true;
    }
  }
  if (collector.size > 0 || !emitted) yield collector.take();
}

/**
 * One JSON record per line; blank lines are skipped. Records are flattened (records.ts). `keep`: a
 * line that is not JSON, or not a record, is kept in place as a malformed row.
 */
async function* ndjsonChunks(text: AsyncIterable<string>, source: string, size: number, warnings: string[], keep: boolean): AsyncGenerator<RawChunk> {
  const collector = new RecordCollector(source, true, warnings);
  let line = 0;
  let row = 0;
  let emitted = false;
  for await (const batch of splitLines(text)) {
    for (const raw of batch) {
      line++;
      if (raw.trim() === '') continue;
      row++;
      if (!keep) collector.add(parseJsonText(raw, source, line - 1), row, line);
      else {
        let value: unknown;
        try {
          value = parseJsonText(raw, source, line - 1);
        } catch (err) {
          if (!(err instanceof DataError)) throw err;
          collector.keepMalformed(new DataError({ source, row, line }, err.problem), line);
          value = undefined;
        }
        if (value !== undefined) collector.addOrKeep(value, row, line);
      }
      if (collector.size >= size) {
        yield collector.take();
        emitted = true;
      }
    }
  }
  if (collector.size > 0 || !emitted) yield collector.take();
}
