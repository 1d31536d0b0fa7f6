import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXAMPLES, cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { ConfigError } from '../errors.js';
import type { ClassificationMetrics } from '../models/metrics.js';
import { compareBundles, metricName } from './compare.js';
import { predictFile } from './predict.js';
import { runPipeline } from './run.js';

const PENGUINS = join(EXAMPLES, 'penguins', 'penguins.csv');

/** Accuracy of `mlpipe predict`'s output for the penguins file (rows with a species). */
async function predictAccuracy(ref: string, artifacts: string, out: string): Promise<number> {
  await predictFile({ ref, artifacts, input: PENGUINS, out });
  const predictions = (JSON.parse(await readFile(out, 'utf8')) as { prediction: string }[]).map((p) => p.prediction);
  const species = (await readFile(PENGUINS, 'utf8')).trimEnd().split('\n').slice(1).map((l) => l.split(',')[0]);
  let right = 0;
  species.forEach((s, i) => {
    if (s === predictions[i]) right++;
  });
  return right / species.length;
}

describe('compareBundles', function () {
  this.timeout(120_000);
  let artifacts: string;
  let work: string;

  before(async () => {
    artifacts = await tempDir();
    work = await tempDir();
    await runPipeline({ source: PENGUINS, target: 'Species', name: 'plain', seed: 1, model: { trees: 5 }, artifacts, defaultArtifacts: artifacts });
    // The same data with a numeric column trained as a category: the evaluation rows are read with the
    // candidate's types, and this bundle reads that column through its text, as predict reads a CSV.
    await runPipeline({ source: PENGUINS, target: 'Species', name: 'typed', seed: 2, model: { trees: 5 }, types: { 'Flipper Length (mm)': 'category' }, artifacts, defaultArtifacts: artifacts });
  });
  after(cleanupTempDirs);

  it('scores each bundle as mlpipe predict does, on the same rows, even when their input types differ', async () => {
    const r = await compareBundles({ candidate: 'plain', baseline: 'typed', artifacts, load: { source: PENGUINS }, sourceLabel: 'penguins.csv' });
    expect(r.rows).to.equal(344);
    expect(r.unreadable).to.equal(0);
    expect((r.candidate.metrics as ClassificationMetrics).accuracy).to.equal(await predictAccuracy('plain', artifacts, join(work, 'plain.json')));
    expect((r.baseline.metrics as ClassificationMetrics).accuracy).to.equal(await predictAccuracy('typed', artifacts, join(work, 'typed.json')));
    expect(r.gate.metric).to.equal('accuracy');
    expect(r.gate.difference).to.equal(r.gate.candidate - r.gate.baseline);
    // the other way round: the typed bundle's types read the rows, the plain one reads its column back as numbers
    const back = await compareBundles({ candidate: 'typed', baseline: 'plain', artifacts, load: { source: PENGUINS }, sourceLabel: 'penguins.csv' });
    expect(back.candidate.metrics).to.deep.equal(r.baseline.metrics);
    expect(back.baseline.metrics).to.deep.equal(r.candidate.metrics);
  });

  it('reads metric names as people write them', () => {
    expect(metricName('log-loss')).to.equal('logLoss');
    expect(metricName('Balanced_Accuracy')).to.equal('balancedAccuracy');
    expect(metricName('R2')).to.equal('r2');
    expect(() => metricName('f2')).to.throw(ConfigError, 'unknown metric "f2"');
  });

  it('refuses a negative --max-drop and a declared type for a column the source lacks', async () => {
    let err: unknown;
    try {
      await compareBundles({ candidate: 'plain', baseline: 'typed', artifacts, load: { source: PENGUINS }, sourceLabel: 'p', maxDrop: -1 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    err = undefined;
    try {
      await compareBundles({ candidate: 'plain', baseline: 'typed', artifacts, load: { source: PENGUINS, types: { Nope: 'number' } }, sourceLabel: 'p' });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.contain('column "Nope": a type is declared for this column but the source has no such column');
  });
});
