/**
 * Property tests of type inference (issue 11): for any column (arbitrary Unicode, numbers in many
 * forms, booleans in any case, ISO and day/month dates, missing tokens, huge values, empty strings,
 * and the non-string values databases and spreadsheets give), the inferred type's parser (`toCell`
 * with the learned date order) accepts every value, or the column is a category or text column whose
 * refusals are CellErrors; nothing else is ever thrown. Feeding the same values one by one, as string
 * chunks or as spans of a text, split anywhere, gives the same inference; so does the real loader,
 * from memory or from a CSV file, whatever its chunk size.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { memorySource } from '../../test-helpers/memory-source.js';
import { byScale, countReliability } from '../../test-helpers/reliability.js';
import { MlpipeError } from '../errors.js';
import { CellError, MISSING_TOKENS, isMissing, toCell } from '../values.js';
import { TypeInferrer } from './infer.js';
import { fileSource } from './sources/file.js';
import type { RawValue, RecordSource, TextRows } from './sources/types.js';
import { MemoryTableSink } from './table-sinks.js';
import { streamLoad } from './type-chunks.js';

const RUNS = byScale(1000, 20_000);
const LOAD_RUNS = byScale(40, 1000);
const HUGE = byScale(5_000, 200_000);

const pad = (s: string) => fc.constantFrom('', ' ', '\t', '\u00a0').map((p) => `${p}${s}${p}`);
const anyCase = (word: string) => fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((up) => [...word].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));

const numberText = fc.oneof(
  fc.double().map(String),
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.double({ noNaN: true }).map((d) => d.toExponential()),
  fc.double({ noNaN: true, min: -1e6, max: 1e6 }).map((d) => d.toFixed(3)),
  fc.constantFrom('1e5', '.5', '5.', '+3', '-0', '007', '1e999', '-1e-999', '0x10', '1,000', '1_000', 'Infinity', '9007199254740993'),
).chain(pad);
const booleanText = fc.constantFrom('true', 'false', 'yes', 'no').chain(anyCase).chain(pad);
const isoDate = fc
  .tuple(fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), fc.constantFrom(10, 16, 19, 23, 24))
  .map(([d, n]) => d.toISOString().slice(0, n));
const dayMonthDate = fc
  .tuple(fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 1000, max: 9999 }), fc.constantFrom('/', '-', '.'), fc.boolean(), fc.constantFrom('', ' 14:30', ' 23:59:59', 'T07:05:00Z'))
  .map(([a, b, y, sep, zero, time]) => {
    const two = (n: number) => (zero ? String(n).padStart(2, '0') : String(n));
    return `${two(a)}${sep}${two(b)}${sep}${y}${time}`;
  });
const namedDate = fc.constantFrom('Mar 5 2024', 'March 5, 2024', '5 Mar 2024', '05-Mar-2024', 'Feb 30 2024', 'Sept 1 2023 10:00');
const missingText = fc.constantFrom(...MISSING_TOKENS).chain(pad);
const oddText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', ' ', '\uFEFF', '\u0000', '__proto__', 'constructor', 'e\u0301', '\uD800', 'a b c d e f g h i j k l m n o p'),
  fc.string({ minLength: 1, maxLength: 6 }).map((s) => s.repeat(Math.ceil(HUGE / s.length))),
  fc.lorem({ maxCount: 12 }),
);

/** A value of a column mostly of one kind (the interesting case: typed until one odd value). */
const KINDS = { number: numberText, boolean: booleanText, iso: isoDate, dayMonth: dayMonthDate, named: namedDate, missing: missingText, odd: oddText };
const column = fc.constantFrom(...(Object.keys(KINDS) as (keyof typeof KINDS)[])).chain((kind) =>
  fc.array(fc.oneof({ arbitrary: KINDS[kind], weight: 12 }, { arbitrary: missingText, weight: 2 }, { arbitrary: fc.oneof(...Object.values(KINDS)), weight: 1 }), { maxLength: 40 }),
);

