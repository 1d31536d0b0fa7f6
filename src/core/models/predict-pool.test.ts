import { expect } from 'chai';
import { CompiledForest } from './compiled-forest.js';
import { synthetic } from './compiled-forest.test.js';
import { MIN_WORK_PER_THREAD, PredictPool } from './predict-pool.js';
import { trainForest } from './random-forest.js';

const params = { maxFeatures: 'sqrt' as const, maxDepth: null, minSamplesSplit: 2, minSamplesLeaf: 1, maxSamples: null, seed: 5 };

async function forestFor(task: 'classification' | 'regression', classes: number, missing: number) {
  const d = synthetic(`pool-${task}`, task, 800, 6, classes, 11, missing);
  const trained = await trainForest(
    { matrix: d.matrix, rows: d.rows, featureNames: Array.from({ length: d.width }, (_, j) => `f${j}`), y: d.y, task, classes: d.classes },
    { ...params, trees: 40 },
    { jobs: 1 },
  );
  return { forest: trained.compiled, d };
}

/** A batch large enough to be split over every thread of a 3-thread pool. */
function bigBatch(width: number, trees: number, rows: number, source: Float64Array): { matrix: Float64Array; rows: number } {
  const n = Math.max(rows, Math.ceil((3 * MIN_WORK_PER_THREAD) / trees) + 7);
  const matrix = new Float64Array(n * width);
  for (let i = 0; i < n; i++) matrix.set(source.subarray((i % rows) * width, ((i % rows) + 1) * width), i * width);
  return { matrix, rows: n };
}

describe('PredictPool (batch prediction on worker threads)', function () {
  this.timeout(120_000);

  for (const [task, classes, missing] of [
    ['classification', 3, 0],
    ['classification', 2, 0.1],
    ['regression', 0, 0.05],
  ] as const) {
    it(`gives exactly the single-thread labels and probabilities (${task}, ${classes || 'values'}, ${missing * 100}% missing)`, async () => {
      const { forest, d } = await forestFor(task, classes, missing);
      const { matrix, rows } = bigBatch(d.width, forest.treeCount, d.rows, d.matrix);
      const k = forest.classes.length;
      const p1 = new Float64Array(rows * k);
      const expected = forest.predictMatrix(matrix, rows, p1);
      const pool = await PredictPool.start(forest, 3);
      try {
        expect(pool.threads).to.equal(3);
        const p3 = new Float64Array(rows * k).fill(-1);
        const got = await pool.predictMatrix(matrix, rows, p3);
        expect(Array.from(got)).to.deep.equal(Array.from(expected));
        expect(Array.from(p3)).to.deep.equal(Array.from(p1));
        // Twice on the same pool, and from a matrix already in shared memory.
        const sharedMatrix = new Float64Array(new SharedArrayBuffer(matrix.byteLength));
        sharedMatrix.set(matrix);
        expect(Array.from(await pool.predictMatrix(sharedMatrix, rows))).to.deep.equal(Array.from(expected));
        // A small batch stays in this thread and agrees too.
        expect(Array.from(await pool.predictMatrix(matrix, 5))).to.deep.equal(Array.from(expected.subarray(0, 5)));
      } finally {
        await pool.close();
      }
    });
  }

  it('predictMatrix over a row range writes only that range, at the same positions', async () => {
    const { forest, d } = await forestFor('classification', 3, 0);
    const k = forest.classes.length;
    const pAll = new Float64Array(d.rows * k);
    const all = forest.predictMatrix(d.matrix, d.rows, pAll);
    const out = new Float64Array(d.rows).fill(-7);
    const proba = new Float64Array(d.rows * k).fill(-7);
    forest.predictMatrix(d.matrix, 100, proba, { offset: 300, out });
    expect(Array.from(out.subarray(300, 400))).to.deep.equal(Array.from(all.subarray(300, 400)));
    expect(Array.from(proba.subarray(300 * k, 400 * k))).to.deep.equal(Array.from(pAll.subarray(300 * k, 400 * k)));
    expect(out[299]).to.equal(-7);
    expect(out[400]).to.equal(-7);
    expect(proba[300 * k - 1]).to.equal(-7);
    expect(proba[400 * k]).to.equal(-7);
  });

  it('a pool of one thread is the calling thread alone', async () => {
    const { forest, d } = await forestFor('regression', 0, 0);
    const pool = await PredictPool.start(forest, 1);
    expect(pool.threads).to.equal(1);
    const { matrix, rows } = bigBatch(d.width, forest.treeCount, d.rows, d.matrix);
    expect(Array.from(await pool.predictMatrix(matrix, rows))).to.deep.equal(Array.from(forest.predictMatrix(matrix, rows)));
    await pool.close();
    expect(forest).to.be.instanceOf(CompiledForest);
  });
});
