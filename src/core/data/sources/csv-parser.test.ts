import { expect } from 'chai';
import { parse as parseSync } from 'csv-parse/sync';
import { type CsvParserOptions } from './csv-parser.js';
import { type Parsed, parsePieces } from '../../../test-helpers/csv.js';
import { mulberry32 } from '../../../test-helpers/random.js';


function parse(text: string, options: Partial<CsvParserOptions> = {}): Parsed {
  return parsePieces([text], options);
}

/** The text cut at every position into two pieces, and into pieces of one character. */
function everySplit(text: string): string[][] {
  const splits: string[][] = [[text], Array.from(text)];
  for (let i = 1; i < text.length; i++) splits.push([text.slice(0, i), text.slice(i)]);
  return splits;
}

/** Parses the text whole and cut at every position, checks that all agree, and returns the result. */
function parseAnyHow(text: string, options: Partial<CsvParserOptions> = {}): Parsed {
  const whole = parse(text, options);
  for (const pieces of everySplit(text)) {
    const r = parsePieces(pieces, options);
    expect({ rows: r.rows, lines: r.lines, error: r.error?.message }, JSON.stringify(pieces)).to.deep.equal({
      rows: whole.rows,
      lines: whole.lines,
      error: whole.error?.message,
    });
  }
  return whole;
}

