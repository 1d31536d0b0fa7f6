import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import ExcelJS from 'exceljs';
import { cleanupTempDirs, tempDir } from '../../../test-helpers/fixtures.js';
import { ConfigError, DataError, NotFoundError } from '../../errors.js';
import { sha256File } from '../../fs-util.js';
import { excelSource } from './excel.js';
import { fileSource } from './file.js';
import type { FileSourceSpec, RawValue, RecordSource } from './types.js';
import { rejection, chunksOf } from '../../../test-helpers/async.js';

let dir: string;
let book: string;

async function readAll(spec: Omit<FileSourceSpec, 'kind'>): Promise<{ columns: string[]; rows: RawValue[][]; source: RecordSource }> {
  const source = fileSource({ kind: 'file', ...spec });
  const chunks = await chunksOf(source);
  return { columns: chunks[chunks.length - 1]?.columns ?? [], rows: chunks.flatMap((c) => c.rows), source };
}

const utc = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));

/**
 * Sheet "People": a header, a date column, a formula (cached result), a boolean, a hyperlink, rich
 * text, an error cell, a date computed by a formula, and a row holding only blanks. Sheet "Report": a title, then a
 * table at B3:D6 with a note beside it.
 */
async function writeBook(path: string): Promise<void> {
  const wb = new ExcelJS.Workbook();
  const people = wb.addWorksheet('People');
  people.addRow(['name', 'born', 'score', 'double', 'member', 'site', 'note', 'check', 'next_day']);
  people.addRow([
    ' Ada ',
    utc(1815, 12, 10),
    2.5,
    { formula: 'C2*2', result: 5 },
    true,
    { text: 'ada.org', hyperlink: 'https://ada.org' },
    { richText: [{ text: 'first ' }, { font: { bold: true }, text: 'bold' }] },
    { error: '#N/A' },
    { formula: 'B2+1', result: utc(1815, 12, 11) },
  ]);
  people.addRow(['  ']);
  people.addRow(['Grace', utc(1906, 12, 9), 4, { formula: 'C4*2', result: 8 }, false, 'none', 'plain', 1, null]);
  people.getColumn(2).numFmt = 'yyyy-mm-dd';
  people.getColumn(9).numFmt = 'yyyy-mm-dd';
  for (const row of [2, 4]) {
    people.getCell(row, 2).numFmt = 'yyyy-mm-dd';
    people.getCell(row, 9).numFmt = 'yyyy-mm-dd';
  }
  const report = wb.addWorksheet('Report');
  report.getCell('A1').value = 'Quarterly report';
  const table = [
    ['region', 'q1', 'q2'],
    ['north', 10, 11],
    ['south', 20, 21],
    ['east', 30, 31],
  ];
  table.forEach((r, i) => r.forEach((v, j) => (report.getCell(3 + i, 2 + j).value = v)));
  report.getCell('F4').value = 'a note beside the table';
  await wb.xlsx.writeFile(path);
}

