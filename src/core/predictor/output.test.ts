import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { readPipelineConfig } from '../pipeline/config.js';
import { runPipeline } from '../pipeline/run.js';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { mulberry32 } from '../../test-helpers/random.js';
import { dict } from '../records/dict.js';
import { buildScoringBundles } from '../../test-helpers/scoring.js';
import { PredictionText, TextCells, csvCell, csvOutputCells, csvText, jsonOutputObject, outputClasses } from './output.js';
import type { Predictor } from './predictor.js';
import { loadPredictor } from './from-bundle.js';

/**
 * PredictionText and csvCell write predictions by hand for speed (the streamed answers of
 * /predict/stream); these tests hold them to the bytes of the general path they replace: csvText
 * (csv-stringify) over csvOutputCells, and JSON.stringify over jsonOutputObject.
 */
describe('csvCell: one cell as csvText (csv-stringify) writes it', () => {
  const viaLibrary = (v: unknown) => csvText([[v]]).slice(0, -1);

  it('strings (quotes, commas, line ends, unicode), numbers, booleans, null and undefined, dates, objects', () => {
    const samples: unknown[] = ['', 'a', 'a,b', 'say "hi"', '"', 'line\nbreak', 'cr\rhere', 'crlf\r\n', ' spaced ', '=1+2', '-3', 'élan ✓', 0, -0, 1.5, -2.25e-7, 1e21, Number.NaN, Infinity, -Infinity, 0.1 + 0.2, true, false, null, undefined, new Date(0), { a: 1 }, [1, 'x,y'], 12n];
    for (const v of samples) expect(csvCell(v), String(v)).to.equal(viaLibrary(v));
  });

  it('any string or number', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', 'é') }), fc.double(), fc.integer()), (v) => csvCell(v) === viaLibrary(v)),
      { numRuns: 2000, seed: 7 },
    );
  });
});

describe('PredictionText: the general path’s bytes, from the forest’s arrays', function () {
  this.timeout(180_000);
  const models = new Map<string, Predictor>();

  /** Trains a 3-tree bundle on rows of (x, y, label) with `labels` as the target's values. */
  async function train(dir: string, name: string, labels: string[], extra = ''): Promise<Predictor> {
    const rand = mulberry32(3);
    const quote = (c: string) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
    const rows = Array.from({ length: 120 }, (_, i) => [String(Math.round(rand() * 100) / 10), ['p', 'q', 'r'][i % 3] as string, labels[i % labels.length] as string]);
    await writeFile(join(dir, `${name}.csv`), `${['x', 'y', 'label'].join(',')}\n${rows.map((r) => r.map(quote).join(',')).join('\n')}\n`);
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, `source: ${name}.csv\ntarget: label\nname: ${name}\n${extra}`);
    const artifacts = join(dir, 'store');
    await runPipeline({ config: await readPipelineConfig(file), seed: 3, model: { trees: 3 }, artifacts, defaultArtifacts: artifacts });
    return loadPredictor(name, artifacts);
  }

  before(async () => {
    const dir = await tempDir();
    models.set('labels with commas and quotes', await train(dir, 'quoted', ['a,b', 'say "hi"', 'plain']));
    // Integer-like labels: JSON puts such keys first in ascending order, whatever the order of the classes.
    models.set('integer labels', await train(dir, 'numbers', ['10', '2', '1'], 'task: classification\n'));
    models.set('labels some integer-like', await train(dir, 'mixed', ['zeta', '10', 'alpha', '2']));
    models.set('yes/no labels', await train(dir, 'yesno', ['Yes', 'No']));
    models.set('regression', await train(dir, 'reg', ['1.5', '2.25', '-3', '10.125'], 'task: regression\n'));
  });
  after(cleanupTempDirs);

  const ids: (string | undefined)[] = [undefined, 'tag', 'prediction', 'probabilities', '7', '__proto__', 'x'];
  const idValues: unknown[] = ['t1', 'a,"b"', '', 3.5, 0, true, null, undefined, 'line\nbreak'];

  it('writes each good row as csvText(csvOutputCells(…)) and JSON.stringify(jsonOutputObject(…)) do', () => {
    for (const [what, model] of models) {
      const classes = outputClasses(model);
      const k = classes.length;
      const rand = mulberry32(9);
      const rows = 40;
      const values = Float64Array.from({ length: rows }, () => (k > 0 ? Math.floor(rand() * k) : Math.round(rand() * 1e6) / 1e3 - 100));
      const proba = Float64Array.from({ length: rows * k }, (_, q) => [0, 1, 1 / 3, 2 / 3, 0.5, rand()][q % 6] as number);
      for (const id of ids) {
        for (const format of ['csv', 'ndjson'] as const) {
          for (const withError of format === 'csv' ? [true, false] : [true]) {
            const text = new PredictionText(model, format, id, withError);
            // The fast form, except where an id column's key is one of the answer's own keys (a regression answer has no probabilities).
            if (format === 'ndjson') expect(text.exactJson, `${what}, id ${id}`).to.equal(id !== 'prediction' && (id !== 'probabilities' || k === 0));
            for (let i = 0; i < rows; i++) {
              const record = dict<unknown>();
              if (id !== undefined && i % idValues.length !== 7) record[id] = idValues[i % idValues.length];
              const prediction = model.predictionOf(values[i] as number, proba.subarray(i * k, (i + 1) * k));
              const expected =
                format === 'csv' ? csvText([csvOutputCells({ record, prediction }, classes, id, withError)]) : `${JSON.stringify(jsonOutputObject({ record, prediction }, classes, id))}\n`;
              expect(text.row(record, values[i] as number, proba, i), `${what}, ${format}, id ${id}, row ${i}`).to.equal(expected);
            }
          }
        }
      }
    }
  });

  it('names the label in its own spelling and type (labelOf)', () => {
    expect(outputClasses(models.get('integer labels')!).map((_, c) => models.get('integer labels')!.labelOf(c)).sort()).to.deep.equal([1, 10, 2]);
    expect(models.get('regression')!.labelOf(2.5)).to.equal(2.5);
  });
});

