import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { cleanupTempDirs, tempDir } from '../../../test-helpers/fixtures.js';
import { ConfigError, DataError, MlpipeError, NotFoundError } from '../../errors.js';
import { sha256File } from '../../fs-util.js';
import { fileSource, stdinSource, textStreamSource } from './file.js';
import type { FileSourceSpec, RawValue, RecordSource } from './types.js';
import { rejection, chunksOf } from '../../../test-helpers/async.js';

let dir: string;

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** Columns (of the last chunk) and all rows of a source. */
async function readAll(source: RecordSource, chunkRows = 1000): Promise<{ columns: string[]; rows: RawValue[][]; lines: number[] }> {
  const chunks = await chunksOf(source, chunkRows);
  return {
    columns: chunks[chunks.length - 1]?.columns ?? [],
    rows: chunks.flatMap((c) => c.rows),
    lines: chunks.flatMap((c) => c.lines ?? []),
  };
}

async function readFile(name: string, content: string | Uint8Array, options: Omit<FileSourceSpec, 'kind' | 'path'> = {}) {
  return readAll(fileSource({ kind: 'file', path: await file(name, content), ...options }));
}

describe('fileSource', () => {
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  describe('CSV options', () => {
    it('uses an explicit delimiter', async () => {
      const { columns, rows } = await readFile('semi.csv', 'a;b,c\n1;2,3\n', { delimiter: ';' });
      expect(columns).to.deep.equal(['a', 'b,c']);
      expect(rows).to.deep.equal([['1', '2,3']]);
    });

    it('accepts "tab" as the delimiter', async () => {
      const { columns, rows } = await readFile('tab-named.csv', 'a,b\tc\n1,2\t3\n', { delimiter: 'tab' });
      expect(columns).to.deep.equal(['a,b', 'c']);
      expect(rows).to.deep.equal([['1,2', '3']]);
    });

    it("reads single-quoted values with quote: \"'\" (a doubled quote inside is one quote)", async () => {
      const { columns, rows } = await readFile('single.csv', "name,note\n'Smith, J','It''s fine'\n'x',\"y\"\n", { quote: "'" });
      expect(columns).to.deep.equal(['name', 'note']);
      expect(rows).to.deep.equal([
        ['Smith, J', "It's fine"],
        ['x', '"y"'],
      ]);
    });

    it('a quote inside an unquoted value names row, line and column, with the quote in use', async () => {
      const path = await file('stray-quote.csv', "a,b\n1,It's\n");
      const err = await rejection(readAll(fileSource({ kind: 'file', path, quote: "'" })));
      expect(err.message).to.equal(
        `${path}: row 1 (line 2), column "b": a quote inside an unquoted value (quote the whole value, and double each ' inside it)`,
      );
    });

    it('sniffs the delimiter ignoring delimiters inside the chosen quote', async () => {
      // Outside the single quotes there are two semicolons and no comma.
      const { columns, rows } = await readFile('single-sniff.csv', "'a,b,c';d;e\n1;2;3\n", { quote: "'" });
      expect(columns).to.deep.equal(['a,b,c', 'd', 'e']);
      expect(rows).to.deep.equal([['1', '2', '3']]);
    });

    it('decodes latin1 (windows-1252) text', async () => {
      const bytes = Buffer.from([...Buffer.from('name,city\n'), ...Buffer.from('Jos'), 0xe9, ...Buffer.from(',K'), 0xf6, ...Buffer.from('ln\n')]);
      const { rows } = await readFile('latin1.csv', bytes, { encoding: 'latin1' });
      expect(rows).to.deep.equal([['José', 'Köln']]);
      // Read as UTF-8 the same bytes are not José.
      const wrong = await readFile('latin1-as-utf8.csv', bytes);
      expect(wrong.rows[0]?.[0]).to.not.equal('José');
    });

    it('decodes UTF-16LE with a byte-order mark', async () => {
      const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\nü,2\n', 'utf16le')]);
      const { columns, rows } = await readFile('utf16.csv', bytes, { encoding: 'utf-16le' });
      expect(columns).to.deep.equal(['a', 'b']);
      expect(rows).to.deep.equal([['ü', '2']]);
    });

    it('decodes a multi-byte character split across stream chunks', async () => {
      const bytes = Buffer.from('a\nżółw\n');
      const source = stdinSource({ kind: 'stdin', format: 'csv' }, Readable.from([bytes.subarray(0, 3), bytes.subarray(3, 4), bytes.subarray(4)]));
      expect((await readAll(source)).rows).to.deep.equal([['żółw']]);
    });

    it('header: false names the columns column_1 … and reads the first line as data', async () => {
      const { columns, rows, lines } = await readFile('nohead.csv', '1,x\n\n2,y\n', { header: false });
      expect(columns).to.deep.equal(['column_1', 'column_2']);
      expect(rows).to.deep.equal([
        ['1', 'x'],
        ['2', 'y'],
      ]);
      expect(lines).to.deep.equal([1, 3]);
    });

    it('header: false still checks the field count, against the first row', async () => {
      const path = await file('nohead-bad.csv', '1,x\n2,y,z\n');
      const err = await rejection(readAll(fileSource({ kind: 'file', path, header: false })));
      expect(err).to.be.instanceOf(DataError);
      expect(err.message).to.equal(
        `${path}: row 2, column "#3 (extra)": expected 2 fields like the first row, found 3 (a delimiter inside an unquoted value?)`,
      );
    });

    it('reads .csv.gz and .tsv.gz', async () => {
      expect((await readFile('a.csv.gz', gzipSync('a,b\n1,2\n'))).rows).to.deep.equal([['1', '2']]);
      const tsv = await readFile('a.tsv.gz', gzipSync('a,b\tc\n1,2\t3\n'));
      expect(tsv.columns).to.deep.equal(['a,b', 'c']);
      expect(tsv.rows).to.deep.equal([['1,2', '3']]);
    });

    it('reads TSV with tabs whatever the header looks like, and a format override', async () => {
      const tsv = await readFile('data.tsv', 'a;b\tc\n1;2\t3\n');
      expect(tsv.columns).to.deep.equal(['a;b', 'c']);
      const forced = await readFile('data.txt', 'a\tb\n1\t2\n', { format: 'tsv' });
      expect(forced.columns).to.deep.equal(['a', 'b']);
    });

    it('rejects an unknown encoding, an empty delimiter and a long quote before reading', () => {
      const path = join(dir, 'never.csv');
      expect(() => fileSource({ kind: 'file', path, encoding: 'klingon' })).to.throw(ConfigError, `${path}: unknown encoding "klingon"`);
      expect(() => fileSource({ kind: 'file', path, delimiter: '' })).to.throw(ConfigError, 'the delimiter must not be empty');
      expect(() => fileSource({ kind: 'file', path, quote: '""' })).to.throw(ConfigError, 'the quote must be one character');
    });
  });

  describe('streaming', () => {
    it('reads a 25,000-row CSV in chunks of about chunkRows, with the line of every row', async () => {
      const lines = ['id,name,score'];
      for (let i = 0; i < 25_000; i++) lines.push(`${i},"name ${i}",${(i % 100) / 10}`);
      const path = await file('big.csv', `${lines.join('\n')}\n`);
      const source = fileSource({ kind: 'file', path });
      let chunks = 0;
      let rows = 0;
      let lastId = -1;
      for await (const chunk of source.chunks(1000)) {
        chunks++;
        expect(chunk.columns).to.deep.equal(['id', 'name', 'score']);
        expect(chunk.rows.length).to.be.at.most(1000);
        expect(chunk.lines).to.have.length(chunk.rows.length);
        for (const [k, row] of chunk.rows.entries()) {
          expect(Number(row[0])).to.equal(lastId + 1);
          expect(chunk.lines?.[k]).to.equal(lastId + 3);
          lastId++;
        }
        rows += chunk.rows.length;
      }
      expect(chunks).to.be.at.least(25);
      expect(rows).to.equal(25_000);
      expect(source.lineage()).to.deep.equal({
        kind: 'file',
        path,
        format: 'csv',
        bytes: Buffer.byteLength(`${lines.join('\n')}\n`),
        sha256: await sha256File(path),
        rows: 25_000,
      });
    });

    it('yields the first chunks of CSV and NDJSON before the input has ended', async () => {
      for (const [format, header, line] of [
        ['csv', 'a,b\n', (i: number) => `${i},x\n`],
        ['ndjson', '', (i: number) => `{"a":${i},"b":"x"}\n`],
      ] as const) {
        const input = new PassThrough();
        input.write(header);
        for (let i = 0; i < 1200; i++) input.write(line(i));
        const iterator = stdinSource({ kind: 'stdin', format }, input).chunks(500)[Symbol.asyncIterator]();
        const first = await iterator.next();
        expect(first.value?.rows).to.have.length(500);
        expect(input.writableEnded).to.equal(false);
        expect((await iterator.next()).value?.rows).to.have.length(500);
        input.end(line(1200));
        expect((await iterator.next()).value?.rows).to.have.length(201);
        expect((await iterator.next()).done).to.equal(true);
      }
    });

    it('NDJSON records with new keys widen the columns of later chunks; earlier rows stay short', async () => {
      const path = await file('grow.ndjson', '{"a":1}\n{"a":2}\n{"a":3,"b":"x"}\n\n{"c":true}\n{"b":"y","a":6}\n');
      const chunks = await chunksOf(fileSource({ kind: 'file', path }), 2);
      expect(chunks.map((c) => c.columns)).to.deep.equal([['a'], ['a', 'b', 'c'], ['a', 'b', 'c']]);
      expect(chunks[0]?.rows).to.deep.equal([[1], [2]]);
      expect(chunks[1]?.rows[0]).to.deep.equal([3, 'x']);
      // {"c":true}: a and b missing (undefined), c in the third column.
      expect(chunks[1]?.rows[1]).to.have.length(3);
      expect(chunks[1]?.rows[1]?.[0]).to.equal(undefined);
      expect(chunks[1]?.rows[1]?.[2]).to.equal(true);
      expect(chunks[2]?.rows).to.deep.equal([[6, 'y', undefined]]);
      expect(chunks.map((c) => c.lines)).to.deep.equal([[1, 2], [3, 5], [6]]);
    });

    it('splits NDJSON lines whose \\r\\n falls between two stream chunks', async () => {
      const source = stdinSource({ kind: 'stdin' }, Readable.from([Buffer.from('{"a":1}\r'), Buffer.from('\n{"a":2}\r\n{"a"'), Buffer.from(':3}')]));
      const { rows, lines } = await readAll(source);
      expect(rows).to.deep.equal([[1], [2], [3]]);
      expect(lines).to.deep.equal([1, 2, 3]);
    });

    it('yields a JSON array in chunks too, with no lines', async () => {
      const records = Array.from({ length: 5 }, (_, i) => ({ i }));
      const path = await file('five.json', JSON.stringify({ records }));
      const chunks = await chunksOf(fileSource({ kind: 'file', path }), 2);
      expect(chunks.map((c) => c.rows)).to.deep.equal([[[0], [1]], [[2], [3]], [[4]]]);
      expect(chunks.every((c) => c.lines === undefined)).to.equal(true);
    });

    it('yields one empty chunk with the columns of a header-only CSV', async () => {
      const chunks = await chunksOf(fileSource({ kind: 'file', path: await file('only-header.csv', 'a,b\n') }));
      expect(chunks).to.deep.equal([{ columns: ['a', 'b'], rows: [], lines: [] }]);
    });

    it('breaking out early destroys the input stream', async () => {
      // An endless CSV: a header, then rows of 1 for ever.
      let first = true;
      const input = new Readable({
        read() {
          this.push(first ? 'n\n' : '1\n'.repeat(100));
          first = false;
        },
      });
      const source = stdinSource({ kind: 'stdin', format: 'csv' }, input);
      let seen = 0;
      for await (const chunk of source.chunks(50)) {
        seen += chunk.rows.length;
        break;
      }
      expect(seen).to.equal(50);
      expect(input.destroyed).to.equal(true);
      expect(source.lineage().rows).to.equal(50);
    });

    it('can be iterated only once', async () => {
      const source = stdinSource({ kind: 'stdin' }, Readable.from([Buffer.from('a\n1\n')]));
      await chunksOf(source);
      const err = await rejection(chunksOf(source));
      expect((err as MlpipeError).code).to.equal('internal');
    });
  });

  describe('errors name source, row, line and column', () => {
    it('a wrong field count after a multi-line quoted value', async () => {
      const path = await file('bad-count.csv', 'a,b,c\n"x\ny",2,3\n\n4,5\n');
      const err = await rejection(readAll(fileSource({ kind: 'file', path })));
      expect(err).to.be.instanceOf(DataError);
      expect((err as DataError).location).to.deep.equal({ source: path, row: 2, line: 5, column: 'c' });
      expect(err.message).to.equal(
        `${path}: row 2 (line 5), column "c": expected 3 fields like the header, found 2 (a value is missing, or a quote is not closed)`,
      );
    });

    it('a bad closing quote deep in a file read in small chunks, after rows were yielded', async () => {
      const body = Array.from({ length: 30 }, (_, i) => `${i},v${i}`).join('\n');
      const path = await file('late-quote.csv', `id,val\n${body}\n31,"x"y\n`);
      const source = fileSource({ kind: 'file', path });
      let yielded = 0;
      const err = await rejection(
        (async () => {
          for await (const chunk of source.chunks(7)) yielded += chunk.rows.length;
        })(),
      );
      expect(err.message).to.equal(
        `${path}: row 31 (line 32), column "val": unexpected character after a closing quote (a quote inside a value must be doubled: "")`,
      );
      expect(yielded).to.be.at.most(30);
    });

    it('an unclosed quote', async () => {
      const path = await file('open-quote.csv', 'a,b\n1,2\n3,"x\n4,5\n');
      const err = await rejection(readAll(fileSource({ kind: 'file', path })));
      expect(err.message).to.equal(`${path}: row 2 (line 3): a quoted value is never closed (missing ")`);
    });

    it('two values flattening to one column name row and column; invalid NDJSON names the line', async () => {
      const path = await file('clash.ndjson', '{"a":1}\n{"a.b":1,"a":{"b":2}}\n');
      const err = await rejection(readAll(fileSource({ kind: 'file', path })));
      expect((err as DataError).location).to.deep.equal({ source: path, row: 2, line: 2, column: 'a.b' });
      expect(err.message).to.equal(`${path}: row 2, column "a.b": two values flatten to the name "a.b": /a.b and /a/b; rename one of them`);
      const bad = await file('bad.ndjson', '{"a":1}\n\n{"a":}\n');
      const err2 = await rejection(readAll(fileSource({ kind: 'file', path: bad })));
      expect((err2 as DataError).location).to.deep.equal({ source: bad, line: 3 });
      expect(err2.message.startsWith(`${bad}: line 3: invalid JSON`)).to.equal(true);
    });

    it('a corrupt gzip file, a missing file, a folder', async () => {
      const gz = await file('bad.csv.gz', 'plain text');
      expect((await rejection(readAll(fileSource({ kind: 'file', path: gz })))).message).to.equal(`${gz}: not a valid gzip file`);
      const missing = join(dir, 'missing.csv');
      const nf = await rejection(readAll(fileSource({ kind: 'file', path: missing })));
      expect(nf).to.be.instanceOf(NotFoundError);
      expect(nf.message).to.equal(`${missing}: file not found`);
      const folder = join(dir, 'folder.csv');
      await mkdir(folder);
      const fe = await rejection(readAll(fileSource({ kind: 'file', path: folder })));
      expect((fe as MlpipeError).code).to.equal('data_error');
      expect(fe.message).to.equal(`${folder}: is a folder, not a file`);
    });

    it('Arrow datasets, .xls and unknown extensions are usage errors', () => {
      const arrow = (): unknown => fileSource({ kind: 'file', path: join(dir, 'd.arrow') });
      expect(arrow).to.throw(MlpipeError, 'Arrow datasets are read by the loader');
      try {
        arrow();
      } catch (err) {
        expect((err as MlpipeError).code).to.equal('usage');
      }
      expect(() => fileSource({ kind: 'file', path: 'old.xls' })).to.throw(MlpipeError, 'save the workbook as .xlsx');
      expect(() => fileSource({ kind: 'file', path: 'x.dat' })).to.throw(
        MlpipeError,
        'x.dat: cannot tell the format from the extension ".dat"; use --format (csv, tsv, json, ndjson, xlsx, parquet, arrow)',
      );
      expect(() => fileSource({ kind: 'file', path: 'x.csv', format: 'yaml' as never })).to.throw(MlpipeError, 'unknown format "yaml"');
    });
  });
});

