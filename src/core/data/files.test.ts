import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { DataError, MlpipeError, NotFoundError } from '../errors.js';
import { type ReadOptions, type RawTable, cleanHeader, detectFormat, readRawFile, sniffDelimiter } from './files.js';
import { rejection } from '../../test-helpers/async.js';

let dir: string;

/** Writes `content` to a file named `name` in the test folder and returns its path. */
async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** Writes a file and reads it back. */
async function read(name: string, content: string | Uint8Array, options?: ReadOptions): Promise<RawTable> {
  return readRawFile(await file(name, content), options);
}

/** The DataError raised by reading `content` as file `name`, with the file's path. */
async function dataError(name: string, content: string): Promise<{ err: DataError; path: string }> {
  const path = await file(name, content);
  const err = await rejection(readRawFile(path));
  expect(err).to.be.instanceOf(DataError);
  expect((err as DataError).code).to.equal('data_error');
  return { err: err as DataError, path };
}

function stdin(text: string): Readable {
  return Readable.from([Buffer.from(text)]);
}

describe('readRawFile', () => {
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  describe('CSV', () => {
    it('reads header and rows as trimmed strings, with the line where each row starts', async () => {
      const raw = await read('plain.csv', 'id,name,score\n1, Ada ,3.5\n2,Bob,  \n');
      expect(raw.format).to.equal('csv');
      expect(raw.source).to.equal(join(dir, 'plain.csv'));
      expect(raw.columnNames).to.deep.equal(['id', 'name', 'score']);
      expect(raw.rows).to.deep.equal([
        ['1', 'Ada', '3.5'],
        ['2', 'Bob', ''],
      ]);
      expect(raw.lines).to.deep.equal([2, 3]);
      expect(raw.warnings).to.deep.equal([]);
    });

    it('reads quoted fields holding delimiters, newlines and doubled quotes', async () => {
      const raw = await read('quoted.csv', 'a,b,c\n"x,1","line1\nline2","say ""hi"""\n2,3,4\n');
      expect(raw.rows).to.deep.equal([
        ['x,1', 'line1\nline2', 'say "hi"'],
        ['2', '3', '4'],
      ]);
      // The second row starts on line 4: the first one spans lines 2 and 3.
      expect(raw.lines).to.deep.equal([2, 4]);
    });

    it('drops a byte-order mark and reads CRLF line ends', async () => {
      const raw = await read('bom.csv', '\ufeffa,b\r\n1,2\r\n3,4\r\n');
      expect(raw.columnNames).to.deep.equal(['a', 'b']);
      expect(raw.rows).to.deep.equal([
        ['1', '2'],
        ['3', '4'],
      ]);
      expect(raw.lines).to.deep.equal([2, 3]);
    });

    it('sniffs a semicolon delimiter from the header line', async () => {
      const raw = await read('semi.csv', 'a;b;c\n1,5;2;x\n');
      expect(raw.columnNames).to.deep.equal(['a', 'b', 'c']);
      expect(raw.rows).to.deep.equal([['1,5', '2', 'x']]);
    });

    it('sniffs a tab delimiter from the header line of a .csv', async () => {
      const raw = await read('tabs.csv', 'a\tb\n1 2\t3\n');
      expect(raw.format).to.equal('csv');
      expect(raw.columnNames).to.deep.equal(['a', 'b']);
      expect(raw.rows).to.deep.equal([['1 2', '3']]);
    });

    it('sniffs a pipe delimiter, ignoring delimiters inside quotes', async () => {
      expect(sniffDelimiter('"a,b,c,d"|e|f')).to.equal('|');
      expect(sniffDelimiter('single')).to.equal(',');
      const raw = await read('pipes.txt', '"x,y,z"|b\n1|2\n');
      expect(raw.columnNames).to.deep.equal(['x,y,z', 'b']);
      expect(raw.rows).to.deep.equal([['1', '2']]);
    });

    it('uses an explicit delimiter instead of sniffing', async () => {
      // Sniffing would pick the comma (two of them against one semicolon).
      const raw = await read('explicit.csv', 'a;b,c,d\n1;2,3,4\n', { delimiter: ';' });
      expect(raw.columnNames).to.deep.equal(['a', 'b,c,d']);
      expect(raw.rows).to.deep.equal([['1', '2,3,4']]);
    });

    it('skips empty lines and still reports the physical line of each row', async () => {
      const raw = await read('gaps.csv', 'a,b\n\n1,2\n\n\n3,4\n\n');
      expect(raw.rows).to.deep.equal([
        ['1', '2'],
        ['3', '4'],
      ]);
      expect(raw.lines).to.deep.equal([3, 6]);
    });

    it('reads a gzip-compressed .csv.gz', async () => {
      const raw = await read('packed.csv.gz', gzipSync('a,b\n1,2\n3,4\n'));
      expect(raw.format).to.equal('csv');
      expect(raw.columnNames).to.deep.equal(['a', 'b']);
      expect(raw.rows).to.deep.equal([
        ['1', '2'],
        ['3', '4'],
      ]);
    });

    it('passes the quote, encoding and header options on to the streaming reader', async () => {
      const latin1 = Buffer.from([...Buffer.from("'x;y';2\n"), 0xe9, ...Buffer.from(';3\n')]);
      const raw = await read('options.csv', latin1, { quote: "'", encoding: 'latin1', header: false });
      expect(raw.columnNames).to.deep.equal(['column_1', 'column_2']);
      expect(raw.rows).to.deep.equal([
        ['x;y', '2'],
        ['é', '3'],
      ]);
      expect(raw.lines).to.deep.equal([1, 2]);
    });

    it('reads a file with a header and no rows as zero rows', async () => {
      const raw = await read('header-only.csv', 'a,b\n');
      expect(raw.columnNames).to.deep.equal(['a', 'b']);
      expect(raw.rows).to.deep.equal([]);
    });
  });

  describe('TSV', () => {
    it('uses tabs for .tsv whatever the header looks like', async () => {
      const raw = await read('data.tsv', 'a,b\tc\n1,2\t3\n');
      expect(raw.format).to.equal('tsv');
      expect(raw.columnNames).to.deep.equal(['a,b', 'c']);
      expect(raw.rows).to.deep.equal([['1,2', '3']]);
    });
  });

  describe('JSON', () => {
    it('reads an array of records over the union of their keys, in first-seen order', async () => {
      const raw = await read('records.json', '[{"a":1,"b":"x"},{"b":null,"c":true},{"a":2.5}]');
      expect(raw.format).to.equal('json');
      expect(raw.columnNames).to.deep.equal(['a', 'b', 'c']);
      expect(raw.rows).to.have.length(3);
      // Absent keys read as undefined (missing); JSON scalars keep their types.
      expect(raw.rows[0]).to.deep.equal([1, 'x']);
      expect(raw.rows[1]?.[0]).to.equal(undefined);
      expect(raw.rows[1]?.slice(1)).to.deep.equal([null, true]);
      expect(raw.rows[2]?.[0]).to.equal(2.5);
      expect(raw.rows[2]?.[1]).to.equal(undefined);
      expect(raw.rows[2]?.[2]).to.equal(undefined);
      expect(raw.lines).to.equal(undefined);
    });

    it('reads a wrapper object holding exactly one array, e.g. {"data": [...]}', async () => {
      const raw = await read('wrapped.json', '{"data":[{"a":1},{"a":2}],"meta":{"count":2}}');
      expect(raw.columnNames).to.deep.equal(['a']);
      expect(raw.rows).to.deep.equal([[1], [2]]);
    });

    it('refuses an object holding several arrays', async () => {
      const { err, path } = await dataError('two-arrays.json', '{"a":[{"x":1}],"b":[{"x":2}]}');
      expect(err.message).to.equal(`${path}: expected a JSON array of records (or an object holding exactly one such array)`);
    });
  });

  describe('NDJSON', () => {
    it('reads one record per line, skipping blank lines, with the line of each row', async () => {
      const raw = await read('events.ndjson', '{"a":1}\n\n  \n{"a":2,"b":"x"}\n');
      expect(raw.format).to.equal('ndjson');
      expect(raw.columnNames).to.deep.equal(['a', 'b']);
      expect(raw.rows).to.deep.equal([[1], [2, 'x']]);
      expect(raw.lines).to.deep.equal([1, 4]);
    });

    it('accepts the .jsonl extension and CRLF line ends', async () => {
      const raw = await read('events.jsonl', '{"a":1}\r\n{"a":2}\r\n');
      expect(raw.format).to.equal('ndjson');
      expect(raw.rows).to.deep.equal([[1], [2]]);
    });
  });

  describe('stdin (-)', () => {
    it('sniffs a JSON array', async () => {
      const raw = await readRawFile('-', { stdin: stdin(' \n[{"a":1},{"a":2}]') });
      expect(raw.source).to.equal('stdin');
      expect(raw.format).to.equal('json');
      expect(raw.rows).to.deep.equal([[1], [2]]);
    });

    it('sniffs NDJSON', async () => {
      const raw = await readRawFile('-', { stdin: stdin('{"a":1}\n{"a":2}\n') });
      expect(raw.format).to.equal('ndjson');
      expect(raw.rows).to.deep.equal([[1], [2]]);
      expect(raw.lines).to.deep.equal([1, 2]);
    });

    it('falls back to CSV, sniffing the delimiter', async () => {
      const raw = await readRawFile('-', { stdin: stdin('a;b\n1;2\n') });
      expect(raw.source).to.equal('stdin');
      expect(raw.format).to.equal('csv');
      expect(raw.columnNames).to.deep.equal(['a', 'b']);
      expect(raw.rows).to.deep.equal([['1', '2']]);
    });

    it('reads a stream delivered in several chunks', async () => {
      const raw = await readRawFile('-', { stdin: Readable.from([Buffer.from('a,b\n1,'), Buffer.from('2\n')]) });
      expect(raw.rows).to.deep.equal([['1', '2']]);
    });

    it('uses an explicit format without sniffing', async () => {
      const raw = await readRawFile('-', { stdin: stdin('a,b\n1,2\n'), format: 'tsv' });
      expect(raw.format).to.equal('tsv');
      expect(raw.columnNames).to.deep.equal(['a,b']);
      expect(raw.rows).to.deep.equal([['1,2']]);
    });

    it('names stdin in error messages', async () => {
      const err = await rejection(readRawFile('-', { stdin: stdin('[{"a":1}, 2]') }));
      expect(err).to.be.instanceOf(DataError);
      expect(err.message).to.equal('stdin: row 2: expected a record (a JSON object), found 2');
    });

    it('is a usage error without a stream', async () => {
      const err = await rejection(readRawFile('-'));
      expect(err).to.be.instanceOf(MlpipeError);
      expect((err as MlpipeError).code).to.equal('usage');
      expect(err.message).to.equal('reading "-" needs standard input');
    });
  });

  describe('header cleaning', () => {
    it('names blank columns unnamed_<n> and suffixes duplicates, with a warning each', async () => {
      const raw = await read('header.csv', 'a,,a,a, ,b\n1,2,3,4,5,6\n');
      const p = join(dir, 'header.csv');
      expect(raw.columnNames).to.deep.equal(['a', 'unnamed_2', 'a_2', 'a_3', 'unnamed_5', 'b']);
      expect(raw.rows).to.deep.equal([['1', '2', '3', '4', '5', '6']]);
      expect(raw.warnings).to.deep.equal([
        `${p}: column 2 has no name; calling it "unnamed_2"`,
        `${p}: column name "a" appears more than once; column 3 is renamed "a_2"`,
        `${p}: column name "a" appears more than once; column 4 is renamed "a_3"`,
        `${p}: column 5 has no name; calling it "unnamed_5"`,
      ]);
    });

    it('does not reuse a suffixed name that already exists', () => {
      const warnings: string[] = [];
      expect(cleanHeader(['x', 'x_2', 'x', ''], 'f.csv', warnings)).to.deep.equal(['x', 'x_2', 'x_3', 'unnamed_4']);
      expect(warnings).to.deep.equal([
        'f.csv: column name "x" appears more than once; column 3 is renamed "x_3"',
        'f.csv: column 4 has no name; calling it "unnamed_4"',
      ]);
    });
  });

  describe('errors', () => {
    it('a row with too many fields names row, line and the extra column', async () => {
      const { err, path } = await dataError('too-many.csv', 'a,b\n1,2\n\n3,4,5\n');
      expect(err.message).to.equal(
        `${path}: row 2 (line 4), column "#3 (extra)": expected 2 fields like the header, found 3 (a delimiter inside an unquoted value?)`,
      );
      expect(err.location).to.deep.equal({ source: path, row: 2, line: 4, column: '#3 (extra)' });
    });

    it('a row with too few fields names row, line and the first missing column', async () => {
      const { err, path } = await dataError('too-few.csv', 'a,b,c\n"1\n2",2,3\n4,5\n');
      expect(err.message).to.equal(
        `${path}: row 2 (line 4), column "c": expected 3 fields like the header, found 2 (a value is missing, or a quote is not closed)`,
      );
    });

    it('an unclosed quote names the row and the line where it starts', async () => {
      const { err, path } = await dataError('unclosed.csv', 'a,b\n1,2\n\n3,"abc\n5,6\n');
      expect(err.message).to.equal(`${path}: row 2 (line 4): a quoted value is never closed (missing ")`);
    });

    it('a character after a closing quote names row, line and column', async () => {
      const { err, path } = await dataError('bad-quote.csv', 'a,b,c\n1,2,3\n4,"x"y,6\n');
      expect(err.message).to.equal(
        `${path}: row 2 (line 3), column "b": unexpected character after a closing quote (a quote inside a value must be doubled: "")`,
      );
    });

    it('a bad quote in the first row after leading empty lines names the right line', async () => {
      const { err, path } = await dataError('bad-quote-first.csv', '\n\na,b\n"x"y,1\n');
      expect(err.message).to.equal(
        `${path}: row 1 (line 4), column "a": unexpected character after a closing quote (a quote inside a value must be doubled: "")`,
      );
    });

    it('a quote inside an unquoted value names row, line and column', async () => {
      const { err, path } = await dataError('stray-quote.csv', 'a,b\n1,2\n3,say "hi"\n');
      expect(err.message).to.equal(
        `${path}: row 2 (line 3), column "b": a quote inside an unquoted value (quote the whole value, and double each " inside it)`,
      );
    });

    it('an empty CSV file', async () => {
      for (const content of ['', '\n\n']) {
        const { err, path } = await dataError('empty.csv', content);
        expect(err.message).to.equal(`${path}: the file is empty: expected a header line with column names`);
      }
    });

    it('an empty JSON file', async () => {
      const { err, path } = await dataError('empty.json', ' \n');
      expect(err.message).to.equal(`${path}: the file is empty: expected a JSON array of records`);
    });

    it('invalid JSON names the line and the character', async () => {
      const { err, path } = await dataError('invalid.json', '[\n{"a":1},\n{"a":2,}\n]');
      expect(err.message).to.equal(`${path}: line 3: invalid JSON at character 8: Expected double-quoted property name`);
      expect(err.location.line).to.equal(3);
    });

    it('a JSON record that is not an object names the row', async () => {
      const { err, path } = await dataError('scalar.json', '[{"a":1}, 5]');
      expect(err.message).to.equal(`${path}: row 2: expected a record (a JSON object), found 5`);
      const other = await dataError('array.json', '[{"a":1}, [1, 2]]');
      expect(other.err.message).to.equal(`${other.path}: row 2: expected a record (a JSON object), found an array`);
    });

    it('nested objects become dotted columns; arrays their JSON text, with a warning', async () => {
      const table = await read('nested.json', '[{"a":1}, {"a":2, "address":{"city":"Oslo"}, "tags":["x"]}]');
      expect(table.columnNames).to.deep.equal(['a', 'address.city', 'tags']);
      expect(table.rows).to.deep.equal([[1], [2, 'Oslo', '["x"]']]);
      expect(table.warnings).to.deep.equal([`${table.source}: column "tags": arrays are kept as their JSON text (like ["a","b"]), a text or category column`]);
    });

    it('a malformed Extended JSON value names the row, the column and its JSON path', async () => {
      const { err, path } = await dataError('bad-date.json', '[{"a":1}, {"a":2, "at":{"$date":"yesterday"}}]');
      expect(err.message).to.equal(
        `${path}: row 2, column "at": at /at/$date: Extended JSON $date must be an ISO 8601 date (like 2024-01-02T03:04:05Z) or {"$numberLong": "<milliseconds>"}, got "yesterday"`,
      );
    });

    it('invalid NDJSON names line N', async () => {
      const { err, path } = await dataError('invalid.ndjson', '{"a":1}\n\n{"a":2,}\n');
      expect(err.message).to.equal(`${path}: line 3: invalid JSON at character 8: Expected double-quoted property name`);
    });

    it('invalid NDJSON on line 1 names line 1 even when JSON.parse gives no position', async () => {
      const { err, path } = await dataError('invalid-first.ndjson', 'xyz\n{"a":1}\n');
      expect(err.location).to.deep.equal({ source: path, line: 1 });
      expect(err.message.startsWith(`${path}: line 1: invalid JSON: `)).to.equal(true);
    });

    it('an NDJSON record that is not an object names row and line', async () => {
      const { err, path } = await dataError('not-object.ndjson', '{"a":1}\n\n[1]\n');
      expect(err.message).to.equal(`${path}: row 2 (line 3): expected a record (a JSON object), found an array`);
    });

    it('a corrupt .gz file', async () => {
      const { err, path } = await dataError('corrupt.csv.gz', 'not gzip at all');
      expect(err.message).to.equal(`${path}: not a valid gzip file`);
    });

    it('NotFoundError for a missing file', async () => {
      const path = join(dir, 'nope.csv');
      const err = await rejection(readRawFile(path));
      expect(err).to.be.instanceOf(NotFoundError);
      expect(err.message).to.equal(`${path}: file not found`);
    });

    it('a usage error for an unknown extension', async () => {
      const path = await file('data.parquet', 'x');
      const err = await rejection(readRawFile(path));
      expect(err).to.be.instanceOf(MlpipeError);
      expect(err).not.to.be.instanceOf(DataError);
      expect((err as MlpipeError).code).to.equal('usage');
      expect((err as MlpipeError).exitCode).to.equal(2);
      expect(err.message).to.equal(`${path}: cannot tell the format from the extension ".parquet"; use --format (csv, tsv, json, ndjson, arrow)`);
    });

    it('a usage error for an unknown --format', async () => {
      const path = await file('data.csv', 'a\n1\n');
      const err = await rejection(readRawFile(path, { format: 'xlsx' as never }));
      expect((err as MlpipeError).code).to.equal('usage');
      expect(err.message).to.equal('unknown format "xlsx": expected one of csv, tsv, json, ndjson, arrow');
    });
  });
});

describe('detectFormat', () => {
  it('maps extensions to formats, looking through .gz and ignoring case', () => {
    expect(detectFormat('a.csv')).to.equal('csv');
    expect(detectFormat('a.TXT')).to.equal('csv');
    expect(detectFormat('a.tsv.gz')).to.equal('tsv');
    expect(detectFormat('a.tab')).to.equal('tsv');
    expect(detectFormat('A.JSON')).to.equal('json');
    expect(detectFormat('a.jsonl.gz')).to.equal('ndjson');
    expect(detectFormat('a.ndjson')).to.equal('ndjson');
    expect(detectFormat('a.feather')).to.equal('arrow');
    expect(detectFormat('a.arrow')).to.equal('arrow');
  });

  it('prefers an explicit format, in any letter case', () => {
    expect(detectFormat('a.csv', 'NDJSON')).to.equal('ndjson');
    expect(detectFormat('noext', 'tsv')).to.equal('tsv');
  });
});
