import { expect } from 'chai';
import fc from 'fast-check';
import { byScale, countReliability } from '../../test-helpers/reliability.js';
import { MlpipeError } from '../errors.js';
import { type Column, type Table, emptyColumn, setCell } from '../table.js';
import type { Cell, ColumnType } from '../values.js';
import { fitPipeline } from './fit-pipeline.js';
import { FeatureTransformer } from './transformer.js';
import { FEATURIZER_KINDS } from './registry.js';
import type { FitContext, FittedPipeline } from './types.js';

/**
 * Issue 11: property tests of every registered featurizer kind, on arbitrary columns of each type it
 * accepts (missing values, empty strings, huge and tiny numbers, NaN-like text, odd Unicode, very
 * long strings). Fit succeeds or throws mlpipe's own error; then the batch transform equals the
 * record-by-record one, every output is a finite number, and the fitted state survives a JSON
 * round trip with identical outputs.
 */

const longText = byScale(2_000, 50_000);
const oddText = fc.oneof(
  fc.constantFrom('', ' ', 'NaN', 'nan', 'null', 'NULL', 'NA', 'N/A', 'undefined', 'Infinity', '-Infinity', '1e309', '-0', '__proto__', 'constructor', 'toString', '\u0000', '\uFEFF', 'é', 'e\u0301', '🙂', '𝐀𝐁', '\u202Eevil', '\uD800'),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ maxLength: 8 }).map((s) => s.repeat(Math.ceil(longText / Math.max(1, s.length))).slice(0, longText)),
);
const extremeNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1, -1, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 1e300, -1e300, 1e-300, 2 ** 53, -(2 ** 53)),
);
const CELLS: Record<ColumnType, fc.Arbitrary<Cell>> = {
  number: extremeNumber,
  integer: fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.constantFrom(0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53)),
  boolean: fc.boolean(),
  category: oddText,
  datetime: fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.getTime()),
  text: oddText,
};

function column(type: ColumnType, cells: Cell[]): Column {
  const col = emptyColumn('c', type, cells.length);
  cells.forEach((c, i) => setCell(col, i, c));
  return col;
}

/** A record as a client sends it: a datetime as an ISO string, a missing value absent or null. */
function recordOf(type: ColumnType, cell: Cell, i: number): Record<string, unknown> {
  if (cell === null) return i % 2 ? { c: null } : {};
  return { c: type === 'datetime' ? new Date(cell as number).toISOString() : cell };
}

/** Parameters under which a kind's defaults would refuse most arbitrary columns (documented refusals). */
const PARAMS: Record<string, Record<string, unknown>> = { log1p: { negative: 'clip' } };

function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(a[i] === b[i])) return false;
  return true;
}

describe('featurizers under arbitrary columns (reliability)', function () {
  this.timeout(300_000);
  let cases = 0;
  let passed = 0;
  after(() => countReliability('featurizer properties', { cases, passed }));

  for (const [name, kind] of FEATURIZER_KINDS) {
    for (const type of kind.accepts) {
      it(`${name} on ${type} columns: fit or our error; batch = row by row; finite; JSON round trip`, () => {
        fc.assert(
          fc.property(fc.array(fc.option(CELLS[type], { freq: 5 }), { minLength: 1, maxLength: 24 }), fc.integer({ min: 0, max: 1000 }), (cells, seed) => {
            cases++;
            const table: Table = { columns: [column(type, cells)], rowCount: cells.length };
            const context: FitContext = { target: { task: 'classification', values: Float64Array.from(cells, (_, i) => (i * 7 + seed) % 2), classes: ['a', 'b'] }, seed };
            let pipeline: FittedPipeline;
            try {
              pipeline = fitPipeline(table, { steps: [{ column: 'c', kind: name, params: { ...PARAMS[name] } }], dropped: [] }, context);
            } catch (err) {
              if (!(err instanceof MlpipeError)) throw err;
              passed++;
              return;
            }
            const t = new FeatureTransformer(pipeline);
            const batch = t.transformTable(table);
            const w = t.width;
            for (const v of batch) expect(Number.isFinite(v), `batch output ${v}`).to.equal(true);
            cells.forEach((cell, i) => {
              const one = t.transformRecord(recordOf(type, cell, i));
              expect(same(one, batch.subarray(i * w, (i + 1) * w)), `row ${i} (${JSON.stringify(cell)?.slice(0, 80)}): ${Array.from(one)} vs ${Array.from(batch.subarray(i * w, (i + 1) * w))}`).to.equal(true);
            });
            const copy = JSON.parse(JSON.stringify(pipeline)) as FittedPipeline;
            const again = new FeatureTransformer(copy).transformTable(table);
            expect(same(again, batch), 'after a JSON round trip of the fitted state').to.equal(true);
            passed++;
          }),
          { numRuns: byScale(25, 400) },
        );
      });
    }
  }
});
