import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { ConfigError } from '../errors.js';
import { CompiledForest } from './compiled-forest.js';
import type { Engine, ForestParams, SavedForest, Task } from './forest-format.js';
import { trainForest, trainMljs } from './random-forest.js';
import { Rng } from './rng.js';

export interface DataSet {
  name: string;
  task: Task;
  matrix: Float64Array;
  rows: number;
  width: number;
  y: Float64Array;
  classes?: string[];
}

/**
 * Synthetic data with a known structure, seeded; values rounded so thresholds repeat exactly;
 * `missing` puts that share of NaN into every feature.
 */
export function synthetic(name: string, task: Task, rows: number, width: number, classes: number, seed: number, missing = 0): DataSet {
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
    for (let j = 0; j < width; j++) if (rng.next() < missing) matrix[i * width + j] = Number.NaN;
  }
  return { name, task, matrix, rows, width, y, ...(task === 'classification' ? { classes: Array.from({ length: classes }, (_, c) => `class ${c}`) } : {}) };
}

function rowsOf(matrix: Float64Array, rows: number, width: number): number[][] {
  return Array.from({ length: rows }, (_, i) => Array.from(matrix.subarray(i * width, (i + 1) * width)));
}

const params = (over: Partial<ForestParams> = {}): ForestParams => ({ trees: 15, maxFeatures: 0.7, maxDepth: null, minSamplesSplit: 2, minSamplesLeaf: 1, maxSamples: null, seed: 11, ...over });
const names = (d: DataSet) => Array.from({ length: d.width }, (_, j) => `f${j}`);