describe('CsvParser', () => {
  describe('hand-checked cases', () => {
    it('reads records and the line where each starts; the last line may lack its line break', () => {
      expect(parseAnyHow('a,b\n1,2\n3,4')).to.deep.equal({ rows: [['a', 'b'], ['1', '2'], ['3', '4']], lines: [1, 2, 3] });
      expect(parseAnyHow('a,b\n1,2\n')).to.deep.equal({ rows: [['a', 'b'], ['1', '2']], lines: [1, 2] });
    });

    it('a quote at a piece boundary opens and closes a quoted value', () => {
      const text = 'a,"x,y"\n"p",q\n';
      expect(parsePieces(['a,', '"x,y', '"\n"', 'p",q\n'])).to.deep.equal({ rows: [['a', 'x,y'], ['p', 'q']], lines: [1, 2] });
      expect(parseAnyHow(text).rows).to.deep.equal([['a', 'x,y'], ['p', 'q']]);
    });

    it('a doubled quote split across pieces is one quote', () => {
      expect(parsePieces(['"say "', '"hi""', '",b\n'])).to.deep.equal({ rows: [['say "hi"', 'b']], lines: [1] });
      expect(parsePieces(['"a"', '""', '""\n'])).to.deep.equal({ rows: [['a""']], lines: [1] });
      expect(parseAnyHow('"say ""hi""",b\n').rows).to.deep.equal([['say "hi"', 'b']]);
      // A quote ending a piece and followed by a delimiter in the next one closes the value.
      expect(parsePieces(['"x"', ',y\n']).rows).to.deep.equal([['x', 'y']]);
    });

    it('CRLF split across pieces ends one record (one line), inside quotes it is data', () => {
      expect(parsePieces(['a,b\r', '\n1,2\r', '\n'])).to.deep.equal({ rows: [['a', 'b'], ['1', '2']], lines: [1, 2] });
      expect(parseAnyHow('a,b\r\n"x\r\ny",2\r\n3,4\r\n')).to.deep.equal({ rows: [['a', 'b'], ['x\r\ny', '2'], ['3', '4']], lines: [1, 2, 4] });
      // Old Mac line ends.
      expect(parseAnyHow('a,b\r1,2\r')).to.deep.equal({ rows: [['a', 'b'], ['1', '2']], lines: [1, 2] });
    });

    it('drops a byte-order mark at the start only', () => {
      expect(parseAnyHow('\ufeffa,b\n1,2\n').rows).to.deep.equal([['a', 'b'], ['1', '2']]);
      expect(parsePieces(['\ufeff', 'a\n']).rows).to.deep.equal([['a']]);
      // Inside the text it is data (not white space at the start of a value, trimmed at its end).
      expect(parse('a\n\ufeffb\ufeff\n').rows).to.deep.equal([['a'], ['\ufeffb']]);
    });

    it('an empty quoted value and an empty value are both "", but a line of "" is a record', () => {
      expect(parseAnyHow('a,b,c\n"",,""\n""\n,\n')).to.deep.equal({
        rows: [['a', 'b', 'c'], ['', '', ''], [''], ['', '']],
        lines: [1, 2, 3, 4],
      });
    });

    it('skips empty and blank lines, counting them in the lines of later records', () => {
      expect(parseAnyHow('\n\na,b\n\n \t\n1,2\n\n')).to.deep.equal({ rows: [['a', 'b'], ['1', '2']], lines: [3, 6] });
      expect(parseAnyHow('a\r\n\r\n\r\nb\r\n')).to.deep.equal({ rows: [['a'], ['b']], lines: [1, 4] });
    });

    it('trims unquoted values, keeps the white space of quoted ones, allows white space around quotes', () => {
      expect(parseAnyHow(' a ,\tb\t, "  c " , d e \n').rows).to.deep.equal([['a', 'b', '  c ', 'd e']]);
      // Trailing Unicode white space goes too (trimEnd); leading only space, tab and form feed.
      expect(parse('\u00a0x\u00a0,\fy\u2003\n').rows).to.deep.equal([['\u00a0x', 'y']]);
    });

    it('a quoted value may hold delimiters, quotes and line breaks (which count as lines)', () => {
      expect(parseAnyHow('a,b,c\n"x,1","line1\nline2","say ""hi"""\n2,3,4\n')).to.deep.equal({
        rows: [['a', 'b', 'c'], ['x,1', 'line1\nline2', 'say "hi"'], ['2', '3', '4']],
        lines: [1, 2, 4],
      });
    });

    it('records of any length (the caller checks the field count)', () => {
      expect(parseAnyHow('a,b\n1\n1,2,3\n').rows).to.deep.equal([['a', 'b'], ['1'], ['1', '2', '3']]);
      expect(parseAnyHow('a,b,\n').rows).to.deep.equal([['a', 'b', '']]);
    });

    it('another delimiter, a multi-character one, another quote, no quote', () => {
      expect(parseAnyHow("a;'b;c'\n1;'it''s'\n", { delimiter: ';', quote: "'" }).rows).to.deep.equal([
        ['a', 'b;c'],
        ['1', "it's"],
      ]);
      expect(parseAnyHow('a::b:c::"d::e"\n', { delimiter: '::' }).rows).to.deep.equal([['a', 'b:c', 'd::e']]);
      expect(parseAnyHow('a\t\tb\n "x"\t\t\n', { delimiter: '\t' }).rows).to.deep.equal([
        ['a', '', 'b'],
        ['x', '', ''],
      ]);
      expect(parseAnyHow('a,"b"\n', { quote: false }).rows).to.deep.equal([['a', '"b"']]);
    });

    it('the record delimiter is the first line break; other breaks outside quotes are data or trimmed', () => {
      // \n files: a \r at the end of a value is trimmed.
      expect(parseAnyHow('a,b\r\n1,2\n').rows).to.deep.equal([['a', 'b'], ['1', '2']]);
      // \r\n files: a lone \n inside an unquoted value is data.
      expect(parseAnyHow('a,b\r\n1 \n 2,3\r\n').rows).to.deep.equal([['a', 'b'], ['1 \n 2', '3']]);
    });

    it('a quote inside an unquoted value is an error naming the record, its line and the field', () => {
      const r = parseAnyHow('a,b\n1,2\n3,say "hi"\n');
      expect(r.rows).to.deep.equal([['a', 'b'], ['1', '2']]);
      expect(r.error).to.include({ problem: 'quote-in-unquoted', records: 2, line: 3, at: 3, field: 1 });
    });

    it('a character after a closing quote is an error', () => {
      expect(parseAnyHow('a,b,c\n4,"x"y,6\n').error).to.include({ problem: 'bad-closing-quote', records: 1, line: 2, at: 2, field: 1 });
      expect(parseAnyHow('a\n"x"  y\n').error).to.include({ problem: 'bad-closing-quote', records: 1, line: 2, field: 0 });
      // A second quoted value after one that is not empty.
      expect(parseAnyHow('"x" "y"\n').error).to.include({ problem: 'quote-in-unquoted', records: 0, field: 0 });
    });

    it('an unclosed quote is an error naming the line where its record starts', () => {
      const r = parseAnyHow('a,b\n1,2\n\n3,"abc\n5,6\n');
      expect(r.rows).to.deep.equal([['a', 'b'], ['1', '2']]);
      expect(r.error).to.include({ problem: 'unclosed-quote', records: 2, line: 4, field: 1 });
      expect(parseAnyHow('"').error).to.include({ problem: 'unclosed-quote', records: 0, line: 1, field: 0 });
    });

    it('nothing at all, or only blank lines, is no record', () => {
      expect(parse('')).to.deep.equal({ rows: [], lines: [] });
      expect(parseAnyHow('\n \r\n\t\n')).to.deep.equal({ rows: [], lines: [] });
    });

    it('a record longer than the rescan threshold, pushed in small pieces, is read once whole', () => {
      const long = 'x'.repeat(300_000);
      const text = `a,"${long}\n${long}"\n1,2\n`;
      const pieces: string[] = [];
      for (let i = 0; i < text.length; i += 1000) pieces.push(text.slice(i, i + 1000));
      expect(parsePieces(pieces)).to.deep.equal({ rows: [['a', `${long}\n${long}`], ['1', '2']], lines: [1, 3] });
    });
  });

  describe('against csv-parse (differential, seeded)', () => {
    const ALPHABET = ['a', 'b', 'Z', '7', '0', '.', '-', ' ', ' ', '\t', 'é', '日本', '😀', '\u00a0', '#', '/'];

    /** A random value; `special` adds delimiters, quotes and line breaks (which need quoting). */
    function value(rnd: () => number, delimiter: string, quote: string | false, special: boolean, crInQuotes: boolean): { text: string; needsQuotes: boolean } {
      const length = Math.floor(rnd() * 8);
      let text = '';
      for (let i = 0; i < length; i++) {
        const r = rnd();
        if (special && r < 0.06) text += delimiter;
        else if (special && quote !== false && r < 0.1) text += quote;
        else if (special && r < 0.13) text += crInQuotes && rnd() < 0.5 ? '\r\n' : '\n';
        else text += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
      }
      const needsQuotes = text.includes(delimiter) || (quote !== false && text.includes(quote)) || /[\r\n]/.test(text);
      return { text, needsQuotes };
    }

    /** A random valid CSV text. */
    function randomCsv(rnd: () => number, delimiter: string, quote: string | false, crInQuotes: boolean): string {
      const eol = rnd() < 0.5 ? '\n' : '\r\n';
      const records = 20 + Math.floor(rnd() * 40);
      const out: string[] = [];
      for (let r = 0; r < records; r++) {
        if (rnd() < 0.05) out.push(rnd() < 0.5 ? '' : '  \t');
        const fields = 1 + Math.floor(rnd() * 6);
        const cells: string[] = [];
        for (let f = 0; f < fields; f++) {
          const v = value(rnd, delimiter, quote, quote !== false, crInQuotes);
          const quoted = quote !== false && (v.needsQuotes || rnd() < 0.3);
          if (!quoted) {
            cells.push(v.text);
            continue;
          }
          const q = quote as string;
          const pad = () => (rnd() < 0.2 ? (delimiter === ' ' ? '' : ' ') : '');
          cells.push(`${pad()}${q}${v.text.split(q).join(q + q)}${q}${pad()}`);
        }
        out.push(cells.join(delimiter));
      }
      return out.join(eol) + (rnd() < 0.8 ? eol : '');
    }

    /** What mlpipe read before its own parser: csv-parse with these options, and the line where each record starts. */
    function csvParse(text: string, delimiter: string, quote: string | false): { rows: string[][]; lines: number[] } {
      const lines: number[] = [];
      let last: { lines: number; empty: number } | undefined;
      const rows = parseSync(text, {
        delimiter,
        quote,
        escape: quote === false ? null : quote,
        bom: true,
        trim: true,
        skip_empty_lines: true,
        relax_column_count: true,
        on_record: (record: string[], info) => {
          lines.push((last?.lines ?? 0) + 1 + (info.empty_lines - (last?.empty ?? 0)));
          last = { lines: info.lines, empty: info.empty_lines };
          return record;
        },
      }) as string[][];
      return { rows, lines };
    }

    /** The text cut at random positions into pieces of 1 to 60 characters. */
    function randomPieces(rnd: () => number, text: string): string[] {
      const pieces: string[] = [];
      for (let i = 0; i < text.length; ) {
        const size = 1 + Math.floor(rnd() * 60);
        pieces.push(text.slice(i, i + size));
        i += size;
      }
      return pieces;
    }

    const settings: [string, string | false][] = [
      [',', '"'],
      [';', '"'],
      ['\t', '"'],
      ['|', "'"],
      ['::', '"'],
      [',', false],
    ];

    it('gives the same records and lines for thousands of random rows (no \\r inside quoted values)', () => {
      const rnd = mulberry32(20261126);
      let total = 0;
      for (let k = 0; k < 120; k++) {
        const [delimiter, quote] = settings[k % settings.length]!;
        const text = randomCsv(rnd, delimiter, quote, false);
        const expected = csvParse(text, delimiter, quote);
        const whole = parse(text, { delimiter, quote });
        expect(whole, JSON.stringify(text)).to.deep.equal(expected);
        expect(parsePieces(randomPieces(rnd, text), { delimiter, quote }), JSON.stringify(text)).to.deep.equal(expected);
        total += expected.rows.length;
      }
      expect(total).to.be.above(3000);
    });

    it('gives the same records with \\r\\n inside quoted values (where csv-parse counted two lines, this parser one)', () => {
      const rnd = mulberry32(7);
      let total = 0;
      for (let k = 0; k < 60; k++) {
        const [delimiter, quote] = settings[k % (settings.length - 1)]!;
        const text = randomCsv(rnd, delimiter, quote, true);
        const expected = csvParse(text, delimiter, quote).rows;
        expect(parse(text, { delimiter, quote }).rows, JSON.stringify(text)).to.deep.equal(expected);
        expect(parsePieces(randomPieces(rnd, text), { delimiter, quote }).rows, JSON.stringify(text)).to.deep.equal(expected);
        total += expected.length;
      }
      expect(total).to.be.above(1500);
    });
  });
});
