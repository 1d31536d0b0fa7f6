/**
 * The parity rule of issue 6 for every featurizer kind, through the real server: "batch transform
 * equals record-by-record transform through the HTTP server for the same rows".
 *
 * One dataset with a column per registered kind and column type it accepts (FEATURIZER_KINDS: a new
 * kind is covered without changes here), featurized, trained and packaged by the core functions into
 * a temporary store, then served by `startServer` (what `mlpipe serve` runs) on port 0. For the same
 * rows — training rows, unseen categories and words, missing values (null and absent), other date
 * formats — the test compares:
 *
 * - feature vectors: the ones the server computes while answering single-record requests and a bulk
 *   request (read by wrapping the served model's `transformRecord`: the server exposes predictions
 *   only) against the batch transform (`transformTable`) of the same rows loaded as a dataset, kind
 *   by kind: a failure names the kind, column, row and feature;
 * - predictions and probabilities, exactly: single requests, the bulk request, `mlpipe predict`'s path
 *   (`predictFile`) and the batch matrix through the forest.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Predictor, Prediction } from '../core/predictor/predictor.js';
import { loadSource } from '../core/data/load.js';
import { FEATURIZER_KINDS } from '../core/features/registry.js';
import { readPipelineConfig } from '../core/pipeline/config.js';
import { predictFile } from '../core/pipeline/predict.js';
import { runPipeline } from '../core/pipeline/run.js';
import type { ColumnType } from '../core/values.js';
import { cleanupTempDirs, tempDir } from '../test-helpers/fixtures.js';
import { mulberry32, pick } from '../test-helpers/random.js';
import { type RunningServer, startServer } from './start.js';

/** Parameters a kind runs with here: smaller outputs, or data its defaults refuse (negative numbers for log1p). */
const KIND_PARAMS: Record<string, Record<string, unknown>> = {
  log1p: { negative: 'clip' },
  hashing: { width: 16 },
  tfidf: { maxFeatures: 16 },
};

const TRAINING_ROWS = 240;
const CLASSES = ['lo', 'mid', 'hi'] as const;
const COLORS = ['red', 'green', 'blue', 'mauve', 'teal'];
const WORDS = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'dog', 'ran', 'Über', 'café', 'naïve', 'fast', 'slow', 'big', 'small', 'red', 'fox'];

/** A training value of a type (never missing: the caller decides that). */
function trainingValue(type: ColumnType, rnd: () => number): unknown {
  switch (type) {
    case 'number':
      return Math.round((rnd() * 20 - 4) * 1000) / 1000;
    case 'integer':
      return Math.floor(rnd() * 13);
    case 'boolean':
      return rnd() < 0.6;
    case 'category':
      // skewed, so that one-hot keeps some values and sends the rarest to <other>
      return COLORS[Math.min(COLORS.length - 1, Math.floor(rnd() ** 2 * COLORS.length))];
    case 'datetime':
      return new Date(Date.UTC(1995, 0, 1) + Math.floor(rnd() * 30 * 365.25 * 86_400_000)).toISOString();
    case 'text':
      return Array.from({ length: 2 + Math.floor(rnd() * 5) }, () => pick(rnd, WORDS)).join(' ');
  }
}

/** Values clients send that training never saw, in every form the input schema lets through (undefined: the field is absent). */
const SERVE_VALUES: Record<ColumnType, unknown[]> = {
  number: [3.25, null, undefined, 0, 1e6, -0.5, -1e-9, 17],
  integer: [5, null, undefined, 1000, 0, -3, 12],
  boolean: [true, false, null, undefined],
  category: ['red', 'turquoise', null, undefined, 'mauve', '', 'RED', 'teal'],
  datetime: ['2024-02-29', '2024-03-10 14:30:00+02:00', null, undefined, 'Mar 5 2024', '1900-01-01T00:00:00Z', Date.UTC(2020, 4, 5, 5, 5, 5), '2010-06-15T12:30:00-07:00'],
  text: ['a cat and a DOG', null, undefined, 'never seen words here', 'ÜBER Café naïve', '🙂 emoji 𝐀𝐁 tokens', '', 'the THE the'],
};

