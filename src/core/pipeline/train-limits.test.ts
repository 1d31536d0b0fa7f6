import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rejection } from '../../test-helpers/async.js';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { ConfigError } from '../errors.js';
import { MAX_CLASSES } from './featurize.js';
import { runPipeline } from './run.js';

/** Targets and forests too big to train or to bundle are refused up front, saying what to change. */
describe('training limits', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  async function csv(name: string, rows: number, label: (i: number) => string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, `x,label\n${Array.from({ length: rows }, (_, i) => `${i % 97},${label(i)}`).join('\n')}\n`);
    return file;
  }
  const run = (source: string, trees: number) => runPipeline({ source, target: 'label', name: 'limits', artifacts: join(dir, 'a'), defaultArtifacts: join(dir, 'a'), seed: 1, model: { trees } });

  it(`refuses a target with more than ${MAX_CLASSES} classes, and calls one with a value per row an identifier`, async () => {
    const err = await rejection(run(await csv('ids.csv', 1500, (i) => `row-${i}`), 5));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.equal(
      'target: "label" has 1,500 classes in 1,500 rows; mlpipe classifies into at most 1,000 (every node of every tree keeps a probability for each class). Nearly every row has its own value: it looks like an identifier, not something to predict; predict a coarser column',
    );
  });

  it('refuses, before any tree grows, a many-class forest whose class probabilities could not fit a bundle', async () => {
    const started = Date.now();
    const err = await rejection(run(await csv('many.csv', 2000, (i) => `c${i % 500}`), 10_000));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.match(/^model: 10000 trees over 2,000 rows and 500 classes may keep up to \d+\.\d GiB of class probabilities; a bundle file holds at most 2\.0 GiB\. Grow smaller trees \(--min-samples-leaf, --max-depth\), fewer trees \(--trees\), or predict a target with fewer classes$/);
    // Refused before training: 10,000 trees would take minutes.
    expect(Date.now() - started).to.be.below(30_000);
  });

  it('trains the same many-class target with trees small enough', async () => {
    const r = await run(join(dir, 'many.csv'), 5);
    expect(r.train.training.classes).to.have.length(500);
  });
});

describe('a dataset with nothing to learn from', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  it('says which columns were dropped and why, and how to keep one', async () => {
    const file = join(dir, 'ids.csv');
    await writeFile(file, `row,code,label\n${Array.from({ length: 30 }, (_, i) => `${i + 1},k${i},${i % 2 ? 'a' : 'b'}`).join('\n')}\n`);
    const err = await rejection(runPipeline({ source: file, target: 'label', name: 'x', artifacts: join(dir, 'a'), defaultArtifacts: join(dir, 'a'), seed: 1 }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.equal(
      'features: no features to train on: every column but the target was dropped: row (id-like: every value is distinct (a row number or key)); code (id-like: every value is distinct); to keep one, choose its featurizer in the config (features: {columns: {"row": {kind: numeric}}})',
    );
  });
});