describe('TextCells.recordFromSpans: the record TextCells.record reads from the same CSV row', function () {
  this.timeout(120_000);
  after(cleanupTempDirs);

  it('numbers in every spelling, missing-value tokens, quoted and escaped cells, bad cells (same problems, same unread id)', async () => {
    const dir = await tempDir();
    const artifacts = await buildScoringBundles(dir, { trees: 2, strict: false });
    const model = await loadPredictor('scoring', artifacts);
    const numbers = ['1', '-2.5', '+3', '.5', '5.', '1e3', '1E-2', '1e400', '12345678901234567', '0.1234567890123456789', ' 7 ', '\u00a08', '0x10', 'NaN', 'NA', 'null', '', 'n/a', 'lots', '"4"', '"4,5"', '"say ""9"""', '--1', '1_000', '٣'];
    const rand = mulberry32(4);
    const rows = Array.from({ length: 3000 }, (_, i) => {
      const cell = () => numbers[Math.floor(rand() * numbers.length)] as string;
      return [i % 5 === 0 ? '2024-02-30' : '2024-03-05', cell(), i % 7 === 0 ? '"a ""b"""' : 'red', i % 3 === 0 ? cell() : 'true', cell()].join(',');
    });
    const text = `date,area,color,ok,extra\n${rows.join('\n')}\n`;
    const { streamedRows } = await import('./stream-input.js');
    const { Readable } = await import('node:stream');
    let compared = 0;
    for await (const chunk of streamedRows(Readable.from([text]), 'csv', 'test', 1000).chunks) {
      expect(chunk.spans, 'a CSV chunk keeps its spans').to.not.equal(undefined);
      for (const id of [undefined, 'area']) {
        const cells = new TextCells(model, true, id);
        for (let i = 0; i < chunk.spans!.rowCount; i++) {
          if (chunk.malformed?.some((m) => m.index === i)) continue;
          const fast = cells.recordFromSpans(chunk.columns, chunk.spans!, i);
          const slow = cells.record(chunk.columns, chunk.rows[i]!);
          expect({ ...fast, record: { ...fast.record } }, `row ${i}: ${JSON.stringify(chunk.rows[i])}`).to.deep.equal({ ...slow, record: { ...slow.record } });
          expect(Object.keys(fast.record)).to.deep.equal(Object.keys(slow.record));
          compared++;
        }
      }
    }
    expect(compared).to.equal(6000);
  });
});
