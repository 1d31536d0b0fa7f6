import { expect } from 'chai';
import { ConfigError } from '../errors.js';
import { Rng } from '../models/rng.js';
import type { Cell } from '../values.js';
import { column, fitStep, rounded, run, tableOf } from '../../test-helpers/features.js';
import { fitTransform } from './fit-pipeline.js';
import type { FitContext, FitTarget } from './types.js';

const regression = (values: number[]): FitContext => ({ target: { task: 'regression', values: Float64Array.from(values) } });
const classification = (values: number[], classes: string[]): FitContext => ({ target: { task: 'classification', values: Float64Array.from(values), classes } });

/** The training matrix of one target-encoding step (out of fold). */
function trainingMatrix(cells: Cell[], context: FitContext, params: Record<string, unknown> = {}, type: 'category' | 'integer' | 'boolean' = 'category') {
  return fitTransform(tableOf(column('c', type, cells)), { steps: [{ column: 'c', kind: 'target', params }], dropped: [] }, context);
}

describe('target', () => {
  it('regression: the mean target per value, smoothed toward the global mean; unknown and unseen-missing → the global mean', () => {
    // a: 1, 3; b: 10 → prior 14/3; m = 1: a (4 + 14/3) / 3 = 2.8889, b (10 + 14/3) / 2 = 7.3333
    const t = fitStep('target', 'category', ['a', 'a', 'b'], { smoothing: 1 }, regression([1, 3, 10]));
    expect(t.pipeline.featureNames).to.deep.equal(['c.target']);
    expect(rounded(['a', 'b', 'zzz', null].flatMap((v) => run(t, v)))).to.deep.equal([2.8889, 7.3333, 4.6667, 4.6667]);
    // smoothing 0: plain means
    const plain = fitStep('target', 'category', ['a', 'a', 'b'], { smoothing: 0 }, regression([1, 3, 10]));
    expect(['a', 'b'].flatMap((v) => run(plain, v))).to.deep.equal([2, 10]);
  });

  it('binary classification: one feature, the smoothed share of the second class', () => {
    // classes no/yes; a: yes, no → 1/2; b: yes, yes, no → 2/3; prior 3/5
    const t = fitStep('target', 'category', ['a', 'a', 'b', 'b', 'b'], { smoothing: 0 }, classification([1, 0, 1, 1, 0], ['no', 'yes']));
    expect(t.pipeline.featureNames).to.deep.equal(['c.target=yes']);
    expect(rounded(['a', 'b', 'new'].flatMap((v) => run(t, v)))).to.deep.equal([0.5, 0.6667, 0.6]);
    // m = 2: a (1 + 2 · 0.6) / (2 + 2) = 0.55
    expect(run(fitStep('target', 'category', ['a', 'a', 'b', 'b', 'b'], { smoothing: 2 }, classification([1, 0, 1, 1, 0], ['no', 'yes'])), 'a')[0]).to.be.closeTo(0.55, 1e-12);
  });

  it('multi-class: one feature per class', () => {
    const t = fitStep('target', 'integer', [7, 7, 8], { smoothing: 0 }, classification([0, 1, 2], ['r', 'g', 'b']));
    expect(t.pipeline.featureNames).to.deep.equal(['c.target=r', 'c.target=g', 'c.target=b']);
    expect(run(t, 7)).to.deep.equal([0.5, 0.5, 0]);
    expect(run(t, 8)).to.deep.equal([0, 0, 1]);
    expect(rounded(run(t, 9))).to.deep.equal([0.3333, 0.3333, 0.3333]);
  });

  it('missing values: their own slot by default, or read as the most frequent value', () => {
    const context = regression([1, 5, 7, 3]);
    const slot = fitStep('target', 'category', ['a', null, null, 'a'], { smoothing: 0 }, context);
    expect([run(slot, null)[0], run(slot, 'a')[0]]).to.deep.equal([6, 2]);
    const imputed = fitStep('target', 'category', ['a', null, null, 'a'], { smoothing: 0, impute: 'most_frequent' }, context);
    expect([run(imputed, null)[0], run(imputed, 'a')[0]]).to.deep.equal([4, 4]);
  });

  it('is out of fold for the training rows: a value seen once gets the prior of the other folds, not its own target', () => {
    // "solo" is the only row with target 1: every fit without it sees only 0s → prior 0, and "solo" is unknown to it.
    const cells: Cell[] = ['solo', ...Array.from({ length: 9 }, () => 'x')];
    const context = { ...regression([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), seed: 1 };
    const { matrix, transformer } = trainingMatrix(cells, context);
    expect(matrix[0]).to.equal(0);
    // The state saved for serving is fitted on every row: (1 + 10 · 0.1) / (1 + 10) = 2/11
    expect(run(transformer, 'solo')[0]).to.be.closeTo(2 / 11, 1e-15);
    expect(transformer.transformTable(tableOf(column('c', 'category', cells)))[0]).to.be.closeTo(2 / 11, 1e-15);
  });

  it('never lets a training row see its own target: changing it leaves the row\'s own encoding unchanged', () => {
    const rng = new Rng(42);
    const n = 60;
    const cells: Cell[] = Array.from({ length: n }, () => ['a', 'b', 'c', 'd', null][rng.int(5)] ?? null);
    for (const make of [
      (): FitTarget => ({ task: 'regression', values: Float64Array.from({ length: n }, () => rng.next() * 100) }),
      (): FitTarget => ({ task: 'classification', values: Float64Array.from({ length: n }, () => rng.int(3)), classes: ['p', 'q', 'r'] }),
      (): FitTarget => ({ task: 'classification', values: Float64Array.from({ length: n }, () => rng.int(2)), classes: ['n', 'y'] }),
    ]) {
      const target = make();
      const base = trainingMatrix(cells, { target, seed: 3 }, { smoothing: 2, folds: 4 });
      const w = base.transformer.width;
      for (let i = 0; i < n; i += 7) {
        const values = Float64Array.from(target.values);
        values[i] = target.task === 'regression' ? -1e6 : ((values[i] as number) + 1) % (target.classes?.length ?? 1);
        const changed = trainingMatrix(cells, { target: { ...target, values }, seed: 3 }, { smoothing: 2, folds: 4 });
        expect(Array.from(changed.matrix.subarray(i * w, (i + 1) * w)), `row ${i}`).to.deep.equal(Array.from(base.matrix.subarray(i * w, (i + 1) * w)));
        // ...while the state kept for serving, fitted on every row, does see it.
        expect(changed.pipeline.steps[0]!.state).not.to.deep.equal(base.pipeline.steps[0]!.state);
      }
    }
  });

  it('splits the folds by the seed: the same seed, the same training matrix', () => {
    const cells: Cell[] = Array.from({ length: 40 }, (_, i) => `v${i % 6}`);
    const values = Array.from({ length: 40 }, (_, i) => (i * 37) % 11);
    const a = trainingMatrix(cells, { ...regression(values), seed: 5 });
    const b = trainingMatrix(cells, { ...regression(values), seed: 5 });
    const c = trainingMatrix(cells, { ...regression(values), seed: 6 });
    expect(Array.from(a.matrix)).to.deep.equal(Array.from(b.matrix));
    expect(Array.from(a.matrix)).not.to.deep.equal(Array.from(c.matrix));
    // the serving state does not depend on the seed
    expect(a.pipeline).to.deep.equal(c.pipeline);
  });

  it('checks its parameters by name', () => {
    expect(() => fitStep('target', 'category', ['a'], { folds: 1 }, regression([1]))).to.throw(ConfigError, 'features.columns.c.folds: must be at least 2, got 1');
    expect(() => fitStep('target', 'category', ['a'], { smoothing: -1 }, regression([1]))).to.throw(ConfigError, 'features.columns.c.smoothing: must be at least 0, got -1');
  });
});