describe('stdinSource', () => {
  it('sniffs JSON, NDJSON and CSV from the first non-space character', async () => {
    const cases: [string, string, RawValue[][]][] = [
      ['\n  [{"a":1}]', 'json', [[1]]],
      ['{"a":1}\n', 'ndjson', [[1]]],
      ['a|b\n1|2\n', 'csv', [['1', '2']]],
    ];
    for (const [text, format, rows] of cases) {
      const source = stdinSource({ kind: 'stdin' }, Readable.from([Buffer.from(text)]));
      expect((await readAll(source)).rows).to.deep.equal(rows);
      expect(source.name).to.equal('stdin');
      expect(source.lineage()).to.deep.equal({ kind: 'stdin', format, rows: 1 });
    }
  });

  it('names stdin in errors', async () => {
    const err = await rejection(readAll(stdinSource({ kind: 'stdin' }, Readable.from([Buffer.from('a,b\n1\n')]))));
    expect(err.message).to.equal('stdin: row 1 (line 2), column "b": expected 2 fields like the header, found 1 (a value is missing, or a quote is not closed)');
  });

  it('waits for data that arrives slowly', async () => {
    const input = new PassThrough();
    const source = stdinSource({ kind: 'stdin' }, input);
    const done = readAll(source);
    input.write('  ');
    await new Promise((r) => setTimeout(r, 20));
    input.write('{"a":1}\n{"a"');
    await new Promise((r) => setTimeout(r, 20));
    input.end(':2}\n');
    expect((await done).rows).to.deep.equal([[1], [2]]);
  });
});

