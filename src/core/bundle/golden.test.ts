import { expect } from 'chai';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXAMPLES, buildExampleBundle, cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { VerificationError } from '../errors.js';
import { readPipelineConfig } from '../pipeline/config.js';
import { runPipeline } from '../pipeline/run.js';
import { GOLDEN_FILE, GOLDEN_INPUTS_FILE, type GoldenFile, checkBundleGolden, checkGolden, chooseGoldenRows } from './golden.js';
import { loadPredictor } from '../predictor/from-bundle.js';
import { packageModel } from './package.js';
import { rewriteBundleFile, skewIslandCategories } from '../../test-helpers/bundle.js';
import { verifyBundle } from './verify.js';

describe('golden records (the skew gate)', function () {
  this.timeout(120_000);
  let artifacts: string;
  let work: string;
  let dir: string;

  before(async () => {
    artifacts = await tempDir();
    work = await tempDir();
    const result = await runPipeline({
      config: await readPipelineConfig(join(EXAMPLES, 'penguins', 'pipeline.yaml')),
      model: { trees: 5 },
      artifacts,
      defaultArtifacts: artifacts,
      workDir: work,
    });
    dir = result.package.dir;
  });
  after(cleanupTempDirs);

  it('chooses rows from the seed alone, spread over the classes', () => {
    const labels = Float64Array.from({ length: 100 }, (_, i) => (i < 80 ? 0 : i < 95 ? 1 : 2));
    const rows = Array.from({ length: 100 }, (_, i) => i);
    const a = chooseGoldenRows(rows, 42, labels);
    expect(a).to.have.length(20);
    expect(chooseGoldenRows(rows, 42, labels)).to.deep.equal(a);
    expect(chooseGoldenRows(rows, 43, labels)).not.to.deep.equal(a);
    // round robin: the 5 rows of the rarest class are all in; the others share the rest
    expect(a.filter((i) => labels[i] === 2)).to.have.length(5);
    expect(a.filter((i) => labels[i] === 1)).to.have.length(7);
    expect(a.filter((i) => labels[i] === 0)).to.have.length(8);
    expect([...a].sort((x, y) => x - y)).to.deep.equal(a);
    expect(chooseGoldenRows([3, 1, 2], 1)).to.deep.equal([1, 2, 3]);
  });

  it('train keeps holdout rows as input records; package stores them with the outputs the bundle gave', async () => {
    const inputs = JSON.parse(await readFile(join(work, 'model', GOLDEN_INPUTS_FILE), 'utf8')) as { from: string; rows: number[]; records: Record<string, unknown>[] };
    expect(inputs.from).to.equal('holdout');
    expect(inputs.records).to.have.length(20);
    // the input schema's fields only: no target
    expect(Object.keys(inputs.records[0]!).sort()).to.deep.equal(['Beak Depth (mm)', 'Beak Length (mm)', 'Body Mass (g)', 'Flipper Length (mm)', 'Island', 'Sex']);
    const m = await verifyBundle(dir);
    expect(m.golden).to.deep.equal({ file: GOLDEN_FILE, records: 20, from: 'holdout' });
    expect(m.files).to.have.property(GOLDEN_FILE);
    const golden = JSON.parse(await readFile(join(dir, GOLDEN_FILE), 'utf8')) as GoldenFile;
    expect(golden.records.map((r) => r.input)).to.deep.equal(inputs.records);
    // every class among the recorded labels (the rows are spread over the classes)
    expect(new Set(golden.records.map((r) => r.output.prediction))).to.have.keys(['Adelie', 'Chinstrap', 'Gentoo']);
    const model = await loadPredictor(dir, artifacts);
    expect(golden.records.map((r) => r.output)).to.deep.equal(model.predictMany(golden.records.map((r) => r.input)));
    expect(await checkGolden(model)).to.deep.equal({ records: 20, present: true });
  });

  it('a regression bundle with dates records its numbers and passes', async () => {
    const store = await tempDir();
    const r = await buildExampleBundle({ artifacts: store, example: 'cars', trees: 4 });
    const golden = JSON.parse(await readFile(join(r.package.dir, GOLDEN_FILE), 'utf8')) as GoldenFile;
    expect(golden.records).to.have.length(20);
    expect(golden.records[0]!.input.Year).to.match(/^\d{4}-\d\d-\d\dT/);
    expect(golden.records[0]!.output.prediction).to.be.a('number');
    expect(await checkBundleGolden(r.package.dir)).to.deep.equal({ records: 20, present: true });
  });

  it('catches a featurizer change whose checksums were redone: only the golden records see it', async () => {
    const forged = join(await tempDir(), 'penguins-forged');
    await cp(dir, forged, { recursive: true });
    await skewIslandCategories(forged);
    await verifyBundle(forged); // every checksum passes
    const model = await loadPredictor(forged, artifacts);
    let error: unknown;
    try {
      await checkGolden(model);
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(VerificationError);
    const message = (error as VerificationError).message;
    expect((error as VerificationError).file).to.equal(GOLDEN_FILE);
    expect(message).to.match(new RegExp(`^penguins@1\\.0\\.0: ${forged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/golden\\.json: record \\d+, (prediction|probabilities\\.\\w+): got .+, the bundle recorded .+$`));
    await expectRejected(checkBundleGolden(forged), /golden\.json: record \d+, /);
  });

  it('refuses a golden record that was edited (checksums redone), naming record and field and both values', async () => {
    const forged = join(await tempDir(), 'penguins-edited');
    await cp(dir, forged, { recursive: true });
    const original = (JSON.parse(await readFile(join(dir, GOLDEN_FILE), 'utf8')) as GoldenFile).records[3]!.output.probabilities!.Adelie!;
    const edited = original === 1 ? 0.9999999999999 : original + 1e-12;
    await rewriteBundleFile(forged, GOLDEN_FILE, (text) => {
      const g = JSON.parse(text) as GoldenFile;
      g.records[3]!.output.probabilities!.Adelie = edited;
      return JSON.stringify(g, null, 2);
    });
    const model = await loadPredictor(forged, artifacts);
    await expectRejected(checkGolden(model), `penguins@1.0.0: ${join(forged, GOLDEN_FILE)}: record 3, probabilities.Adelie: got ${JSON.stringify(original)}, the bundle recorded ${JSON.stringify(edited)}`);
  });

  it('a changed golden.json (checksum not redone) is a checksum mismatch', async () => {
    const forged = join(await tempDir(), 'penguins-changed');
    await cp(dir, forged, { recursive: true });
    await writeFile(join(forged, GOLDEN_FILE), (await readFile(join(forged, GOLDEN_FILE), 'utf8')).replace('"Adelie"', '"Gentoo"'));
    await expectRejected(checkBundleGolden(forged), /golden\.json: checksum mismatch/);
  });

  it('a model folder without golden inputs (an older train) packages without golden.json, which then passes as absent', async () => {
    await rm(join(work, 'model', GOLDEN_INPUTS_FILE));
    const older = await packageModel({ modelDir: join(work, 'model'), name: 'older', artifacts });
    expect(older.golden.records).to.equal(0);
    expect(older.golden.skipped).to.contain('no golden inputs');
    expect(older.manifest.files).not.to.have.property(GOLDEN_FILE);
    expect(older.manifest).not.to.have.property('golden');
    expect(await checkBundleGolden(older.dir)).to.deep.equal({ records: 0, present: false });
  });
});

async function expectRejected(promise: Promise<unknown>, match: RegExp | string): Promise<void> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(VerificationError);
    if (typeof match === 'string') expect((err as Error).message).to.contain(match);
    else expect((err as Error).message).to.match(match);
    return;
  }
  expect.fail('expected a VerificationError');
}
