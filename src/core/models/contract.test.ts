/**
 * The model contract, beside the featurizer one (features/contract.test.ts): every engine and task
 * runs through the same checks.
 *
 * - The same seed gives the same bytes: model.json and model.bin, whatever the number of threads;
 *   another seed gives other bytes.
 * - The binary form round-trips: model.bin read back writes the same bytes, and model.json compiled
 *   again predicts what the trained forest predicts.
 * - One row (`predictRow`), a matrix (`predictMatrix`), the worker pool (split over threads, and off
 *   the calling thread) and ml-random-forest's own `load` + `predict` give the same labels or values,
 *   and the same probabilities, exactly.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { CompiledForest } from './compiled-forest.js';
import { synthetic } from './compiled-forest.test.js';
import { ENGINES, type SavedForest, type Task } from './forest-format.js';
import { defaultForestParams } from './params.js';
import { MIN_WORK_PER_THREAD, PredictPool } from './predict-pool.js';
import { type TrainedForest, trainForest } from './random-forest.js';

const TREES = 20;
const TASKS: { task: Task; classes: number }[] = [
  { task: 'classification', classes: 3 },
  { task: 'regression', classes: 0 },
];

/** Rows enough for a 3-thread pool to split a batch over every thread. */
const POOL_ROWS = Math.ceil((3 * MIN_WORK_PER_THREAD) / TREES) + 7;

describe('model contract: every engine and task', function () {
  this.timeout(180_000);
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  for (const engine of ENGINES) {
    for (const { task, classes } of TASKS) {
      describe(`engine ${engine}, ${task}`, () => {
        // Missing values (NaN) for engine hist only: ml-random-forest trains on numbers.
        const d = synthetic(`contract-${engine}-${task}`, task, 300, 5, classes, 3, engine === 'hist' ? 0.05 : 0);
        const data = { matrix: d.matrix, rows: d.rows, featureNames: Array.from({ length: d.width }, (_, j) => `f${j}`), y: d.y, task, ...(d.classes ? { classes: d.classes } : {}) };
        const params = (seed: number) => ({ ...defaultForestParams(task, engine), trees: TREES, seed });
        const train = (seed: number, jobs: number): Promise<TrainedForest> => trainForest(data, params(seed), { engine, jobs });
        let n = 0;
        const modelJson = async (forest: TrainedForest): Promise<Buffer> => {
          const path = join(dir, `model-${engine}-${task}-${n++}.json`);
          await forest.writeModelJson(path);
          return readFile(path);
        };

        it('the same seed gives the same bytes (model.json and model.bin, on 1 or 3 threads); another seed others', async () => {
          const [a, b, other] = await Promise.all([train(7, 1), train(7, 3), train(8, 1)]);
          const [ja, jb, jo] = await Promise.all([modelJson(a), modelJson(b), modelJson(other)]);
          expect(ja.equals(jb), 'model.json').to.equal(true);
          expect(a.compiled.toBinary().equals(b.compiled.toBinary()), 'model.bin').to.equal(true);
          expect(ja.equals(jo), 'model.json of another seed').to.equal(false);
          expect(a.compiled.toBinary().equals(other.compiled.toBinary()), 'model.bin of another seed').to.equal(false);
        });

        it('the binary form round-trips, and model.json compiles to the same predictions', async () => {
          const trained = await train(7, 1);
          const bin = trained.compiled.toBinary();
          const back = CompiledForest.fromBinary(bin);
          expect(back.toBinary().equals(bin)).to.equal(true);
          expect([back.task, back.classes, back.width, back.treeCount]).to.deep.equal([task, d.classes ?? [], d.width, TREES]);
          const fromJson = CompiledForest.fromSaved(JSON.parse((await modelJson(trained)).toString('utf8')) as SavedForest);
          expect(predictAll(fromJson, d.matrix, d.rows)).to.deep.equal(predictAll(trained.compiled, d.matrix, d.rows));
        });

        it('one row, a matrix, the worker pool and ml-random-forest predict the same values and probabilities', async () => {
          const trained = await train(7, 1);
          const saved = JSON.parse((await modelJson(trained)).toString('utf8')) as SavedForest;
          const forests = { trained: trained.compiled, binary: CompiledForest.fromBinary(trained.compiled.toBinary()), json: CompiledForest.fromSaved(saved) };
          const big = repeatRows(d.matrix, d.rows, d.width, POOL_ROWS);
          const k = d.classes?.length ?? 0;
          const matrix = predictAll(trained.compiled, big, POOL_ROWS);
          // Every row's prediction differs from some other's: the comparison is not between constants.
          expect(new Set(matrix.values).size).to.be.greaterThan(1);
          for (const [name, forest] of Object.entries(forests)) {
            const rows = { values: new Float64Array(POOL_ROWS), proba: new Float64Array(POOL_ROWS * k) };
            const p = new Float64Array(k);
            for (let r = 0; r < POOL_ROWS; r++) {
              rows.values[r] = forest.predictRow(big, r * d.width, k > 0 ? p : undefined);
              rows.proba.set(p, r * k);
            }
            expect(rows, `${name}: one row at a time`).to.deep.equal(matrix);
            expect(predictAll(forest, big, POOL_ROWS), `${name}: a matrix`).to.deep.equal(matrix);
          }
          const pool = await PredictPool.start(trained.compiled, 3);
          try {
            for (const offThread of [false, true]) {
              const proba = new Float64Array(POOL_ROWS * k);
              const values = offThread ? await pool.predictMatrixOffThread(big, POOL_ROWS, k > 0 ? proba : undefined) : await pool.predictMatrix(big, POOL_ROWS, k > 0 ? proba : undefined);
              expect({ values, proba }, offThread ? 'the pool, off the calling thread' : 'the pool').to.deep.equal(matrix);
            }
          } finally {
            await pool.close();
          }
          // ml-random-forest's own load + predict (the bundle's promise): labels as class indices, values exactly.
          const sample = Array.from({ length: d.rows }, (_, r) => Array.from(d.matrix.subarray(r * d.width, (r + 1) * d.width)));
          const reference = task === 'classification' ? RandomForestClassifier.load(saved.mljs as never).predict(sample) : RandomForestRegression.load(saved.mljs as never).predict(sample);
          expect(Array.from(reference, Number)).to.deep.equal(Array.from(matrix.values.subarray(0, d.rows)));
        });
      });
    }
  }
});

/** Labels or values and, for a classifier, the probabilities of every row of a matrix. */
function predictAll(forest: CompiledForest, matrix: Float64Array, rows: number): { values: Float64Array; proba: Float64Array } {
  const proba = new Float64Array(rows * forest.classes.length);
  const values = forest.predictMatrix(matrix, rows, forest.classes.length > 0 ? proba : undefined);
  return { values, proba };
}

/** `rows` rows made by repeating a matrix's rows in order. */
function repeatRows(matrix: Float64Array, rows: number, width: number, n: number): Float64Array {
  const out = new Float64Array(n * width);
  for (let i = 0; i < n; i++) out.set(matrix.subarray((i % rows) * width, ((i % rows) + 1) * width), i * width);
  return out;
}
