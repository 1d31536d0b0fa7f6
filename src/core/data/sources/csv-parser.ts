// Kept whole, over 400 lines: one hand-written state machine on the load's hot path (CsvParser); its scanning loops keep their state in locals, and split up they would pass it through calls.
/**
 * mlpipe's own streaming CSV parser: text in (decoded pieces of any size), records out, with the
 * physical line where each record starts.
 *
 * Why not csv-parse: on a 100,000-row × 21-column file its streaming parser took about 2.4 s of a
 * 6 s load (a byte-by-byte loop, a Buffer slice and a UTF-8 decode per field, an info object per
 * record). This parser works on the decoded string: unquoted fields are found with `indexOf`, and a
 * value is a span (start and end) of the text: no string is made for it unless it is asked for
 * ({@link CsvParser.take}) or it is a quoted value with doubled quotes.
 *
 * It reads exactly what mlpipe read with csv-parse and the options `trim`, `skip_empty_lines`,
 * `relax_column_count`, `bom` and `escape` = `quote` (a differential test checks that):
 * - The record delimiter is the first line break found outside quotes: `\r\n`, `\n` or `\r`. Another
 *   kind of line break later in the file is not a record delimiter (it is data, or trimmed).
 * - Unquoted values: leading spaces, tabs, form feeds and line breaks that are not the record
 *   delimiter are skipped; trailing white space (JavaScript's `trimEnd`) is removed.
 * - A quoted value may hold delimiters and line breaks; a quote inside it is doubled. After its
 *   closing quote only those skippable characters may come before the delimiter or the end of the
 *   record. White space before the opening quote is skipped.
 * - A quote inside an unquoted value, a character after a closing quote and an unclosed quote are
 *   errors ({@link CsvSyntaxError}).
 * - Lines with nothing but white space are skipped; a byte-order mark at the start is dropped.
 *
 * Lines are physical lines: `\r\n`, `\n` and a lone `\r` each end one, inside quoted values too.
 * (csv-parse counted a `\r\n` inside a quoted value as two lines; this parser counts one.)
 */

/** Options of {@link CsvParser}. */
export interface CsvParserOptions {
  /** The field delimiter: one or more characters. */
  delimiter: string;
  /** The quote character, or false when values are never quoted. A quote inside a quoted value is doubled. */
  quote: string | false;
}

/** What is wrong, for {@link CsvSyntaxError}. */
export type CsvProblem = 'unclosed-quote' | 'bad-closing-quote' | 'quote-in-unquoted';

/** Malformed CSV: the problem and where it is. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly problem: CsvProblem,
    /** Complete records before the bad one (a header line counts). */
    readonly records: number,
    /** Physical line (1-based) where the bad record starts. */
    readonly line: number,
    /** Physical line where the problem was found. */
    readonly at: number,
    /** Index (0-based) of the bad field in its record. */
    readonly field: number,
  ) {
    super(`${problem} in record ${records + 1} (line ${line}), field ${field + 1}`);
    this.name = 'CsvSyntaxError';
  }
}

/**
 * Records parsed from one piece of text, as spans of it: record `r` has the fields `f` from
 * `recordStarts[r]` to `recordStarts[r + 1]` (excluded), each `text.slice(starts[f], ends[f])` unless
 * `escaped` holds it (a quoted value with a doubled quote inside).
 */
export interface CsvBlock {
  text: string;
  recordStarts: Int32Array;
  starts: Int32Array;
  ends: Int32Array;
  escaped: Map<number, string> | undefined;
  /** Physical line where each record starts. */
  lines: number[];
}

/** The value of field `f` of a block. */
export function blockValue(block: CsvBlock, f: number): string {
  const escaped = block.escaped?.get(f);
  return escaped ?? block.text.slice(block.starts[f], block.ends[f]);
}

const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const FF = 12;

/** The record delimiter, once discovered. */
const enum Rd {
  Unknown,
  Lf,
  CrLf,
  Cr,
}

/** Thrown inside a scan when the text ends before the current record can be decided. */
const NEED_MORE = Symbol('need more');