/** How much a value pushes the hidden score the target is made from (so the trees use every column). */
function score(type: ColumnType, value: unknown): number {
  if (value === null || value === undefined) return 0;
  switch (type) {
    case 'number':
      return (value as number) / 6;
    case 'integer':
      return ((value as number) - 6) / 4;
    case 'boolean':
      return value ? 0.8 : -0.8;
    case 'category':
      return COLORS.indexOf(value as string) - 1.5;
    case 'datetime':
      return (Date.parse(value as string) - Date.UTC(2010, 0, 1)) / (10 * 365.25 * 86_400_000);
    case 'text':
      return (value as string).split(' ').filter((w) => w === 'cat' || w === 'dog').length - 0.5;
  }
}

interface Column {
  name: string;
  kind: string;
  type: ColumnType;
}

/** One column per registered kind and accepted type: `one-hot category`, `one-hot integer`, … */
function parityColumns(): Column[] {
  return [...FEATURIZER_KINDS].flatMap(([kind, k]) => k.accepts.map((type) => ({ name: `${kind} ${type}`, kind, type })));
}

/** Training records: every column has missing values (as null and as an absent field), so serving may send them. */
function trainingRecords(columns: Column[]): Record<string, unknown>[] {
  const rnd = mulberry32(20240601);
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < TRAINING_ROWS; i++) {
    const rec: Record<string, unknown> = {};
    let s = 0;
    columns.forEach((c, j) => {
      const missing = (i + 3 * j) % 17 === 0;
      const value = missing ? null : trainingValue(c.type, rnd);
      s += score(c.type, value);
      if (!(missing && i % 2 === 0)) rec[c.name] = value;
    });
    s += (rnd() - 0.5) * 2;
    records.push({ ...rec, label: s });
  }
  // Three classes by the score's tertiles.
  const sorted = records.map((r) => r.label as number).sort((a, b) => a - b);
  const cut1 = sorted[Math.floor(sorted.length / 3)]!;
  const cut2 = sorted[Math.floor((2 * sorted.length) / 3)]!;
  for (const r of records) r.label = CLASSES[(r.label as number) < cut1 ? 0 : (r.label as number) < cut2 ? 1 : 2];
  return records;
}

/** The rows sent to the server: training rows, then rows mixing every unseen, missing and odd value. */
function servingRecords(columns: Column[], training: Record<string, unknown>[]): Record<string, unknown>[] {
  const seen = training.slice(0, 16).map(({ label: _label, ...rec }) => rec);
  const odd = Array.from({ length: 24 }, (_, i) => {
    const rec: Record<string, unknown> = {};
    columns.forEach((c, j) => {
      const values = SERVE_VALUES[c.type];
      const value = values[(i + j) % values.length];
      if (value !== undefined) rec[c.name] = value;
    });
    return rec;
  });
  return [...seen, ...odd];
}

const ndjson = (records: readonly unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as unknown };
}

