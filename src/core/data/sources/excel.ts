/**
 * `.xlsx` workbooks, read with exceljs's streaming WorkbookReader: one sheet, row by row, never the
 * whole workbook in memory (the shared-strings table excepted, which every cell may refer to).
 */
import type ExcelJS from 'exceljs';
import { ConfigError, DataError, MlpipeError, messageOf } from '../../errors.js';
import { sha256File } from '../../fs-util.js';
import { type SourceFile, cleanHeader, openSourceFile } from '../files.js';
import type { FileSourceSpec, RawChunk, RawValue, RecordSource, SourceLineage } from './types.js';
import { readOnce } from './once.js';

/** Columns and rows of a sheet to read, 1-based and inclusive; `lastRow` is Infinity for `A1:D`. */
interface CellRange {
  firstColumn: number;
  lastColumn: number;
  firstRow: number;
  lastRow: number;
}

/**
 * A sheet of an `.xlsx` file: `spec.sheet` (default the first) and, optionally, the cells in `spec.range`
 * (`B2:F100`, `A1:D` to the last row, `B:F`). The first non-empty row (of the range) is the header unless
 * `spec.header` is false (columns `column_1` …). Cell values: numbers, strings (trimmed), booleans,
 * Dates for date-formatted cells, the cached result of a formula, rich text and hyperlinks as their
 * text, errors such as `#N/A` as null. Empty rows are skipped. Errors name the sheet and its row number.
 */
export function excelSource(spec: FileSourceSpec): RecordSource {
  const { path } = spec;
  const range = spec.range === undefined ? undefined : parseRange(spec.range, path);
  const header = spec.header ?? true;
  const warnings: string[] = [];
  let file: SourceFile | undefined;
  let sheetName: string | undefined;
  let sha256: string | undefined;
  let rows = 0;

  async function* read(size: number): AsyncGenerator<RawChunk> {
    file = await openSourceFile(path);
    // Loaded when a workbook is read: exceljs takes about 0.3 s to load, which every other load would pay.
    const { default: Excel } = await import('exceljs');
    const reader = new Excel.stream.xlsx.WorkbookReader(file.stream, {
      sharedStrings: 'cache',
      hyperlinks: 'ignore',
      // Styles are needed: a date is a number in a date-formatted cell.
      styles: 'cache',
      worksheets: 'emit',
    });
    const workbook = reader as unknown as WorkbookInternals;
    const seen: string[] = [];
    let found = false;
    for await (const worksheet of reader) {
      const name = (worksheet as unknown as { name: string }).name;
      seen.push(name);
      const wanted = spec.sheet ?? workbook.model?.sheets?.[0]?.name ?? name;
      if (name !== wanted) {
        // Read through, not skipped: exceljs parks a sheet that comes before the shared strings in a
        // temporary file and deletes it as soon as the iteration moves on, while the read stream it
        // opened for it may not be open yet (an uncaught ENOENT); reading it first closes that race.
        for await (const _row of worksheet as unknown as AsyncIterable<unknown>);
        continue;
      }
      found = true;
      sheetName = name;
      yield* readSheet(worksheet as unknown as AsyncIterable<ExcelJS.Row>, name, size, workbook.properties?.model?.date1904 === true);
      break;
    }
    if (!found) {
      const names = workbook.model?.sheets?.map((s) => s.name) ?? seen;
      if (names.length === 0) throw new DataError({ source: path }, 'not a valid .xlsx file: it holds no worksheets');
      throw new DataError({ source: path }, `no sheet named "${spec.sheet}"; the sheets are ${names.map((n) => `"${n}"`).join(', ')}`);
    }
    // The sheet may end before the file does: hash what was not read.
    sha256 = file.sha256() ?? (await sha256File(path));
  }

  async function* readSheet(worksheet: AsyncIterable<ExcelJS.Row>, sheet: string, size: number, date1904: boolean): AsyncGenerator<RawChunk> {
    const where = (row: number) => `sheet "${sheet}", row ${row}`;
    let columns: string[] | undefined;
    let headerRow = 0;
    let first = range?.firstColumn ?? 1;
    let last = range?.lastColumn ?? 0;
    let out: RawValue[][] = [];
    let emitted = false;
    let skipped = 0;
    for await (const row of worksheet) {
      const number = row.number;
      if (range && number < range.firstRow) continue;
      if (range && number > range.lastRow) break;
      const cells = row.values as ExcelJS.CellValue[];
      if (!columns) {
        // The first non-empty row gives the columns (and, without a range, how wide the table is).
        if (!range) {
          const filled = nonEmptyColumns(cells);
          if (filled.length === 0) continue;
          first = filled[0] as number;
          last = filled[filled.length - 1] as number;
        }
        const values = valuesOf(row, cells, first, last, date1904);
        if (values.every(isEmpty)) continue;
        headerRow = number;
        if (header) {
          columns = cleanHeader(values.map(headerText), `${path}: ${where(number)}`, warnings);
          continue;
        }
        columns = values.map((_, i) => `column_${i + 1}`);
      }
      if (!range) {
        const filled = nonEmptyColumns(cells);
        const outside = filled.find((c) => c < first || c > last);
        if (outside !== undefined) {
          const span = first === last ? `column ${columnLetters(first)}` : `columns ${columnLetters(first)} to ${columnLetters(last)}`;
          const suggestion = `${columnLetters(Math.min(first, filled[0] as number))}${headerRow}:${columnLetters(Math.max(last, filled[filled.length - 1] as number))}`;
          throw new DataError(
            { source: path },
            `${where(number)}: column ${columnLetters(outside)} holds a value but the ${header ? 'header' : 'first row'} (row ${headerRow}) spans ${span}; ` +
              `give a range (such as ${suggestion}) to choose the cells to read`,
          );
        }
      }
      const values = valuesOf(row, cells, first, last, date1904);
      if (values.every(isEmpty)) {
        skipped++;
        continue;
      }
      out.push(values);
      if (out.length >= size) {
        rows += out.length;
        yield { columns, rows: out };
        emitted = true;
        out = [];
      }
    }
    if (!columns) {
      throw new DataError({ source: path }, `sheet "${sheet}"${spec.range ? ` range ${spec.range}` : ''} is empty${header ? ': expected a header row with column names' : ''}`);
    }
    if (skipped > 0) warnings.push(`${path}: sheet "${sheet}": skipped ${skipped} empty row${skipped === 1 ? '' : 's'}`);
    if (out.length > 0 || !emitted) {
      rows += out.length;
      yield { columns, rows: out };
    }
  }

  return {
    name: path,
    warnings,
    declaredTypes: () => ({}),
    lineage: (): SourceLineage => {
      const lineage: SourceLineage = { kind: 'file', path, format: 'xlsx' };
      if (sheetName !== undefined || spec.sheet !== undefined) lineage.sheet = sheetName ?? spec.sheet;
      if (spec.range !== undefined) lineage.range = spec.range;
      if (file) lineage.bytes = file.bytes;
      if (sha256 !== undefined) lineage.sha256 = sha256;
      lineage.rows = rows;
      return lineage;
    },
    chunks: readOnce(path, async function* (size: number): AsyncGenerator<RawChunk> {
      try {
        yield* read(size);
      } catch (err) {
        if (err instanceof MlpipeError) throw err;
        throw new DataError({ source: path }, `not a valid .xlsx file: ${messageOf(err)}`, { cause: err });
      } finally {
        file?.stream.destroy();
      }
    }),
  };
}

