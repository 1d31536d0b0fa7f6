import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { loadSource } from '../data/load.js';
import { ConfigError } from '../errors.js';
import { fitTransform } from '../features/fit-pipeline.js';
import { FeatureTransformer } from '../features/transformer.js';
import { readPipelineConfig } from './config.js';
import { readFeaturesDir } from './features-dir.js';
import { featureTarget, featurize, planOf } from './featurize.js';
import { train } from './train.js';

describe('featurize with target encoding and drop selectors', () => {
  let dir: string;
  let csv: string;
  before(async () => {
    dir = await tempDir();
    csv = join(dir, 'homes.csv');
    const cities = ['paris', 'lyon', 'nice', 'lille'];
    const lines = ['id_row,tmp_note,city,rooms,description,price'];
    for (let i = 0; i < 48; i++) {
      const city = cities[i % 4]!;
      lines.push(`${i + 1},n${i % 3},${city},${1 + (i % 5)},"a ${city} flat with ${1 + (i % 5)} rooms and a long description, listing number ${i}",${100 + 10 * (i % 4) + (i % 5)}`);
    }
    // the one row of a city seen once, with an extreme price
    lines.push('49,n0,solo,3,"a solo flat with 3 rooms and a long description of it",1000');
    await writeFile(csv, `${lines.join('\n')}\n`);
  });
  after(cleanupTempDirs);

  it('writes the out-of-fold encodings in the training matrix and the full-data state in featurizer.json', async () => {
    const data = await loadSource({ source: csv });
    const out = join(dir, 'features');
    const result = await featurize({
      data,
      target: 'price',
      out,
      seed: 4,
      features: { drop: [{ pattern: '^(id|tmp)_' }, { type: 'text' }], columns: { city: { kind: 'target', smoothing: 1 } } },
    });
    expect(result.pipeline.dropped).to.deep.equal([
      { column: 'id_row', type: 'integer', reason: 'dropped by the config (features.drop[0]: pattern ^(id|tmp)_)' },
      { column: 'tmp_note', type: 'category', reason: 'dropped by the config (features.drop[0]: pattern ^(id|tmp)_)' },
      { column: 'description', type: 'text', reason: 'dropped by the config (features.drop[1]: type text)' },
    ]);
    const saved = await readFeaturesDir(out);
    const j = saved.data.featureNames.indexOf('city.target');
    const w = saved.data.featureNames.length;
    const solo = saved.data.matrix[48 * w + j]!;
    // Serving (featurizer.json) sees the solo row's own price: (1000 + 1 · prior) / 2, far above the others.
    const served = new FeatureTransformer(saved.pipeline).transformRecord({ city: 'solo', rooms: 3 })[j]!;
    const prior = (saved.data.target as number[]).reduce((a, b) => a + b, 0) / 49;
    expect(served).to.be.closeTo((1000 + prior) / 2, 1e-9);
    // The training row does not: "solo" is unknown to the fit without it, which gives its prior (a mean of ~100s).
    expect(solo).to.be.below(150);
    // ...and it is exactly what fitTransform makes with the same target and seed.
    const again = fitTransform(saved.table, planOf(saved.pipeline), { target: featureTarget(saved.data.target, 'regression', undefined), seed: 4 });
    expect(Array.from(saved.data.matrix)).to.deep.equal(Array.from(again.matrix));

    // train re-fits the featurizers on its training rows (out of fold there too) and scores the rest
    const trained = await train({ features: out, out: join(dir, 'model'), params: { seed: 1, trees: 5 }, holdout: 0.25, permutationRepeats: 0, jobs: 1 });
    expect(trained.metrics.holdout?.featurizersFittedOn).to.equal('training rows');
    expect((trained.metrics.columnImportances ?? []).map((c) => c.name).sort()).to.deep.equal(['city', 'rooms']);
  });
});

describe('featurize with features.required (pipeline.yaml)', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
    const lines = ['id_row,city,rooms,price'];
    for (let i = 0; i < 40; i++) lines.push(`${i + 1},${['paris', 'lyon'][i % 2]},${1 + (i % 5)},${100 + 10 * (i % 4)}`);
    await writeFile(join(dir, 'homes.csv'), `${lines.join('\n')}\n`);
  });
  after(cleanupTempDirs);

  const configWith = async (required: string) => {
    const file = join(dir, 'pipeline.yaml');
    await writeFile(file, `source: homes.csv\ntarget: price\nfeatures:\n  drop: [id_row]\n  required:\n${required}`);
    return readPipelineConfig(file);
  };

  it('marks the named inputs required in the input schema (the others optional), and train keeps them', async () => {
    const config = await configWith('    - rooms\n');
    expect(config.features.required).to.deep.equal(['rooms']);
    const data = await loadSource({ source: join(dir, 'homes.csv') });
    const out = join(dir, 'features');
    const result = await featurize({ data, target: 'price', out, features: config.features });
    expect(result.pipeline.inputs).to.deep.equal([
      { name: 'city', type: 'category', nullable: false },
      { name: 'rooms', type: 'integer', nullable: false, required: true },
    ]);
    const saved = await readFeaturesDir(out);
    expect((saved.inputSchema as { required: string[] }).required).to.deep.equal(['rooms']);
    // train re-fits the featurizers from featurizer.json (planOf): the required mark stays.
    expect(planOf(result.pipeline).required).to.deep.equal([{ column: 'rooms' }]);
  });

  it('a name that is not an input column is a config error at features.required[i], with its line', async () => {
    const data = await loadSource({ source: join(dir, 'homes.csv') });
    for (const [name, why] of [
      ['roms', 'the data has no such column (did you mean "rooms"?)'],
      ['id_row', 'it is dropped (dropped by the config)'],
      ['price', 'no featurizer reads it (the target is never an input)'],
    ]) {
      const config = await configWith(`    - city\n    - ${name}\n`);
      try {
        await featurize({ data, target: 'price', out: join(dir, 'f2'), features: config.features });
        expect.fail('should throw');
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as ConfigError).message).to.equal(`features.required[1]: "${name}" is not an input column of the model: ${why}; input columns: city, rooms (line 7)`);
      }
    }
    await configWith('    rooms\n').then(
      () => expect.fail('should throw'),
      (err: ConfigError) => expect(err.message).to.contain('features.required: must be array (line 6)'),
    );
  });
});

