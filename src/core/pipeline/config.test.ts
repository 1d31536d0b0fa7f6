import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { ConfigError, NotFoundError } from '../errors.js';
import { readPipelineConfig } from './config.js';

describe('pipeline config', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(cleanupTempDirs);

  async function read(yaml: string) {
    const file = join(dir, 'pipeline.yaml');
    await writeFile(file, yaml);
    return readPipelineConfig(file);
  }

  it('reads a valid config, resolving paths against its folder', async () => {
    const cfg = await read(`name: m\nsource: data/x.csv\ntarget: y\nseed: 3\nmodel:\n  trees: 10\n  maxFeatures: sqrt\npackage:\n  artifacts: ../store\n`);
    expect(cfg.source.path).to.equal(join(dir, 'data/x.csv'));
    expect(cfg.package.artifacts).to.equal(join(dir, '../store'));
    expect(cfg.model).to.deep.equal({ type: 'random-forest', trees: 10, maxFeatures: 'sqrt' });
    expect(cfg.sha256).to.match(/^[0-9a-f]{64}$/);
  });

  const wrong: [string, string, string][] = [
    ['a misspelt setting', 'source: x.csv\ntarget: y\nmodel:\n  tress: 10\n', 'model.tress: unknown setting (did you mean "trees"?); allowed here: type, engine, trees, maxFeatures, maxDepth, minSamplesSplit, minSamplesLeaf, maxSamples (line 4)'],
    ['a misspelt top-level key', 'source: x.csv\ntraget: y\n', 'traget: unknown setting (did you mean "target"?)'],
    ['a missing target', 'source: x.csv\n', 'pipeline.yaml: target: is required (line 1)'],
    ['a wrong type', 'source: x.csv\ntarget: y\nmodel:\n  trees: many\n', 'model.trees: must be integer (line 4)'],
    ['an out-of-range value', 'source: x.csv\ntarget: y\nevaluation:\n  holdout: 1.5\n', 'evaluation.holdout: must be <= 0.9 (line 4)'],
    ['an unknown task', 'source: x.csv\ntarget: y\ntask: clustering\n', 'task: must be one of classification, regression (line 3)'],
    ['an unknown featurizer', 'source: x.csv\ntarget: y\nfeatures:\n  columns:\n    age: {kind: zscore}\n', 'features.columns.age.kind: must be one of numeric, one-hot, boolean, datetime-parts (line 5)'],
    ['a bad version', 'source: x.csv\ntarget: y\npackage:\n  version: v1\n', 'package.version: must match pattern'],
    ['a bad source format', 'source: {path: x.csv, format: xls}\ntarget: y\n', 'source.format: must be one of csv, tsv, json, ndjson, arrow (line 1)'],
  ];
  for (const [what, yaml, message] of wrong) {
    it(`reports ${what} with its path and line`, async () => {
      try {
        await read(yaml);
        expect.fail('should refuse');
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        const all = [(err as ConfigError).message, ...(err as ConfigError).details.map((d) => `${d.path}: ${d.message}`)].join('\n');
        expect(all).to.contain(message);
      }
    });
  }

  it('reports the required target by name', async () => {
    try {
      await read('source: x.csv\n');
      expect.fail('should refuse');
    } catch (err) {
      expect((err as ConfigError).details).to.deep.equal([{ path: 'target', message: 'is required (line 1)' }]);
    }
  });

  it('reports YAML syntax errors with line and column', async () => {
    try {
      await read('source: x.csv\ntarget: [y\n');
      expect.fail('should refuse');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.match(/pipeline\.yaml: line \d+, column \d+: invalid YAML/);
    }
  });

  it('refuses a missing file', async () => {
    try {
      await readPipelineConfig(join(dir, 'nope.yaml'));
      expect.fail('should refuse');
    } catch (err) {
      expect(err).to.be.instanceOf(NotFoundError);
    }
  });
});
