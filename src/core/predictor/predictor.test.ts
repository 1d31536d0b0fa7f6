import { expect } from 'chai';
import { ValidationError } from '../errors.js';
import { MIN_WORK_PER_THREAD, PredictPool } from '../models/predict-pool.js';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { buildScoringBundles } from '../../test-helpers/scoring.js';
import { type Predictor } from './predictor.js';
import { loadPredictor } from './from-bundle.js';

/**
 * Predictor.featurizeRows: each record validated and featurized on its own, so that `mlpipe
 * predict` keeps the good rows of a file with bad ones; the good rows predict as they do alone, on
 * this thread or on a PredictPool.
 */
describe('Predictor.featurizeRows (bad records kept apart)', function () {
  this.timeout(120_000);
  let model: Predictor;
  let strict: Predictor;

  before(async () => {
    const dir = await tempDir();
    const artifacts = await buildScoringBundles(dir);
    model = await loadPredictor('scoring', artifacts);
    strict = await loadPredictor('scoring-strict', artifacts);
  });
  after(cleanupTempDirs);

  const good = (i: number) => ({ date: `2024-0${1 + (i % 9)}-1${i % 10}`, area: (i % 97) / 10, color: ['red', 'blue', 'green'][i % 3], ok: i % 2 === 0 });
  /** Every 7th record is bad (two ways), every 5th has a gap (fine). */
  const record = (i: number): unknown => {
    if (i % 14 === 0) return { ...good(i), date: '2024-02-30' };
    if (i % 7 === 0) return { ...good(i), area: 'wide' };
    if (i % 5 === 0) return { ...good(i), date: null, color: undefined };
    return good(i);
  };

  it('puts bad records in problems (paths under rowPath) and predicts the others as one by one', () => {
    const records = Array.from({ length: 60 }, (_, i) => record(i));
    const f = model.featurizeRows(records, (i) => `/${i}`);
    expect(f.problems.map((p) => p.index)).to.deep.equal(records.map((_, i) => i).filter((i) => i % 7 === 0));
    expect(f.problems[0]!.details).to.deep.equal([{ path: '/0/date', message: 'expected a date like 2024-03-05, 2024-03-05T14:30:00Z or Mar 5 2024, got "2024-02-30"' }]);
    expect(f.problems[1]!.details[0]!.path).to.equal('/7/area');
    expect(f.rows).to.deep.equal(records.map((_, i) => i).filter((i) => i % 7 !== 0));
    expect(f.matrix.length).to.equal(f.rows.length * model.transformer.width);
    expect(model.predictFeaturized(f)).to.deep.equal(f.rows.map((i) => model.predictOne(records[i])));
    // predictMany still refuses the whole batch, listing every bad record.
    expect(() => model.predictMany(records)).to.throw(ValidationError, '/records/0/date');
  });

  it('a required field (features.required) missing is a problem of that record only', () => {
    const f = strict.featurizeRows([good(1), { ...good(2), area: null }, { ...good(3), area: undefined }, good(4)], () => '');
    expect(f.rows).to.deep.equal([0, 3]);
    expect(f.problems).to.deep.equal([
      { index: 1, details: [{ path: '/area', message: 'must not be null (this model needs a value here)' }] },
      { index: 2, details: [{ path: '/area', message: 'is required (this model needs a value here)' }] },
    ]);
  });

  it('the good rows predict the same on a PredictPool (the batched path of big files)', async () => {
    const n = Math.ceil((3 * MIN_WORK_PER_THREAD) / model.forest.treeCount);
    const records = Array.from({ length: n }, (_, i) => record(i));
    const f = model.featurizeRows(records);
    const pool = await PredictPool.start(model.forest, 2);
    try {
      expect(await model.predictFeaturizedOn(pool, f)).to.deep.equal(model.predictFeaturized(f));
    } finally {
      await pool.close();
    }
  });
});
