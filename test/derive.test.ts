/**
 * End to end for derived columns (issue 6): a pipeline.yaml with two `features.derive` entries →
 * `mlpipe run` (the real CLI) → `mlpipe predict` and the server (createApp over real HTTP) give
 * identical predictions; the derived features are among the model's feature names, and the input
 * schema lists only the real input columns.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPredictor } from '../src/core/predictor/from-bundle.js';
import { ServedModels } from '../src/server/models.js';
import { createApp } from '../src/server/app.js';
import { EXAMPLES, cleanupTempDirs, exampleRecords, runCli, tempDir } from '../src/test-helpers/fixtures.js';

const CONFIG = `name: cars-derived
source: cars.csv
target: Miles_per_Gallon
seed: 3
features:
  drop: [Name]
  derive:
    power_to_weight: "Horsepower / Weight_in_lbs * 1000"
    heavy_and_slow: "Weight_in_lbs > 3500 and Acceleration < 12"
  columns:
    heavy_and_slow: {kind: numeric, indicator: false}
model:
  trees: 15
evaluation:
  holdout: 0.2
`;

describe('end to end: derived columns', function () {
  this.timeout(240_000);
  let dir: string;
  let artifacts: string;
  let ref: string;
  let server: Server;
  let url: string;

  before(async () => {
    dir = await tempDir();
    artifacts = join(dir, 'artifacts');
    await copyFile(join(EXAMPLES, 'cars', 'cars.csv'), join(dir, 'cars.csv'));
    await writeFile(join(dir, 'pipeline.yaml'), CONFIG);
    const run = await runCli(['run', join(dir, 'pipeline.yaml'), '--artifacts', artifacts]);
    expect(run.code, run.stderr).to.equal(0);
    ref = run.stdout.trimEnd().split('\n').pop() as string;
    const registry = new ServedModels();
    registry.add(await loadPredictor(ref, artifacts));
    registry.ready = true;
    const app = createApp(registry, { rateLimit: 0, batchRateLimit: 0 });
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await cleanupTempDirs();
  });

  it('records the expressions as text and the derived features by name; the input schema has only real columns', async () => {
    const [name, version] = ref.split('@') as [string, string];
    const bundle = join(artifacts, name, version);
    const featurizer = JSON.parse(await readFile(join(bundle, 'featurizer.json'), 'utf8'));
    expect(featurizer.formatVersion).to.equal(2);
    expect(featurizer.derive).to.deep.equal([
      { name: 'power_to_weight', expression: 'Horsepower / Weight_in_lbs * 1000' },
      { name: 'heavy_and_slow', expression: 'Weight_in_lbs > 3500 and Acceleration < 12' },
    ]);
    expect(featurizer.featureNames).to.include.members(['power_to_weight', 'power_to_weight__missing', 'heavy_and_slow']);
    const model = JSON.parse(await readFile(join(bundle, 'model.json'), 'utf8'));
    expect(JSON.stringify(model)).to.contain('"power_to_weight"');
    const schema = JSON.parse(await readFile(join(bundle, 'input-schema.json'), 'utf8'));
    expect(Object.keys(schema.properties)).to.include.members(['Horsepower', 'Weight_in_lbs', 'Acceleration']);
    expect(Object.keys(schema.properties)).not.to.include.members(['power_to_weight']);
    expect(Object.keys(schema.properties)).not.to.include('heavy_and_slow');
  });

  it('mlpipe predict, POST /predict/batch and POST /predict agree on every row', async () => {
    const out = join(dir, 'out.csv');
    const run = await runCli(['predict', ref, '--input', join(dir, 'cars.csv'), '--out', out, '--artifacts', artifacts]);
    expect(run.code, run.stderr).to.equal(0);
    const [header, ...rows] = (await readFile(out, 'utf8')).trimEnd().split('\n');
    expect(header).to.equal('prediction');
    const cli = rows.map((r) => ({ prediction: Number(r) }));
    const records = (await exampleRecords('cars')).map(({ Miles_per_Gallon: _t, ...rest }) => rest);
    expect(cli).to.have.length(records.length);
    const batch = await fetch(`${url}/predict/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records }) });
    expect(batch.status).to.equal(200);
    const predictions = ((await batch.json()) as { predictions: { prediction: number }[] }).predictions;
    expect(predictions).to.deep.equal(cli);
    for (let i = 0; i < records.length; i += 7) {
      const one = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records[i]) });
      const { model: _m, ...prediction } = (await one.json()) as { prediction: number; model: unknown };
      expect(prediction, `row ${i + 1}`).to.deep.equal(predictions[i]);
    }
  });

  it('a record whose derived inputs are missing still predicts; a field named like a derived column is ignored', async () => {
    const [record] = (await exampleRecords('cars')).map(({ Miles_per_Gallon: _t, ...rest }) => rest);
    const post = async (body: unknown) =>
      (await (await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { prediction: number };
    const plain = await post(record);
    expect((await post({ ...record, power_to_weight: 1e9, heavy_and_slow: -5 })).prediction).to.equal(plain.prediction);
    const missing = await post({ ...record, Horsepower: null });
    expect(missing.prediction).to.be.a('number');
  });

  it('reports a misspelt column in an expression with path, line and a suggestion', async () => {
    await writeFile(join(dir, 'bad.yaml'), CONFIG.replace('Horsepower / Weight_in_lbs', 'Horsepowr / Weight_in_lbs'));
    const run = await runCli(['run', join(dir, 'bad.yaml'), '--artifacts', artifacts]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain('features.derive.power_to_weight: no column "Horsepowr" in the dataset (did you mean "Horsepower"?) (line 8)');
  });
});