/** Values that are not strings, as databases, spreadsheets and JSON give them. */
const rawValue: fc.Arbitrary<RawValue> = fc.oneof(
  { arbitrary: fc.oneof(numberText, booleanText, isoDate, dayMonthDate, missingText, oddText), weight: 4 },
  fc.double(),
  fc.integer(),
  fc.constantFrom(Infinity, -Infinity, Number.NaN, -0, Number.MAX_VALUE, 2 ** 53),
  fc.boolean(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.date(),
  fc.constantFrom(null, undefined, new Date(Number.NaN)),
);
const rawColumn = fc.oneof(
  fc.array(rawValue, { maxLength: 30 }),
  // One kind with an odd one out.
  fc.tuple(fc.constantFrom<fc.Arbitrary<RawValue>>(fc.double(), fc.integer(), fc.boolean(), fc.date(), fc.bigInt()), rawValue, fc.nat()).chain(([kind, odd, at]) =>
    fc.array(kind, { maxLength: 30 }).map((vs) => [...vs.slice(0, at % (vs.length + 1)), odd, ...vs.slice(at % (vs.length + 1))]),
  ),
);

/** The values as spans of one text, padded with text that must not be read. */
function asSpans(values: string[]): TextRows {
  let text = '';
  const starts = new Int32Array(values.length);
  const ends = new Int32Array(values.length);
  values.forEach((v, i) => {
    text += i % 2 === 0 ? ',x' : ';';
    starts[i] = text.length;
    text += v;
    ends[i] = text.length;
  });
  return { text: `${text}7`, rowCount: values.length, width: 1, starts, ends };
}

/** `text` with each lone surrogate replaced by U+FFFD, as it reads back from a UTF-8 file. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** `values` cut into chunks at the given positions. */
function split<T>(values: T[], at: number[]): T[][] {
  const points = [...new Set(at.map((p) => p % (values.length + 1)))].sort((a, b) => a - b);
  const out: T[][] = [];
  let from = 0;
  for (const p of points) {
    out.push(values.slice(from, p));
    from = p;
  }
  out.push(values.slice(from));
  return out;
}

/** Everything inference exposes. */
function state(inferrer: TypeInferrer) {
  return {
    type: inferrer.result(),
    dateOrder: inferrer.dateOrder(),
    ambiguous: inferrer.dateOrderAmbiguous,
    distinct: inferrer.distinctCount,
    capped: inferrer.distinctCapped,
    mayBeBoolean: inferrer.mayBeBoolean,
    counts: inferrer.valueCounts() && [...inferrer.valueCounts()!.counts].sort(),
  };
}

/** Fails unless `toCell` of the inferred type reads every value (but an invalid Date, which no type reads: a CellError). */
function expectReadable(values: readonly unknown[], inferrer: TypeInferrer): void {
  const type = inferrer.result();
  const order = type === 'datetime' ? inferrer.dateOrder() : undefined;
  for (const v of values) {
    if (isMissing(v)) continue;
    try {
      toCell(type, v, order);
    } catch (err) {
      const what = `${typeof v} ${typeof v === 'bigint' ? v : JSON.stringify(v)?.slice(0, 80)} in a ${type}${order ? `:${order}` : ''} column`;
      if (!(err instanceof CellError)) expect.fail(`${what}: ${String(err)}`);
      if (!(v instanceof Date && Number.isNaN(v.getTime()))) expect.fail(`${what} refused: ${err.message}`);
    }
  }
}

describe('type inference properties (reliability)', function () {
  this.timeout(120_000);

  it('the inferred type reads every value of a column of strings; chunks and spans split anywhere infer the same', () => {
    let cases = 0;
    fc.assert(
      fc.property(column, fc.array(fc.nat(), { maxLength: 5 }), fc.constantFrom(100_000, 3), (values, cuts, cap) => {
        cases++;
        const one = new TypeInferrer(cap);
        for (const v of values) one.add(v);
        expectReadable(values, one);
        const byStrings = new TypeInferrer(cap);
        const bySpans = new TypeInferrer(cap);
        for (const chunk of split(values, cuts)) {
          byStrings.addChunk(chunk, chunk.length);
          bySpans.addSpans(asSpans(chunk), 0);
        }
        expect(state(byStrings), 'string chunks').to.deep.equal(state(one));
        expect(state(bySpans), 'span chunks').to.deep.equal(state(one));
      }),
      { numRuns: RUNS },
    );
    countReliability('type inference: strings readable, chunked = whole', { cases, passed: cases });
  });

  it('columns of any raw values (numbers, ±Infinity, NaN, bigints, Dates, booleans, strings): readable or a CellError, never another exception', () => {
    let cases = 0;
    fc.assert(
      fc.property(rawColumn, fc.array(fc.nat(), { maxLength: 4 }), (values, cuts) => {
        cases++;
        const one = new TypeInferrer();
        for (const v of values) one.add(v);
        expectReadable(values, one);
        const chunked = new TypeInferrer();
        for (const chunk of split(values, cuts)) chunked.addChunk(chunk, chunk.length);
        expect(state(chunked)).to.deep.equal(state(one));
      }),
      { numRuns: RUNS },
    );
    countReliability('type inference: raw values', { cases, passed: cases });
  });

  describe('through the loader', () => {
    let dir: string;
    before(async () => {
      dir = await tempDir();
    });
    after(cleanupTempDirs);

    async function load(source: RecordSource, chunkRows: number) {
      const sink = new MemoryTableSink();
      try {
        const result = await streamLoad(source, sink, { chunkRows });
        return { schema: result.schema, table: sink.table() };
      } catch (err) {
        if (!(err instanceof MlpipeError)) throw err;
        return { error: err.message };
      }
    }

    it('memory and CSV sources give the same schema and values whatever the chunk size', async () => {
      let cases = 0;
      let loaded = 0;
      let file = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(column, { minLength: 1, maxLength: 4 }), fc.constantFrom(1, 2, 3, 7, 64), async (columns, chunkRows) => {
          cases++;
          const rowCount = Math.max(...columns.map((c) => c.length));
          const names = columns.map((_, j) => `c${j}`);
          // A file holds well-formed Unicode only (a lone surrogate is written as U+FFFD).
          const rows = Array.from({ length: rowCount }, (_, i) => columns.map((c) => wellFormed(c[i] ?? '')));
          const whole = await load(memorySource(names, rows), 100_000);
          const chunked = await load(memorySource(names, rows), chunkRows);
          expect(chunked, `memory, ${chunkRows} rows a chunk`).to.deep.equal(whole);
          // Inference over strings never leaves a value its type refuses: every such load succeeds.
          expect(whole).to.not.have.property('error');
          const path = join(dir, `${file++}.csv`);
          // Every value quoted: an unquoted empty value alone on its line would be a blank line, skipped.
          await writeFile(path, [names, ...rows].map((r) => r.map((v) => `"${v.replace(/"/g, '""')}"`).join(',')).join('\n'));
          const csvWhole = await load(fileSource({ kind: 'file', path }), 100_000);
          const csvChunked = await load(fileSource({ kind: 'file', path }), chunkRows);
          expect(csvChunked, `CSV, ${chunkRows} rows a chunk`).to.deep.equal(csvWhole);
          expect(csvWhole, 'CSV as memory').to.deep.equal(whole);
          loaded++;
        }),
        { numRuns: LOAD_RUNS },
      );
      countReliability('type inference: loader chunk sizes', { cases, passed: loaded });
    });
  });
});
