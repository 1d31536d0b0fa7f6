import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { expect } from 'chai';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { DataError, NotFoundError } from '../errors.js';
import type { Lineage } from '../lineage.js';
import { type Table, cellAt, selectRows } from '../table.js';
import type { Cell, ColumnType } from '../values.js';
import { buildTable } from './build.js';
import { fingerprintTable, readDataset } from './dataset.js';
import { writeDataset } from './dataset-writer.js';
import { Fingerprinter } from './fingerprint.js';
import { type RawTable, readRawFile } from './files.js';

/** Every column as name, type and cells (missing as null), for deep comparison. */
function contents(table: Table): { rowCount: number; columns: { name: string; type: ColumnType; cells: Cell[] }[] } {
  return {
    rowCount: table.rowCount,
    columns: table.columns.map((col) => ({
      name: col.name,
      type: col.type,
      cells: Array.from({ length: table.rowCount }, (_, i) => cellAt(col, i)),
    })),
  };
}

const TEXT_A = 'The product arrived on time and works well.';
const TEXT_B = 'Terrible packaging, the box was crushed on arrival.';

/** A raw table (as read from JSON) with one column of every type, each with missing values. */
function rawAllTypes(): RawTable {
  return {
    source: 'all-types.json',
    format: 'json',
    columnNames: ['num', 'int', 'flag', 'color', 'when', 'review'],
    rows: [
      [1.5, 3, true, 'red', '2024-03-05T14:30:00Z', TEXT_A],
      [null, null, null, null, null, null],
      [-2e10, -7, false, 'blue', '1999-12-31', TEXT_B],
      ['NA', '?', '', 'n/a', 'null', 'None'],
      [0.1, 0, 'yes', 'red', '0050-01-01 00:00:00.5', 'Would buy again, but the manual is hard to follow.'],
    ],
    warnings: [],
  };
}

const lineage: Lineage = {
  source: { kind: 'file', path: 'data/all-types.json', format: 'json', bytes: 1234, sha256: 'ab'.repeat(32) },
  rows: 5,
  columns: 6,
  fingerprint: 'sha256:0000',
  loadedAt: '2024-03-05T14:30:00.000Z',
  mlpipeVersion: '0.1.0',
};