describe('compiled forests agree exactly with ml-random-forest', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  const sets: [Engine, DataSet, ForestParams][] = [
    ['hist', synthetic('binary classification', 'classification', 300, 5, 2, 1), params()],
    ['hist', synthetic('3 classes', 'classification', 250, 4, 3, 2), params({ maxFeatures: 'sqrt' })],
    ['hist', synthetic('8 classes, depth-limited, min leaf 3', 'classification', 400, 6, 8, 3), params({ maxDepth: 5, minSamplesLeaf: 3 })],
    ['hist', synthetic('regression', 'regression', 300, 5, 0, 4), params({ maxFeatures: 'all' })],
    ['hist', synthetic('classification with 15% missing values', 'classification', 400, 4, 3, 5, 0.15), params()],
    ['hist', synthetic('regression with 20% missing values', 'regression', 400, 3, 0, 6, 0.2), params({ maxFeatures: 'all', maxSamples: 0.5 })],
    ['mljs', synthetic('mljs: 3 classes', 'classification', 150, 4, 3, 2), params({ maxFeatures: 'all', minSamplesSplit: 4 })],
    ['mljs', synthetic('mljs: regression, 1 feature per tree', 'regression', 120, 3, 0, 5), params({ maxFeatures: 1, minSamplesSplit: 4 })],
  ];
  for (const [engine, d, p] of sets) {
    it(`${engine} engine, ${d.name}: model.json in ml-random-forest = model.bin = our prediction, on training rows and 300 new rows`, async () => {
      const trained = await trainForest({ matrix: d.matrix, rows: d.rows, featureNames: names(d), y: d.y, task: d.task, classes: d.classes }, p, { engine, jobs: 1 });
      const file = join(dir, `${engine}-${d.name}.json`);
      await trained.writeModelJson(file);
      const json = JSON.parse(await readFile(file, 'utf8')) as SavedForest;
      expect(json.engine).to.equal(engine);
      const reference = d.task === 'classification' ? RandomForestClassifier.load(json.mljs as never) : RandomForestRegression.load(json.mljs as never);
      const fromJson = CompiledForest.fromSaved(json);
      const fromBinary = CompiledForest.fromBinary(trained.compiled.toBinary());
      const fresh = synthetic('new rows', d.task, 300, d.width, d.classes?.length ?? 0, 99, d.name.includes('missing') ? 0.2 : 0);
      for (const [matrix, rows] of [[d.matrix, d.rows], [fresh.matrix, fresh.rows]] as const) {
        const expected = reference.predict(rowsOf(matrix, rows, d.width));
        expect(Array.from(trained.compiled.predictMatrix(matrix, rows))).to.deep.equal(expected);
        expect(Array.from(fromJson.predictMatrix(matrix, rows))).to.deep.equal(expected);
        expect(Array.from(fromBinary.predictMatrix(matrix, rows))).to.deep.equal(expected);
      }
      // The same probabilities, however the forest was loaded.
      if (d.task === 'classification') {
        const k = d.classes!.length;
        const a = new Float64Array(fresh.rows * k);
        const b = new Float64Array(fresh.rows * k);
        trained.compiled.predictMatrix(fresh.matrix, fresh.rows, a);
        fromJson.predictMatrix(fresh.matrix, fresh.rows, b);
        expect(Array.from(b)).to.deep.equal(Array.from(a));
      }
    });
  }

  it('treats a value equal to a threshold like ml-cart (goes right), and NaN likewise', () => {
    const d = synthetic('thresholds', 'regression', 100, 2, 0, 6);
    const saved = JSON.parse(JSON.stringify(trainMljs({ matrix: d.matrix, rows: d.rows, featureNames: names(d), y: d.y, task: 'regression' }, params({ maxFeatures: 'all', trees: 5, minSamplesSplit: 4 })))) as SavedForest;
    const reference = RandomForestRegression.load(saved.mljs as never);
    const compiled = CompiledForest.fromSaved(saved);
    const root = saved.mljs.baseModel.estimators[0]!.root;
    const col = saved.mljs.baseModel.indexes[0]![root.splitColumn!]!;
    const row = [5, 5];
    row[col] = root.splitValue!;
    for (const r of [row, [Number.NaN, Number.NaN]]) expect(compiled.predictRow(Float64Array.from(r))).to.equal(reference.predict([r])[0]);
  });

  it('gives probabilities that average the trees\' leaf distributions and sum to 1', async () => {
    const d = synthetic('proba', 'classification', 200, 4, 3, 7);
    const trained = await trainForest({ matrix: d.matrix, rows: d.rows, featureNames: names(d), y: d.y, task: 'classification', classes: d.classes }, params({ trees: 9, maxDepth: 3 }), { jobs: 1 });
    const proba = new Float64Array(3);
    let agree = 0;
    for (let i = 0; i < d.rows; i++) {
      const c = trained.compiled.predictRow(d.matrix, i * d.width, proba);
      expect(proba.reduce((s, v) => s + v, 0)).to.be.closeTo(1, 1e-12);
      if (proba[c] === Math.max(...proba)) agree++;
    }
    // The vote and the mean distribution name the same class for nearly every row.
    expect(agree / d.rows).to.be.greaterThan(0.9);
  });

  it('refuses malformed models', async () => {
    const d = synthetic('bad', 'regression', 40, 2, 0, 8);
    const saved = trainMljs({ matrix: d.matrix, rows: d.rows, featureNames: names(d), y: d.y, task: 'regression' }, params({ trees: 2, minSamplesSplit: 4 }));
    expect(() => CompiledForest.fromSaved({ ...saved, format: 'x' } as never)).to.throw(ConfigError, 'not an mlpipe random forest');
    const broken = JSON.parse(JSON.stringify(saved)) as SavedForest;
    broken.mljs.baseModel.indexes = [];
    expect(() => CompiledForest.fromSaved(broken)).to.throw(ConfigError, 'tree 0 has no feature indexes');
    const bin = CompiledForest.fromSaved(saved).toBinary();
    expect(() => CompiledForest.fromBinary(bin.subarray(0, bin.length - 8))).to.throw(ConfigError, 'model.bin');
    expect(() => CompiledForest.fromBinary(Buffer.from('not a model'))).to.throw(ConfigError, 'not an mlpipe compiled forest');
  });
});
