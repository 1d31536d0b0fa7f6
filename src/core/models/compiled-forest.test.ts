import { expect } from 'chai';
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import { ConfigError } from '../errors.js';
import { CompiledForest } from './compiled-forest.js';
import type { ForestParams, SavedForest, Task } from './forest-format.js';
import { trainForest } from './random-forest.js';
import { Rng } from './rng.js';

interface DataSet {
  name: string;
  task: Task;
  matrix: Float64Array;
  rows: number;
  width: number;
  y: Float64Array;
  classes?: string[];
}

/** Synthetic data with a known structure, seeded; values are rounded so thresholds repeat exactly. */
function synthetic(name: string, task: Task, rows: number, width: number, classes: number, seed: number): DataSet {
  const rng = new Rng(seed);
  const matrix = new Float64Array(rows * width);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < width; j++) matrix[i * width + j] = Math.round(rng.next() * 100) / 10;
    const a = matrix[i * width] as number;
    const b = matrix[i * width + 1] as number;
    const noise = rng.next();
    if (task === 'regression') y[i] = 3 * a - 2 * b + a * b * 0.1 + noise;
    else y[i] = Math.min(classes - 1, Math.floor(((a + b + noise * 2) / 22) * classes));
  }
  return { name, task, matrix, rows, width, y, ...(task === 'classification' ? { classes: Array.from({ length: classes }, (_, c) => `class ${c}`) } : {}) };
}

function rowsOf(matrix: Float64Array, rows: number, width: number): number[][] {
  return Array.from({ length: rows }, (_, i) => Array.from(matrix.subarray(i * width, (i + 1) * width)));
}

const params = (over: Partial<ForestParams> = {}): ForestParams => ({ trees: 15, maxFeatures: 0.7, maxDepth: null, minSamplesSplit: 4, seed: 11, ...over });

function train(d: DataSet, p: ForestParams): SavedForest {
  return trainForest({ matrix: d.matrix, rows: d.rows, featureNames: Array.from({ length: d.width }, (_, j) => `f${j}`), y: d.y, task: d.task, classes: d.classes }, p);
}

describe('CompiledForest agrees exactly with ml-random-forest', () => {
  const sets: [DataSet, ForestParams][] = [
    [synthetic('binary classification', 'classification', 160, 5, 2, 1), params()],
    [synthetic('3 classes', 'classification', 150, 4, 3, 2), params({ maxFeatures: 'all' })],
    [synthetic('8 classes, depth-limited', 'classification', 200, 6, 8, 3), params({ maxDepth: 4, trees: 12 })],
    [synthetic('regression', 'regression', 150, 5, 0, 4), params({ maxFeatures: 'all' })],
    [synthetic('regression, 1 feature per tree', 'regression', 120, 3, 0, 5), params({ maxFeatures: 1 })],
  ];
  for (const [d, p] of sets) {
    it(`${d.name}: every training row and 300 new rows`, () => {
      const saved = train(d, p);
      // The saved form goes through JSON, as it does in a bundle.
      const json = JSON.parse(JSON.stringify(saved)) as SavedForest;
      const reference = d.task === 'classification' ? RandomForestClassifier.load(json.mljs as never) : RandomForestRegression.load(json.mljs as never);
      const compiled = new CompiledForest(json);
      const fresh = synthetic('new rows', d.task, 300, d.width, d.classes?.length ?? 0, 99);
      for (const [matrix, rows] of [[d.matrix, d.rows], [fresh.matrix, fresh.rows]] as const) {
        const expected = reference.predict(rowsOf(matrix, rows, d.width));
        const got = Array.from(compiled.predictMatrix(matrix, rows));
        expect(got).to.deep.equal(expected);
      }
    });
  }

  it('treats a value equal to a threshold like ml-cart (goes right) and NaN likewise', () => {
    const d = synthetic('thresholds', 'regression', 100, 2, 0, 6);
    const saved = JSON.parse(JSON.stringify(train(d, params({ maxFeatures: 'all', trees: 5 })))) as SavedForest;
    const reference = RandomForestRegression.load(saved.mljs as never);
    const compiled = new CompiledForest(saved);
    const root = saved.mljs.baseModel.estimators[0]!.root;
    const col = saved.mljs.baseModel.indexes[0]![root.splitColumn!]!;
    const row = [5, 5];
    row[col] = root.splitValue!;
    const nan = [Number.NaN, Number.NaN];
    for (const r of [row, nan]) expect(compiled.predictRow(Float64Array.from(r))).to.equal(reference.predict([r])[0]);
  });

  it('gives vote fractions as probabilities, consistent with the predicted class', () => {
    const d = synthetic('proba', 'classification', 120, 4, 3, 7);
    const compiled = new CompiledForest(train(d, params({ trees: 9 })));
    const proba = new Float64Array(3);
    for (let i = 0; i < d.rows; i++) {
      const c = compiled.predictRow(d.matrix, i * d.width, proba);
      const sum = proba.reduce((s, v) => s + v, 0);
      expect(sum).to.be.closeTo(1, 1e-12);
      for (const v of proba) expect(Math.round(v * 9)).to.be.closeTo(v * 9, 1e-9);
      expect(proba[c]).to.equal(Math.max(...proba));
    }
  });

  it('refuses malformed model JSON', () => {
    const d = synthetic('bad', 'regression', 40, 2, 0, 8);
    const saved = train(d, params({ trees: 2 }));
    expect(() => new CompiledForest({ ...saved, format: 'x' } as never)).to.throw(ConfigError, 'not an mlpipe random forest');
    const broken = JSON.parse(JSON.stringify(saved)) as SavedForest;
    broken.mljs.baseModel.indexes = [];
    expect(() => new CompiledForest(broken)).to.throw(ConfigError, 'tree 0 has no feature indexes');
  });
});