describe('datasets', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  describe('buildTable', () => {
    it('infers every column type and normalizes cells', () => {
      const table = buildTable(rawAllTypes());
      expect(contents(table)).to.deep.equal({
        rowCount: 5,
        columns: [
          { name: 'num', type: 'number', cells: [1.5, null, -2e10, null, 0.1] },
          { name: 'int', type: 'integer', cells: [3, null, -7, null, 0] },
          { name: 'flag', type: 'boolean', cells: [true, null, false, null, true] },
          { name: 'color', type: 'category', cells: ['red', null, 'blue', null, 'red'] },
          {
            name: 'when',
            type: 'datetime',
            cells: [Date.UTC(2024, 2, 5, 14, 30), null, Date.UTC(1999, 11, 31), null, Date.parse('0050-01-01T00:00:00.500Z')],
          },
          { name: 'review', type: 'text', cells: [TEXT_A, null, TEXT_B, null, 'Would buy again, but the manual is hard to follow.'] },
        ],
      });
    });

    it('uses declared types instead of inference', () => {
      const raw: RawTable = { source: 's.csv', format: 'csv', columnNames: ['zip', 'n'], rows: [['02134', '1'], ['10001', '2']], warnings: [] };
      const table = buildTable(raw, { types: { zip: 'category', n: 'number' } });
      expect(contents(table).columns).to.deep.equal([
        { name: 'zip', type: 'category', cells: ['02134', '10001'] },
        { name: 'n', type: 'number', cells: [1, 2] },
      ]);
    });

    it('a value contradicting a declared type is a DataError naming source, row, line and column', async () => {
      const path = join(dir, 'declared.csv');
      await writeFile(path, 'id,price\n1,9.5\n\n2,free\n');
      const raw = await readRawFile(path);
      let caught: unknown;
      try {
        buildTable(raw, { types: { price: 'number' } });
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(DataError);
      const err = caught as DataError;
      expect(err.message).to.equal(`${path}: row 2 (line 4), column "price": expected a number, got "free" (column type number)`);
      expect(err.location).to.deep.equal({ source: path, row: 2, line: 4, column: 'price' });
    });

    it('a contradicting JSON value names source, row and column', () => {
      const raw: RawTable = { source: 'r.json', format: 'json', columnNames: ['ok'], rows: [[true], ['maybe']], warnings: [] };
      expect(() => buildTable(raw, { types: { ok: 'boolean' } })).to.throw(
        DataError,
        'r.json: row 2, column "ok": expected a boolean (true/false), got "maybe" (column type boolean)',
      );
    });

    it('a type declared for a column that does not exist is a DataError', () => {
      const raw: RawTable = { source: 'r.csv', format: 'csv', columnNames: ['a', 'b'], rows: [], warnings: [] };
      expect(() => buildTable(raw, { types: { c: 'number' } })).to.throw(
        DataError,
        'r.csv: column "c": a type is declared for this column but the source has no such column (columns: a, b)',
      );
    });
  });

  describe('writeDataset / readDataset', () => {
    it('round-trips every column type with missing values, and the lineage', async () => {
      const table = buildTable(rawAllTypes());
      const path = join(dir, 'all-types.arrow');
      await writeDataset(path, table, lineage);
      const dataset = await readDataset(path);
      expect(contents(dataset.table)).to.deep.equal(contents(table));
      expect(dataset.lineage).to.deep.equal(lineage);
      // Numeric columns come back as Float64Array with NaN for missing values.
      const num = dataset.table.columns[0];
      expect(num?.values).to.be.instanceOf(Float64Array);
      expect(Number.isNaN(num?.values[1])).to.equal(true);
    });

    it('round-trips a dataset without lineage, and an empty table', async () => {
      const path = join(dir, 'empty.arrow');
      const raw: RawTable = { source: 'e.csv', format: 'csv', columnNames: ['a', 'b'], rows: [], warnings: [] };
      const table = buildTable(raw, { types: { a: 'number', b: 'category' } });
      await writeDataset(path, table, null);
      const dataset = await readDataset(path);
      expect(dataset.lineage).to.equal(undefined);
      expect(contents(dataset.table)).to.deep.equal({
        rowCount: 0,
        columns: [
          { name: 'a', type: 'number', cells: [] },
          { name: 'b', type: 'category', cells: [] },
        ],
      });
    });

    it('overwrites an existing dataset and leaves no temporary files in the folder', async () => {
      const folder = await tempDir();
      const path = join(folder, 'data.arrow');
      await writeDataset(path, buildTable(rawAllTypes()), lineage);
      const smaller: RawTable = { source: 's', format: 'json', columnNames: ['x'], rows: [[1], [2]], warnings: [] };
      await writeDataset(path, buildTable(smaller), null);
      expect(await readdir(folder)).to.deep.equal(['data.arrow']);
      const dataset = await readDataset(path);
      expect(contents(dataset.table).columns).to.deep.equal([{ name: 'x', type: 'integer', cells: [1, 2] }]);
    });

    it('creates missing parent folders', async () => {
      const path = join(dir, 'deep', 'er', 'data.arrow');
      await writeDataset(path, buildTable(rawAllTypes()), null);
      expect((await readDataset(path)).table.rowCount).to.equal(5);
      expect(await readdir(join(dir, 'deep', 'er'))).to.deep.equal(['data.arrow']);
    });

    it('reads a plain Arrow file written by another tool, typing columns from Arrow types', async () => {
      const path = join(dir, 'foreign.arrow');
      const arrow = tableFromArrays({ n: Int32Array.from([1, 2, 3]), x: Float64Array.from([0.5, Number.NaN, 2]), s: ['a', 'b', 'a'] });
      await writeFile(path, tableToIPC(arrow, 'file'));
      const dataset = await readDataset(path);
      expect(dataset.lineage).to.equal(undefined);
      expect(contents(dataset.table).columns).to.deep.equal([
        { name: 'n', type: 'integer', cells: [1, 2, 3] },
        { name: 'x', type: 'number', cells: [0.5, null, 2] },
        { name: 's', type: 'category', cells: ['a', 'b', 'a'] },
      ]);
    });

    it('a file that is not Arrow is a DataError naming it', async () => {
      const path = join(dir, 'not-arrow.arrow');
      await writeFile(path, 'a,b\n1,2\n');
      let caught: unknown;
      try {
        await readDataset(path);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(DataError);
      expect((caught as DataError).message.startsWith(`${path}: not an Arrow IPC dataset (`)).to.equal(true);
    });

    it('a missing file is a NotFoundError', async () => {
      const path = join(dir, 'missing.arrow');
      let caught: unknown;
      try {
        await readDataset(path);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(NotFoundError);
      expect((caught as NotFoundError).message).to.equal(`${path}: file not found`);
    });
  });

  describe('fingerprintTable', () => {
    it('is a sha256 and equal for equal data built separately (category columns included)', () => {
      const a = fingerprintTable(buildTable(rawAllTypes()));
      const b = fingerprintTable(buildTable(rawAllTypes()));
      expect(a).to.match(/^sha256:[0-9a-f]{64}$/);
      expect(b).to.equal(a);
    });

    it('is unchanged by a write/read round trip and ignores lineage', async () => {
      const table = buildTable(rawAllTypes());
      const path = join(dir, 'fingerprint.arrow');
      await writeDataset(path, table, lineage);
      const back = await readDataset(path);
      expect(fingerprintTable(back.table)).to.equal(fingerprintTable(table));
    });

    it('changes when one value changes', () => {
      const base = fingerprintTable(buildTable(rawAllTypes()));
      const changes: [row: number, column: number, value: unknown][] = [
        [0, 0, 1.25], // number
        [2, 1, -8], // integer
        [0, 2, false], // boolean
        [4, 3, 'green'], // category
        [1, 4, '2024-03-05'], // missing datetime becomes present
        [0, 5, TEXT_A.toUpperCase()], // text
      ];
      for (const [r, c, value] of changes) {
        const raw = rawAllTypes();
        const row = raw.rows[r];
        if (!row) throw new Error(`no row ${r}`);
        row[c] = value;
        expect(fingerprintTable(buildTable(raw)), `row ${r} column ${c}`).not.to.equal(base);
      }
    });

    it('changes when only a column type differs', () => {
      const raw: RawTable = { source: 's', format: 'csv', columnNames: ['a'], rows: [['1'], ['2']], warnings: [] };
      expect(fingerprintTable(buildTable(raw, { types: { a: 'number' } }))).not.to.equal(fingerprintTable(buildTable(raw, { types: { a: 'integer' } })));
    });
  });
});

describe('fingerprint (incremental)', () => {
  it('is the same over any chunking of the rows, and equal to fingerprintTable', () => {
    const table = buildTable(rawAllTypes());
    const whole = fingerprintTable(table);
    for (const size of [1, 2, 4, 5]) {
      const f = new Fingerprinter(table.columns);
      for (let start = 0; start < table.rowCount; start += size) {
        f.add(selectRows(table, Array.from({ length: Math.min(size, table.rowCount - start) }, (_, k) => start + k)));
      }
      expect(f.digest(), `chunks of ${size}`).to.equal(whole);
    }
  });

  it('changes with a column name, the row order, or a missing value becoming an empty string', () => {
    const raw: RawTable = { source: 's', format: 'json', columnNames: ['a', 'b'], rows: [[1, 'x'], [2, null]], warnings: [] };
    const base = fingerprintTable(buildTable(raw));
    expect(fingerprintTable(buildTable({ ...raw, columnNames: ['a', 'c'] }))).not.to.equal(base);
    expect(fingerprintTable(buildTable({ ...raw, rows: [[2, null], [1, 'x']] }))).not.to.equal(base);
    const table = buildTable(raw);
    (table.columns[1]!.values as (string | null)[])[1] = '';
    expect(fingerprintTable(table)).not.to.equal(base);
  });

  it('does not depend on where strings are cut: ["ab", "c"] differs from ["a", "bc"]', () => {
    const t = (cells: string[]) => buildTable({ source: 's', format: 'json', columnNames: ['s'], rows: cells.map((c) => [c]), warnings: [] }, { types: { s: 'category' } });
    expect(fingerprintTable(t(['ab', 'c']))).not.to.equal(fingerprintTable(t(['a', 'bc'])));
  });
});