describe('textStreamSource', () => {
  it('parses any stream it is given, and adds format and rows to the lineage', async () => {
    let opened = 0;
    const source = textStreamSource(
      'my-stream',
      async () => {
        opened++;
        return Readable.from([Buffer.from('x;y\n1;2\n3;4\n')]);
      },
      { format: 'csv' },
      () => ({ kind: 'http', url: 'https://example.org/data.csv' }),
    );
    expect(opened).to.equal(0);
    const { columns, rows } = await readAll(source, 1);
    expect(opened).to.equal(1);
    expect(columns).to.deep.equal(['x', 'y']);
    expect(rows).to.deep.equal([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(source.lineage()).to.deep.equal({ kind: 'http', url: 'https://example.org/data.csv', format: 'csv', rows: 2 });
    expect(source.declaredTypes()).to.deep.equal({});
  });

  it('reports a failing stream as a DataError naming the source', async () => {
    const source = textStreamSource(
      'flaky',
      async () =>
        Readable.from(
          (async function* () {
            yield Buffer.from('{"a":1}\n');
            throw new Error('connection reset');
          })(),
        ),
      { format: 'ndjson' },
      () => ({ kind: 'stdin' }),
    );
    const err = await rejection(readAll(source));
    expect(err).to.be.instanceOf(DataError);
    expect(err.message).to.equal('flaky: connection reset');
  });
});