describe('excelSource (.xlsx)', () => {
  before(async () => {
    dir = await tempDir();
    book = join(dir, 'book.xlsx');
    await writeBook(book);
  });
  after(cleanupTempDirs);

  it('reads the first sheet: numbers, trimmed strings, booleans, dates, formula results, links, rich text, errors as null', async () => {
    const { columns, rows, source } = await readAll({ path: book });
    expect(columns).to.deep.equal(['name', 'born', 'score', 'double', 'member', 'site', 'note', 'check', 'next_day']);
    expect(rows).to.have.length(2);
    expect(rows[0]).to.deep.equal(['Ada', utc(1815, 12, 10), 2.5, 5, true, 'ada.org', 'first bold', null, utc(1815, 12, 11)]);
    expect(rows[1]).to.deep.equal(['Grace', utc(1906, 12, 9), 4, 8, false, 'none', 'plain', 1, null]);
    expect(rows[0]?.[1]).to.be.instanceOf(Date);
    expect(source.warnings).to.deep.equal([`${book}: sheet "People": skipped 1 empty row`]);
    expect(source.lineage()).to.deep.equal({
      kind: 'file',
      path: book,
      format: 'xlsx',
      sheet: 'People',
      bytes: (await import('node:fs')).statSync(book).size,
      sha256: await sha256File(book),
      rows: 2,
    });
  });

  it('reads a named sheet and a range whose first row is the header', async () => {
    const { columns, rows, source } = await readAll({ path: book, sheet: 'Report', range: 'B3:D5' });
    expect(columns).to.deep.equal(['region', 'q1', 'q2']);
    expect(rows).to.deep.equal([
      ['north', 10, 11],
      ['south', 20, 21],
    ]);
    expect(source.lineage()).to.include({ sheet: 'Report', range: 'B3:D5', rows: 2 });
  });

  it('reads an open-ended range (B3:D) to the last row, and header: false', async () => {
    const open = await readAll({ path: book, sheet: 'Report', range: 'B3:D' });
    expect(open.rows.map((r) => r[0])).to.deep.equal(['north', 'south', 'east']);
    const raw = await readAll({ path: book, sheet: 'Report', range: 'C4:D6', header: false });
    expect(raw.columns).to.deep.equal(['column_1', 'column_2']);
    expect(raw.rows).to.deep.equal([
      [10, 11],
      [20, 21],
      [30, 31],
    ]);
  });

  it('yields rows in chunks', async () => {
    const path = join(dir, 'long.xlsx');
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Data');
    ws.addRow(['i', 'sq']);
    for (let i = 1; i <= 250; i++) ws.addRow([i, i * i]);
    await wb.xlsx.writeFile(path);
    const chunks = await chunksOf(excelSource({ kind: 'file', path }), 100);
    expect(chunks.map((c) => c.rows.length)).to.deep.equal([100, 100, 50]);
    expect(chunks[2]?.rows[49]).to.deep.equal([250, 62500]);
  });

  it('an unknown sheet is a DataError listing the sheets', async () => {
    const err = await rejection(readAll({ path: book, sheet: 'Sales' }));
    expect(err).to.be.instanceOf(DataError);
    expect(err.message).to.equal(`${book}: no sheet named "Sales"; the sheets are "People", "Report"`);
  });

  it('a value outside the header’s columns names the sheet, the row and the cell column', async () => {
    const err = await rejection(readAll({ path: book, sheet: 'Report' }));
    // Without a range the first non-empty row (A1, the title) is the header: F4 is outside it.
    expect(err).to.be.instanceOf(DataError);
    expect(err.message).to.equal(
      `${book}: sheet "Report", row 3: column B holds a value but the header (row 1) spans column A; give a range (such as A1:D) to choose the cells to read`,
    );
  });

  it('an empty sheet, a bad range, a missing file, a file that is not a workbook', async () => {
    const path = join(dir, 'empty.xlsx');
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('Blank');
    await wb.xlsx.writeFile(path);
    const empty = await rejection(readAll({ path }));
    expect(empty.message).to.equal(`${path}: sheet "Blank" is empty: expected a header row with column names`);
    expect(() => excelSource({ kind: 'file', path, range: 'B2-F9' })).to.throw(ConfigError, 'range "B2-F9" is not a cell range');
    expect(() => excelSource({ kind: 'file', path, range: 'D2:B9' })).to.throw(ConfigError);
    const missing = await rejection(readAll({ path: join(dir, 'nope.xlsx') }));
    expect(missing).to.be.instanceOf(NotFoundError);
    const fake = join(dir, 'fake.xlsx');
    await writeFile(fake, 'this is not a zip file');
    const notBook = await rejection(readAll({ path: fake }));
    expect(notBook).to.be.instanceOf(DataError);
    expect(notBook.message.startsWith(`${fake}: not a valid .xlsx file`)).to.equal(true);
  });
});
