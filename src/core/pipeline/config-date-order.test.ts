import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { rejection } from '../../test-helpers/async.js';
import { ConfigError } from '../errors.js';
import { runPipeline } from './run.js';
import { readConfigText } from '../../test-helpers/config.js';

describe('pipeline.yaml types: datetime:dmy and datetime:mdy', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
    const lines = ['when,amount,label'];
    for (let i = 0; i < 30; i++) lines.push(`${String((i % 12) + 1).padStart(2, '0')}/${String((i % 9) + 1).padStart(2, '0')}/2024,${i},${i % 2 ? 'a' : 'b'}`);
    await writeFile(join(dir, 'visits.csv'), `${lines.join('\n')}\n`);
  });
  after(cleanupTempDirs);

  const read = (yaml: string) => readConfigText(dir, yaml);

  it('are declared types (plain YAML, no quotes needed), and fix the order the bundle serves with', async () => {
    const cfg = await read('name: visits\nsource:\n  path: visits.csv\n  types: {when: datetime:dmy}\ntarget: label\nmodel: {trees: 5}\n');
    expect(cfg.source.types).to.deep.equal({ when: 'datetime:dmy' });
    const artifacts = join(dir, 'artifacts');
    const run = await runPipeline({ config: cfg, seed: 1, artifacts, defaultArtifacts: artifacts });
    expect(run.load.schema[0]).to.deep.equal({ name: 'when', type: 'datetime', dateOrder: 'dmy' });
    expect(run.load.warnings).to.deep.equal([]);
    expect(run.featurize.pipeline.inputs.find((c) => c.name === 'when')?.dateOrder).to.equal('dmy');
  });

  it('another spelling is a config error naming the path, the line and the allowed values', async () => {
    const err = await rejection(read('source:\n  path: visits.csv\n  types: {when: "datetime:ymd"}\ntarget: label\n'));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.include('source.types.when: must be one of number, integer, boolean, category, datetime, text, datetime:mdy, datetime:dmy (line 3)');
  });
});
