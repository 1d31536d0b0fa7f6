import { expect } from 'chai';
import { appendFile, copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXAMPLES, ROOT, cleanupTempDirs, exampleRecords, tempDir } from '../../test-helpers/fixtures.js';
import { loadPredictor } from '../predictor/from-bundle.js';
import { packageModel } from '../bundle/package.js';
import { loadSource } from '../data/load.js';
import { ConfigError, VerificationError } from '../errors.js';
import { sha256 } from '../fs-util.js';
import { unregisterCustomKind } from '../features/registry.js';
import type { FittedPipeline } from '../features/types.js';
import { readPipelineConfig } from './config.js';
import type { FeaturesInfo } from './features-dir.js';
import { featurize } from './featurize.js';
import { train } from './train.js';

/**
 * featurize → train → package → load in one process, with a custom featurizer named in the config:
 * what each step records, and where each one refuses a module.
 */
describe('custom featurizer from featurize to a loaded bundle', function () {
  this.timeout(120_000);
  const NAME = 'zp-pipeline';
  let dir: string;
  let module: string;
  let moduleSha: string;
  before(async () => {
    dir = await tempDir();
    module = join(dir, 'lib', 'zip-prefix.ts');
    await mkdir(join(dir, 'lib'));
    await copyFile(join(ROOT, 'test', 'fixtures', 'zip-prefix.ts'), module);
    moduleSha = sha256(await readFile(module));
    await writeFile(
      join(dir, 'pipeline.yaml'),
      `name: zp\nsource: ${join(EXAMPLES, 'penguins', 'penguins.csv')}\ntarget: Species\nseed: 3\nfeatures:\n  custom:\n    ${NAME}: lib/zip-prefix.ts\n  columns:\n    Island: {kind: ${NAME}, digits: 1}\n`,
    );
  });
  after(async () => {
    unregisterCustomKind(NAME);
    await cleanupTempDirs();
  });

  it('featurize records where the module was loaded from and its sha256; train loads it from there', async () => {
    const cfg = await readPipelineConfig(join(dir, 'pipeline.yaml'));
    const data = await loadSource({ source: cfg.source.path! });
    const result = await featurize({ data, target: cfg.target, out: join(dir, 'features'), features: cfg.features, seed: cfg.seed });
    expect(result.info.summary.steps[0]).to.equal(`Island (category) → ${NAME}: share of rows by the first 1 characters: B… 0.488, D… 0.36, T… 0.151; unseen → 0`);
    const info = JSON.parse(await readFile(join(dir, 'features', 'features.json'), 'utf8')) as FeaturesInfo;
    expect(info.customFeaturizers).to.deep.equal([{ name: NAME, path: module, sha256: moduleSha }]);

    // A process that has not loaded the module yet (it is forgotten here) gets it from features.json.
    unregisterCustomKind(NAME);
    const trained = await train({ features: join(dir, 'features'), out: join(dir, 'model'), params: { trees: 5, seed: 1 }, permutationRepeats: 0 });
    expect(trained.metrics.holdout?.featurizersFittedOn).to.equal('training rows');
    const saved = JSON.parse(await readFile(join(dir, 'model', 'featurizer.json'), 'utf8')) as FittedPipeline;
    expect(saved.steps[0]!.custom).to.deep.include({ sha256: moduleSha, module: 'zip-prefix.ts' });
  });

  it('packages without the module: no code in the bundle, the name and sha256 in the manifest', async () => {
    unregisterCustomKind(NAME);
    const packaged = await packageModel({ modelDir: join(dir, 'model'), name: 'zp', artifacts: join(dir, 'store') });
    expect(packaged.manifest.customFeaturizers).to.deep.equal([{ name: NAME, sha256: moduleSha, module: 'zip-prefix.ts' }]);
    expect(packaged.manifest.featurizer.steps[0]).to.equal(`Island (category) → ${NAME}: share of rows by the first 1 characters: B… 0.488, D… 0.36, T… 0.151; unseen → 0`);
    const files = await readdir(packaged.dir);
    expect(files.filter((f) => /\.(m?[jt]s|cjs)$/.test(f))).to.deep.equal([]);
    for (const f of files) expect(await readFile(join(packaged.dir, f), 'utf8').catch(() => ''), f).not.to.contain(join(dir, 'lib'));
  });

  it('loads the bundle only with the module given, with the recorded sha256, and predicts as trained', async () => {
    unregisterCustomKind(NAME);
    const store = join(dir, 'store');
    const without = await loadPredictor('zp', store).then(() => expect.fail('should refuse'), (err: Error) => err);
    expect(without).to.be.instanceOf(ConfigError);
    expect(without.message).to.equal(
      `zp@1.0.0 (${join(store, 'zp', '1.0.0')}) uses the custom featurizer "${NAME}" (module zip-prefix.ts, sha256 ${moduleSha}); a bundle never contains code: give the module with --featurizer-module ${NAME}=<path to zip-prefix.ts>`,
    );
    const model = await loadPredictor('zp', store, { featurizers: [{ name: NAME, path: module }] });
    const records = (await exampleRecords('penguins')).slice(0, 20);
    const predictions = model.predictMany(records);
    expect(predictions).to.have.length(20);
    expect(predictions[0]!.prediction).to.equal('Adelie');
  });

  it('train refuses a module changed since featurize, before running it', async () => {
    unregisterCustomKind(NAME);
    await appendFile(module, '// one more line\n');
    const changed = sha256(await readFile(module));
    const err = await train({ features: join(dir, 'features'), out: join(dir, 'model2'), params: { trees: 5, seed: 1 } }).then(() => expect.fail('should refuse'), (e: Error) => e);
    expect(err).to.be.instanceOf(VerificationError);
    expect(err.message).to.equal(
      `${join(dir, 'features', 'features.json')}: customFeaturizers[0] ("${NAME}"): ${module} has sha256 ${changed}, but the features folder ${join(dir, 'features')} was made with the module whose sha256 is ${moduleSha}: refusing to load a different module; run mlpipe featurize again with this module (or restore the one it was made with)`,
    );
  });
});