/** What exceljs's WorkbookReader knows once it has read the workbook part (not in its types). */
interface WorkbookInternals {
  model?: { sheets?: { name: string }[] };
  properties?: { model?: { date1904?: boolean } };
}

/** `B2:F100`, `A1:D` (to the last row), `B:F` (whole columns). */
function parseRange(text: string, path: string): CellRange {
  const m = /^\s*([A-Za-z]{1,3})(\d*)\s*:\s*([A-Za-z]{1,3})(\d*)\s*$/.exec(text);
  const bad = () => new ConfigError(`${path}: range "${text}" is not a cell range such as B2:F100, A1:D or B:F`);
  if (!m) throw bad();
  const range: CellRange = {
    firstColumn: columnNumber(m[1] as string),
    firstRow: m[2] ? Number(m[2]) : 1,
    lastColumn: columnNumber(m[3] as string),
    lastRow: m[4] ? Number(m[4]) : Number.POSITIVE_INFINITY,
  };
  if (range.firstRow < 1 || range.lastColumn < range.firstColumn || range.lastRow < range.firstRow) throw bad();
  return range;
}

function columnNumber(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

function columnLetters(n: number): string {
  let s = '';
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
  return s;
}

/** Column numbers of the cells holding something, ascending. */
function nonEmptyColumns(cells: ExcelJS.CellValue[]): number[] {
  const out: number[] = [];
  cells.forEach((v, c) => {
    if (c > 0 && !isEmpty(plain(v, false))) out.push(c);
  });
  return out;
}

function valuesOf(row: ExcelJS.Row, cells: ExcelJS.CellValue[], first: number, last: number, date1904: boolean): RawValue[] {
  const out: RawValue[] = new Array(last - first + 1);
  for (let c = first; c <= last; c++) {
    const v = cells[c];
    let value = plain(v, date1904);
    // A formula's cached result is a bare number even when the cell shows a date.
    if (typeof value === 'number' && isFormula(v) && isDateFormat(row.getCell(c).numFmt)) value = excelDate(value, date1904);
    out[c - first] = value;
  }
  return out;
}

function isFormula(v: ExcelJS.CellValue): boolean {
  return typeof v === 'object' && v !== null && !(v instanceof Date) && ('formula' in v || 'sharedFormula' in v);
}

/** A cell's value as a raw value: rich text and hyperlinks as text, formulas as their result, errors as null. */
function plain(v: ExcelJS.CellValue | undefined, date1904: boolean): RawValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return Number.isNaN(v) ? null : v;
  if (typeof v === 'boolean') return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  if ('error' in v) return null;
  if ('richText' in v) return v.richText.map((r) => r.text ?? '').join('').trim();
  if ('formula' in v || 'sharedFormula' in v) return v.result === undefined ? null : plain(v.result as ExcelJS.CellValue, date1904);
  if ('text' in v) return plain(v.text as ExcelJS.CellValue, date1904);
  return null;
}

function isEmpty(v: RawValue): boolean {
  return v === null || v === undefined || v === '';
}

function headerText(v: RawValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** exceljs's test for a date number format: date/time letters outside quotes and brackets. */
function isDateFormat(format: string | undefined): boolean {
  if (!format) return false;
  const bare = format.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, '');
  return /[ymdhMsb]+/.test(bare);
}

/** An Excel serial day number as a Date (as exceljs converts date cells). */
function excelDate(serial: number, date1904: boolean): Date {
  return new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 24 * 3600 * 1000));
}
