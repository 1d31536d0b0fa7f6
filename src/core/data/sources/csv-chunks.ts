/**
 * Reading CSV/TSV text into chunks of rows (as spans of the text) with mlpipe's own parser
 * (csv-parser.ts), and what that needs: the options checked, the bytes decoded, look-ahead for
 * sniffing, errors named by source, row, line and column.
 */
import { ConfigError, DataError, MlpipeError, messageOf } from '../../errors.js';
import { CsvParser, type CsvSyntaxError, blockValue } from './csv-parser.js';
import { checkColumnCount, cleanHeader, sniffDelimiter } from '../files.js';
import { type CsvOptions, type MalformedRow, type RawChunk, type TextRows, textRowsChunk } from './types.js';

// ---------------------------------------------------------------------------------------------------
// Options

export interface CsvSettings {
  /** undefined: sniffed (tab for TSV). */
  delimiter?: string;
  /** false: no quoting. */
  quote: string | false;
  encoding: string;
  header: boolean;
}

/** Checks the CSV options up front, so that a typo is reported before anything is read. */
export function csvSettings(options: CsvOptions, name: string): CsvSettings {
  let { delimiter } = options;
  if (delimiter !== undefined) {
    if (delimiter === 'tab' || delimiter === '\\t') delimiter = '\t';
    if (delimiter === '') throw new ConfigError(`${name}: the delimiter must not be empty`);
  }
  const quote = options.quote === undefined ? '"' : options.quote === '' ? false : options.quote;
  if (quote !== false && quote.length !== 1) throw new ConfigError(`${name}: the quote must be one character, not ${JSON.stringify(quote)}`);
  const encoding = options.encoding ?? 'utf-8';
  try {
    new TextDecoder(encoding);
  } catch {
    throw new ConfigError(`${name}: unknown encoding "${encoding}": use a label such as utf-8, latin1, windows-1252 or utf-16le`);
  }
  return { delimiter, quote, encoding, header: options.header ?? true };
}

/** Errors of the stream (a corrupt gzip file, a read error) as DataErrors naming the source. */
export function asSourceError(err: unknown, source: string): Error {
  if (err instanceof MlpipeError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'Z_DATA_ERROR') return new DataError({ source }, 'not a valid gzip file');
  if (code === 'Z_BUF_ERROR') return new DataError({ source }, 'not a valid gzip file (it ends too early)');
  return new DataError({ source }, messageOf(err), { cause: err });
}

// ---------------------------------------------------------------------------------------------------
// Text

/** Decodes a byte stream to text, with streaming TextDecoder (a byte-order mark is removed). */
export async function* decodeText(input: AsyncIterable<unknown>, encoding: string): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding);
  let first = true;
  for await (const chunk of input) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
    if (first && text !== '') {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    if (text !== '') yield text;
  }
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}

/** Pieces of text that can be looked ahead into (format and delimiter sniffing) and then read from the start. */
export class TextInput implements AsyncIterable<string> {
  private buffered = '';
  private done = false;
  private readonly source: AsyncIterator<string>;

  constructor(source: AsyncIterable<string>) {
    this.source = source[Symbol.asyncIterator]();
  }