describe('featurizer parity through the HTTP server (every registered kind)', function () {
  this.timeout(180_000);

  const columns = parityColumns();
  let dir: string;
  let running: RunningServer;
  let model: Predictor;
  let records: Record<string, unknown>[];
  /** Feature vectors the served model computed, in call order. */
  let captured: number[][] = [];
  /** The batch transform of the same rows, loaded as a dataset, and its predictions. */
  let batch: Float64Array;
  let batchPredictions: Prediction[];

  before(async () => {
    dir = await tempDir('mlpipe-parity-');
    const training = trainingRecords(columns);
    records = servingRecords(columns, training);
    const types = Object.fromEntries(columns.map((c) => [c.name, c.type]));
    await writeFile(join(dir, 'train.ndjson'), ndjson(training));
    await writeFile(join(dir, 'rows.ndjson'), ndjson(records));
    const config = {
      name: 'parity',
      source: { path: 'train.ndjson', types: { ...types, label: 'category' } },
      target: 'label',
      seed: 11,
      features: { columns: Object.fromEntries(columns.map((c) => [c.name, { kind: c.kind, ...KIND_PARAMS[c.kind] }])) },
      model: { trees: 30, maxFeatures: 0.5 },
      evaluation: { holdout: 0.2, permutationRepeats: 0 },
    };
    // JSON is YAML.
    await writeFile(join(dir, 'pipeline.yaml'), JSON.stringify(config, null, 2));
    const artifacts = join(dir, 'artifacts');
    const run = await runPipeline({ config: await readPipelineConfig(join(dir, 'pipeline.yaml')), artifacts, defaultArtifacts: artifacts });

    running = await startServer({ refs: [run.package.ref], artifacts, port: 0, host: '127.0.0.1', rateLimit: 0, batchRateLimit: 0 });
    model = running.registry.get('parity')!;
    // The server exposes predictions, not features: read the vectors its featurizer makes.
    const transformer = model.transformer;
    const record = transformer.transformRecord.bind(transformer);
    transformer.transformRecord = (rec, out, pathPrefix, at = 0) => {
      const result = record(rec, out, pathPrefix, at);
      // A batch writes each record's features into one matrix, at `at`.
      captured.push(Array.from(result.subarray(at, at + transformer.width)));
      return result;
    };

    // The batch path: the rows loaded as a dataset (typed as in training), transformed as a table.
    const rows = await loadSource({ source: join(dir, 'rows.ndjson'), types });
    expect(rows.table.rowCount).to.equal(records.length);
    batch = transformer.transformTable(rows.table);
    const k = model.forest.classes.length;
    const proba = new Float64Array(records.length * k);
    const values = model.forest.predictMatrix(batch, records.length, proba);
    batchPredictions = Array.from(values, (v, i) => ({
      prediction: model.forest.classes[v]!,
      probabilities: Object.fromEntries(model.forest.classes.map((c, j) => [c, proba[i * k + j]!])),
    }));
  });

  after(async () => {
    await running?.close();
    await cleanupTempDirs();
  });

  /** Compares feature vectors with the batch matrix row by row, kind by kind: the message names the kind. */
  function expectSameFeatures(vectors: number[][], how: string): void {
    expect(vectors).to.have.length(records.length);
    const width = model.transformer.width;
    let offset = 0;
    for (const step of model.transformer.pipeline.steps) {
      for (let i = 0; i < records.length; i++) {
        const mine = vectors[i]!.slice(offset, offset + step.outputs.length);
        const theirs = Array.from(batch.subarray(i * width + offset, i * width + offset + step.outputs.length));
        expect(mine, `${step.kind} (column "${step.column}", features ${step.outputs.join(', ')}), row ${i} ${JSON.stringify(records[i]![step.column])}: ${how} vs batch transform`).to.deep.equal(theirs);
      }
      offset += step.outputs.length;
    }
    expect(offset).to.equal(width);
  }

  it('the bundle has a step for every registered kind on every column type it accepts', () => {
    const steps = model.transformer.pipeline.steps.map((s) => `${s.kind} ${s.type}`);
    for (const c of columns) expect(steps, c.name).to.include(`${c.kind} ${c.type}`);
    expect(new Set(model.transformer.pipeline.steps.map((s) => s.kind))).to.deep.equal(new Set(FEATURIZER_KINDS.keys()));
    // The rows to compare hold what the kinds must handle: unseen values and both forms of missing.
    const values = records.flatMap((r) => columns.map((c) => r[c.name]));
    expect(values).to.include.members(['turquoise', null, 'never seen words here', '2024-03-10 14:30:00+02:00']);
    expect(records.some((r) => columns.some((c) => !(c.name in r)))).to.equal(true);
  });

  let single: Prediction[];
  let bulk: Prediction[];

  it('single-record requests: the server\'s feature vectors equal the batch transform, kind by kind', async () => {
    captured = [];
    single = [];
    for (const rec of records) {
      const r = await post(`${running.url}/v1/models/parity/predict`, rec);
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      const { model: _model, ...prediction } = r.body as Prediction & { model: unknown };
      single.push(prediction);
    }
    expectSameFeatures(captured, 'POST /v1/models/parity/predict');
  });

  it('one bulk request: the same feature vectors, in order', async () => {
    captured = [];
    const r = await post(`${running.url}/predict/batch`, { records });
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    bulk = (r.body as { predictions: Prediction[] }).predictions;
    expectSameFeatures(captured, 'POST /predict/batch');
  });

  it('predictions and probabilities, exactly: single requests = the bulk request = mlpipe predict = the batch matrix through the forest', async () => {
    expect(single).to.have.length(records.length);
    expect(bulk).to.deep.equal(single);
    const out = join(dir, 'predictions.ndjson');
    await predictFile({ ref: model.dir, artifacts: join(dir, 'artifacts'), model, input: join(dir, 'rows.ndjson'), out, jobs: 1 });
    const predicted = (await readFile(out, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Prediction);
    expect(predicted).to.deep.equal(single);
    expect(batchPredictions).to.deep.equal(single);
    // The model is not constant: the comparison says something.
    expect(new Set(single.map((p) => p.prediction)).size).to.be.greaterThan(1);
  });
});