/** A pending record longer than this is re-scanned only when as much new text has arrived (linear time). */
const RESCAN_MIN = 1 << 16;

/** The end of `s.slice(start, end)` without its trailing white space (as `trimEnd`). */
function trimmedEnd(s: string, start: number, end: number): number {
  if (end <= start) return start;
  const c = s.charCodeAt(end - 1);
  if (c > SPACE && c < 0x7f) return end;
  return start + s.slice(start, end).trimEnd().length;
}

/**
 * The parser. Feed it text with {@link push} and {@link end}; after each call, {@link takeBlocks} (or
 * {@link take}, as strings) gives the records completed so far and their lines, and {@link error} is
 * set once the text is malformed (the records before the bad one are still given). Memory holds the
 * unfinished record and the records not yet taken.
 */
export class CsvParser {
  private readonly delimiter: string;
  private readonly delimiterLength: number;
  private readonly d0: number;
  private readonly quoteCode: number;
  private readonly quoteChar: string;
  private rd = Rd.Unknown;
  /** Text not parsed yet (it starts at a record). */
  private buffer = '';
  /** Text pushed since the last scan, while a long pending record waits for more. */
  private pending: string[] = [];
  private pendingLength = 0;
  /** Physical line at the start of {@link buffer}. */
  private line = 1;
  private started = false;
  private ended = false;
  /** Complete records so far. */
  private count = 0;
  private blocks: CsvBlock[] = [];
  // The fields of the records of the current scan: spans of its text, the strings of escaped values.
  private starts = new Int32Array(1 << 12);
  private ends = new Int32Array(1 << 12);
  /** Fields pushed, of complete records and of the record being read. */
  private fields = 0;
  /** Fields of complete records. */
  private committed = 0;
  private recordStarts: number[] = [];
  private recordLines: number[] = [];
  private escaped: Map<number, string> | undefined;
  /** Set when the text is malformed; nothing more is parsed. */
  error: CsvSyntaxError | undefined;

  // Scan state: the text being scanned and the next positions of a few characters (text length when none).
  private s = '';
  private n = 0;
  private nextDelimiter = -1;
  private nextQuote = -1;
  private nextLf = -1;
  private nextCr = -1;
  // Line counting: the line at `lineLf`/`lineCr`, the next `\n` and `\r` not counted yet.
  private lineNow = 1;
  private lineLf = -1;
  private lineCr = -1;
  /** True when the text before {@link buffer} ended with `\r`. */
  private crBefore = false;

  constructor(options: CsvParserOptions) {
    if (options.delimiter === '') throw new Error('the delimiter must not be empty');
    this.delimiter = options.delimiter;
    this.delimiterLength = options.delimiter.length;
    this.d0 = options.delimiter.charCodeAt(0);
    this.quoteChar = options.quote === false ? '' : options.quote;
    this.quoteCode = options.quote === false ? -1 : options.quote.charCodeAt(0);
  }