  /**
   * Reads ahead until `enough(text read ahead, the piece just read)` or the end, and returns the text
   * read ahead. A test that only needs the new piece (`piece.includes('\n')`) keeps a long look-ahead
   * linear: the text read ahead is a rope that each look at the whole of it flattens again.
   */
  async peek(enough: (text: string, piece: string) => boolean): Promise<string> {
    let piece = this.buffered;
    while (!this.done && !enough(this.buffered, piece)) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else {
        piece = next.value;
        this.buffered += piece;
      }
    }
    return this.buffered;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    try {
      if (this.buffered !== '') {
        const text = this.buffered;
        this.buffered = '';
        yield text;
      }
      while (!this.done) {
        const next = await this.source.next();
        if (next.done) this.done = true;
        else yield next.value;
      }
    } finally {
      if (!this.done) {
        this.done = true;
        await this.source.return?.();
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// CSV

export interface CsvContext {
  name: string;
  size: number;
  warnings: string[];
  settings: CsvSettings;
  tsv: boolean;
  /**
   * Keep a row with the wrong number of fields in place as a {@link MalformedRow} (values all
   * missing) instead of throwing (mlpipe predict). An unclosed quote still throws: the rest of the
   * text is inside it, so there are no rows to go on with.
   */
  keepMalformedRows?: boolean;
}

/**
 * Values (rows × columns) a chunk holds at most: a wide table gets fewer rows per chunk, so that its
 * spans (two Int32Arrays of rows × columns) stay some tens of megabytes, not gigabytes.
 */
const CHUNK_CELLS = 4_000_000;

export async function* csvChunks(text: TextInput, ctx: CsvContext): AsyncGenerator<RawChunk> {
  const { name, warnings, settings } = ctx;
  let size = ctx.size;
  let delimiter = settings.delimiter;
  if (delimiter === undefined) {
    if (ctx.tsv) delimiter = '\t';
    else {
      const head = await text.peek((_, piece) => piece.includes('\n'));
      const newline = head.indexOf('\n');
      delimiter = sniffDelimiter(newline < 0 ? head : head.slice(0, newline), settings.quote === false ? '' : settings.quote);
    }
  }
  const parser = new CsvParser({ delimiter, quote: settings.quote });
  const { header } = settings;
  /** The header (or first) record as read, for the column names in a syntax error. */
  let first: string[] | undefined;
  let columns: string[] | undefined;
  let width = 0;
  let row = 0;
  let emitted = false;
  // The chunk being filled: its rows as spans of the texts of the blocks they come from.
  let texts: string[] = [];
  let textLength = 0;
  let starts = new Int32Array(0);
  let ends = new Int32Array(0);
  let escaped: Map<number, string> | undefined;
  let lines: number[] = [];
  let malformed: MalformedRow[] = [];
  let count = 0;
  const take = (): RawChunk => {
    const text = texts.length === 1 ? (texts[0] as string) : texts.join('');
    const used = count * width;
    const full = used === starts.length;
    const spans: TextRows = {
      text,
      rowCount: count,
      width,
      starts: full ? starts : starts.slice(0, used),
      ends: full ? ends : ends.slice(0, used),
      // Always there (undefined when every value is a span): one shape for every chunk.
      escaped,
    };
    const chunk = textRowsChunk(columns as string[], spans, lines);
    if (malformed.length > 0) chunk.malformed = malformed;
    malformed = [];
    texts = [];
    textLength = 0;
    starts = new Int32Array(size * width);
    ends = new Int32Array(size * width);
    escaped = undefined;
    lines = [];
    count = 0;
    return chunk;
  };
  const pieces = text[Symbol.asyncIterator]();
  let done = false;
  try {
    while (!done) {
      const next = await pieces.next();
      if (next.done) {
        done = true;
        parser.end();
      } else parser.push(next.value);
      for (const block of parser.takeBlocks()) {
        const records = block.lines.length;
        let offset = -1;
        for (let r = 0; r < records; r++) {
          const f0 = block.recordStarts[r] as number;
          const fields = (block.recordStarts[r + 1] as number) - f0;
          if (!columns) {
            const record: string[] = [];
            for (let f = f0; f < f0 + fields; f++) record.push(blockValue(block, f));
            first = record;
            checkColumnCount(record.length, name);
            columns = header ? cleanHeader(record, name, warnings) : record.map((_, j) => `column_${j + 1}`);
            width = columns.length;
            size = Math.max(1, Math.min(size, Math.floor(CHUNK_CELLS / Math.max(1, width))));
            starts = new Int32Array(size * width);
            ends = new Int32Array(size * width);
            if (header) continue;
          }
          row++;
          const line = block.lines[r] as number;
          if (fields !== width) {
            const error = fieldCountError(name, columns, fields, row, line, header);
            if (!ctx.keepMalformedRows) throw error;
            // In place, as a row of empty spans (the reader of `malformed` knows its values are missing).
            const at = count * width;
            starts.fill(0, at, at + width);
            ends.fill(0, at, at + width);
            malformed.push({ index: count, error });
          } else {
            if (offset < 0) {
              // The block's text joins the chunk's.
              offset = textLength;
              texts.push(block.text);
              textLength += block.text.length;
            }
            const at = count * width;
            for (let j = 0; j < width; j++) {
              starts[at + j] = (block.starts[f0 + j] as number) + offset;
              ends[at + j] = (block.ends[f0 + j] as number) + offset;
            }
            if (block.escaped) {
              for (let j = 0; j < width; j++) {
                const value = block.escaped.get(f0 + j);
                if (value !== undefined) (escaped ??= new Map()).set(at + j, value);
              }
            }
          }
          lines.push(line);
          count++;
          if (count >= size) {
            yield take();
            emitted = true;
            offset = -1;
          }
        }
      }
      if (parser.error) throw csvError(name, parser.error, first, header, settings.quote === false ? '"' : settings.quote, ctx.keepMalformedRows === true);
    }
  } finally {
    if (!done) await pieces.return?.(undefined);
  }
  if (!columns) {
    throw new DataError({ source: name }, header ? 'the file is empty: expected a header line with column names' : 'the file is empty');
  }
  if (count > 0) yield take();
  else if (!emitted) yield { columns, rows: [], lines: [] };
}

function fieldCountError(source: string, columns: string[], got: number, row: number, line: number, header: boolean): DataError {
  const column = got > columns.length ? `#${columns.length + 1} (extra)` : (columns[got] as string);
  return new DataError(
    { source, row, line, column },
    `expected ${columns.length} fields like the ${header ? 'header' : 'first row'}, found ${got}` +
      (got < columns.length ? ' (a value is missing, or a quote is not closed)' : ' (a delimiter inside an unquoted value?)'),
  );
}

/** `rowsWanted`: the caller would have gone on past a bad row, so say why this one stops the reading. */
function csvError(source: string, err: CsvSyntaxError, first: string[] | undefined, header: boolean, quote: string, rowsWanted = false): DataError {
  // `records` counts the complete records before the bad one, the header included.
  let row: number | undefined;
  let line = err.at;
  if (header && err.records > 0) {
    row = err.records;
    line = err.line;
  } else if (!header) {
    row = err.records + 1;
    line = err.line;
  }
  const where = { source, row, line };
  const index = err.field;
  const names = header && first && row !== undefined ? cleanHeader(first, source, []) : undefined;
  const column = header ? (names?.[index] ?? `#${index + 1}`) : `column_${index + 1}`;
  switch (err.problem) {
    case 'unclosed-quote':
      return new DataError(
        where,
        `a quoted value is never closed (missing ${quote})` +
          (rowsWanted ? `: everything after it is inside the value, so the rest of the file cannot be split into rows; close the quote (or double a ${quote} inside a value: ${quote}${quote})` : ''),
      );
    case 'bad-closing-quote':
      return new DataError({ ...where, column }, `unexpected character after a closing quote (a quote inside a value must be doubled: ${quote}${quote})`);
    case 'quote-in-unquoted':
      return new DataError({ ...where, column }, `a quote inside an unquoted value (quote the whole value, and double each ${quote} inside it)`);
  }
}