  /** Parses a piece of text (records may span pieces). */
  push(text: string): void {
    if (this.error || this.ended || text === '') return;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.buffer.length > RESCAN_MIN) {
      // A long record is still open: wait until the new text is as long as it before scanning again.
      this.pending.push(text);
      this.pendingLength += text.length;
      if (this.pendingLength < this.buffer.length) return;
      text = this.pending.join('');
      this.pending = [];
      this.pendingLength = 0;
    }
    this.scan(this.buffer === '' ? text : this.buffer + text, false);
  }

  /** Parses what is left: the text has ended. */
  end(): void {
    if (this.error || this.ended) return;
    this.ended = true;
    const rest = this.pending.join('');
    this.pending = [];
    this.scan(this.buffer + rest, true);
  }

  /** The records completed since the last call, as spans of the texts they were read from. */
  takeBlocks(): CsvBlock[] {
    const taken = this.blocks;
    this.blocks = [];
    return taken;
  }

  /** The records completed since the last call, as strings, with the physical line where each starts. */
  take(): { rows: string[][]; lines: number[] } {
    const rows: string[][] = [];
    const lines: number[] = [];
    for (const block of this.takeBlocks()) {
      for (let r = 0; r < block.lines.length; r++) {
        const record: string[] = [];
        for (let f = block.recordStarts[r] as number; f < (block.recordStarts[r + 1] as number); f++) record.push(blockValue(block, f));
        rows.push(record);
        lines.push(block.lines[r] as number);
      }
    }
    return { rows, lines };
  }

  /** Number of records completed so far. */
  get records(): number {
    return this.count;
  }

  private scan(s: string, final: boolean): void {
    this.s = s;
    this.n = s.length;
    this.nextDelimiter = this.nextQuote = this.nextLf = this.nextCr = -1;
    this.lineNow = this.line;
    this.lineLf = s.indexOf('\n');
    if (this.lineLf < 0) this.lineLf = this.n;
    this.lineCr = s.indexOf('\r');
    if (this.lineCr < 0) this.lineCr = this.n;
    this.fields = this.committed = 0;
    this.recordStarts = [];
    this.recordLines = [];
    this.escaped = undefined;
    let consumed = 0;
    try {
      consumed = this.parseRecords(final);
    } catch (err) {
      if (err === NEED_MORE) consumed = this.consumedAt;
      else if (err instanceof CsvSyntaxError) {
        this.error = err;
        consumed = this.n;
      } else throw err;
    }
    if (this.recordLines.length > 0) {
      const c = this.committed;
      this.recordStarts.push(c);
      const escaped = this.escaped as Map<number, string> | undefined;
      if (escaped) for (const f of escaped.keys()) if (f >= c) escaped.delete(f);
      this.blocks.push({
        text: s,
        recordStarts: Int32Array.from(this.recordStarts),
        starts: this.starts.slice(0, c),
        ends: this.ends.slice(0, c),
        escaped: escaped && escaped.size > 0 ? escaped : undefined,
        lines: this.recordLines,
      });
    }
    this.line = this.lineAt(consumed);
    this.crBefore = consumed > 0 && s.charCodeAt(consumed - 1) === CR;
    this.buffer = consumed >= this.n ? '' : s.slice(consumed);
    this.s = '';
  }

  /** Where the unfinished record starts, when a scan stops for more text. */
  private consumedAt = 0;

  /**
   * The physical line at position `p` of the text (positions must not go backwards within a scan).
   * A `\r\n` counts as one line break, at its `\r`.
   */
  private lineAt(p: number): number {
    const s = this.s;
    const n = this.n;
    while (this.lineCr < p) {
      this.lineNow++;
      const next = s.indexOf('\r', this.lineCr + 1);
      this.lineCr = next < 0 ? n : next;
    }
    while (this.lineLf < p) {
      if (this.lineLf > 0 ? s.charCodeAt(this.lineLf - 1) !== CR : !this.crBefore) this.lineNow++;
      const next = s.indexOf('\n', this.lineLf + 1);
      this.lineLf = next < 0 ? n : next;
    }
    return this.lineNow;
  }

  /**
   * The length of the record delimiter at `p` (where there is a `\r` or `\n` outside quotes), 0 when
   * that character is not one. Discovers the record delimiter at the first line break.
   */
  private recordDelimiterAt(p: number, final: boolean): number {
    const s = this.s;
    const c = s.charCodeAt(p);
    const more = p + 1 < this.n;
    if (this.rd === Rd.Unknown) {
      if (c === LF) this.rd = Rd.Lf;
      else if (more) this.rd = s.charCodeAt(p + 1) === LF ? Rd.CrLf : Rd.Cr;
      else if (final) this.rd = Rd.Cr;
      else throw NEED_MORE;
    }
    switch (this.rd) {
      case Rd.Lf:
        return c === LF ? 1 : 0;
      case Rd.CrLf:
        if (c !== CR) return 0;
        if (more) return s.charCodeAt(p + 1) === LF ? 2 : 0;
        if (final) return 0;
        throw NEED_MORE;
      default:
        if (c !== CR) return 0;
        // A `\r` at the end: the next piece may start with `\n` (counted with it as one line).
        if (more || final) return 1;
        throw NEED_MORE;
    }
  }

  /** True when the delimiter starts at `p` (a partial delimiter at the end of the text waits for more). */
  private delimiterAt(p: number, final: boolean): boolean {
    if (this.delimiterLength === 1) return true;
    const s = this.s;
    if (s.startsWith(this.delimiter, p)) return true;
    if (!final && p + this.delimiterLength > this.n && this.delimiter.startsWith(s.slice(p))) throw NEED_MORE;
    return false;
  }

  /** Adds a field that is the span of the text from `start` to `end`. */
  private pushSpan(start: number, end: number): void {
    const f = this.fields;
    if (f === this.starts.length) {
      const starts = new Int32Array(f * 2);
      starts.set(this.starts);
      this.starts = starts;
      const ends = new Int32Array(f * 2);
      ends.set(this.ends);
      this.ends = ends;
    }
    this.starts[f] = start;
    this.ends[f] = end;
    this.fields = f + 1;
  }

  /** Adds a field that is not a span of the text. */
  private pushString(value: string): void {
    (this.escaped ??= new Map()).set(this.fields, value);
    this.pushSpan(0, 0);
  }

  /** Ends the record being read, which started at `start`. */
  private emit(start: number): void {
    this.recordStarts.push(this.committed);
    this.recordLines.push(this.lineAt(start));
    this.committed = this.fields;
    this.count++;
  }

  /** Adds a quoted value: the span between its quotes, or the string made of it (doubled quotes). */
  private pushQuoted(value: string | undefined, start: number, end: number): void {
    if (value === undefined) this.pushSpan(start, end);
    else this.pushString(value);
  }

  /** The error `problem` at `at`, in the record being read (which started at `start`). */
  private fail(problem: CsvProblem, start: number, at: number): CsvSyntaxError {
    const line = this.lineAt(start);
    return new CsvSyntaxError(problem, this.count, line, this.lineAt(at), this.fields - this.committed);
  }

  /** Parses records from the start of the text; returns where the text is used up to. */
  private parseRecords(final: boolean): number {
    const s = this.s;
    const n = this.n;
    const q = this.quoteCode;
    const d0 = this.d0;
    const dl = this.delimiterLength;
    let pos = 0;
    records: while (pos < n) {
      const start = pos;
      this.consumedAt = start;
      // The fields of an unfinished record are dropped (a scan stopping for more text reads it again).
      this.fields = this.committed;
      fields: while (true) {
        // The start of a field: a quote, the end of the record, a delimiter, or skippable white space.
        let c = 0;
        while (true) {
          if (pos >= n) {
            if (!final) throw NEED_MORE;
            if (this.fields > this.committed) {
              this.pushSpan(pos, pos);
              this.emit(start);
            }
            return n;
          }
          c = s.charCodeAt(pos);
          if (c === q) break;
          if (c === LF || c === CR) {
            const k = this.recordDelimiterAt(pos, final);
            if (k > 0) {
              if (this.fields > this.committed) {
                this.pushSpan(pos, pos);
                this.emit(start);
              }
              // else: an empty (or blank) line, skipped
              pos += k;
              continue records;
            }
            pos++;
            continue;
          }
          if (c === d0 && this.delimiterAt(pos, final)) {
            this.pushSpan(pos, pos);
            pos += dl;
            continue fields;
          }
          if (c === SPACE || c === TAB || c === FF) {
            pos++;
            continue;
          }
          break;
        }

        if (c !== q) {
          // An unquoted value: up to the next delimiter or line break.
          const valueStart = pos;
          let p = pos;
          while (true) {
            if (this.nextDelimiter < p) {
              const i = s.indexOf(this.delimiter, p);
              this.nextDelimiter = i < 0 ? n : i;
            }
            if (this.nextLf < p) {
              const i = s.indexOf('\n', p);
              this.nextLf = i < 0 ? n : i;
            }
            if (this.nextCr < p) {
              const i = s.indexOf('\r', p);
              this.nextCr = i < 0 ? n : i;
            }
            if (q >= 0 && this.nextQuote < p) {
              const i = s.indexOf(this.quoteChar, p);
              this.nextQuote = i < 0 ? n : i;
            }
            let e = this.nextDelimiter;
            if (this.nextLf < e) e = this.nextLf;
            if (this.nextCr < e) e = this.nextCr;
            if (q >= 0 && this.nextQuote < e) throw this.fail('quote-in-unquoted', start, this.nextQuote);
            if (e >= n) {
              if (!final) throw NEED_MORE;
              this.pushSpan(valueStart, trimmedEnd(s, valueStart, n));
              this.emit(start);
              return n;
            }
            if (e === this.nextDelimiter) {
              this.pushSpan(valueStart, trimmedEnd(s, valueStart, e));
              pos = e + dl;
              continue fields;
            }
            const k = this.recordDelimiterAt(e, final);
            if (k > 0) {
              this.pushSpan(valueStart, trimmedEnd(s, valueStart, e));
              this.emit(start);
              pos = e + k;
              continue records;
            }
            // A line break that is not the record delimiter: part of the value.
            p = e + 1;
          }
        }

        // A quoted value: runs of text between quotes, a doubled quote standing for one. Without
        // doubled quotes it is the span between the quotes; with them, a string of the runs.
        let value: string | undefined;
        let valueStart = pos + 1;
        let valueEnd = valueStart;
        let p = pos + 1;
        while (true) {
          while (true) {
            if (this.nextQuote < p) {
              const i = s.indexOf(this.quoteChar, p);
              this.nextQuote = i < 0 ? n : i;
            }
            const end = this.nextQuote;
            if (end >= n) {
              if (!final) throw NEED_MORE;
              throw this.fail('unclosed-quote', start, n - 1);
            }
            if (end + 1 >= n && !final) throw NEED_MORE;
            if (s.charCodeAt(end + 1) === q) {
              value = (value ?? '') + s.slice(p, end) + this.quoteChar;
              p = end + 2;
              continue;
            }
            if (value === undefined) valueEnd = end;
            else value += s.slice(p, end);
            p = end + 1;
            break;
          }
          // After the closing quote: skippable white space, then the delimiter or the end of the record.
          while (true) {
            if (p >= n) {
              if (!final) throw NEED_MORE;
              this.pushQuoted(value, valueStart, valueEnd);
              this.emit(start);
              return n;
            }
            c = s.charCodeAt(p);
            if (c === q) {
              if (value !== undefined ? value !== '' : valueEnd > valueStart) throw this.fail('quote-in-unquoted', start, p);
              // After an empty quoted value csv-parse opened another one, which could hold only white
              // space (`"" " "` is one empty value; `"" "x"` is a character after a closing quote).
              p++;
              while (true) {
                if (p >= n) {
                  if (!final) throw NEED_MORE;
                  throw this.fail('unclosed-quote', start, n - 1);
                }
                const d = s.charCodeAt(p);
                if (d === SPACE || d === TAB || d === FF || d === LF || d === CR) {
                  p++;
                  continue;
                }
                if (d !== q) throw this.fail('bad-closing-quote', start, p);
                if (p + 1 >= n && !final) throw NEED_MORE;
                if (s.charCodeAt(p + 1) === q) throw this.fail('bad-closing-quote', start, p + 1);
                p++;
                break;
              }
              continue;
            }
            if (c === LF || c === CR) {
              const k = this.recordDelimiterAt(p, final);
              if (k > 0) {
                this.pushQuoted(value, valueStart, valueEnd);
                this.emit(start);
                pos = p + k;
                continue records;
              }
              p++;
              continue;
            }
            if (c === d0 && this.delimiterAt(p, final)) {
              this.pushQuoted(value, valueStart, valueEnd);
              pos = p + dl;
              continue fields;
            }
            if (c === SPACE || c === TAB || c === FF) {
              p++;
              continue;
            }
            throw this.fail('bad-closing-quote', start, p);
          }
        }
      }
    }
    return n;
  }
}
