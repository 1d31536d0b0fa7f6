import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { type Predictor } from '../core/predictor/predictor.js';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import { ServedModels } from './models.js';
import { readDataset } from '../core/data/dataset.js';
import { loadToDataset } from '../core/data/load.js';
import type { FittedPipeline } from '../core/features/types.js';
import { predictFile } from '../core/pipeline/predict.js';
import { runPipeline } from '../core/pipeline/run.js';
import { cleanupTempDirs, tempDir } from '../test-helpers/fixtures.js';
import { createApp } from './app.js';

/**
 * A model trained on day-first dates (`15/06/2024`), end to end: load (the order learned) → dataset
 * file → featurize → train → package → serve over real HTTP, where requests are read in the order
 * of training, ISO dates are accepted, and a date that order cannot read is a 400 naming its path.
 */

interface Reply {
  status: number;
  body: any;
}

const servers: Server[] = [];

async function serve(models: Predictor[]): Promise<string> {
  const registry = new ServedModels();
  for (const m of models) registry.add(m);
  registry.ready = true;
  const app = createApp(registry, {});
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function post(url: string, body: unknown): Promise<Reply> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/**
 * Visits over 2024: the label is the season of the visit's month (so the date decides it), the date
 * written day first, or month first with `mdy`; row 0 is 15/06/2024.
 */
function visitsCsv(order: 'dmy' | 'mdy'): string {
  const lines = ['visit,amount,label'];
  for (let i = 0; i < 120; i++) {
    const month = i === 0 ? 6 : (i % 12) + 1;
    const day = i === 0 ? 15 : ((i * 7) % 28) + 1;
    const [a, b] = order === 'dmy' ? [day, month] : [month, day];
    const label = month >= 5 && month <= 8 ? 'summer' : 'other';
    lines.push(`${String(a).padStart(2, '0')}/${String(b).padStart(2, '0')}/2024,${(i % 10) + 0.5},${label}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('serving a model trained on day/month dates', () => {
  let dir: string;
  let artifacts: string;
  let dmy: Predictor;
  let mdy: Predictor;
  let url: string;
  let csv: string;

  before(async () => {
    dir = await tempDir();
    artifacts = join(dir, 'artifacts');
    csv = join(dir, 'visits.csv');
    await writeFile(csv, visitsCsv('dmy'));
    const dataset = join(dir, 'visits.arrow');
    const loaded = await loadToDataset({ source: csv, out: dataset });
    expect(loaded.schema[0]).to.deep.equal({ name: 'visit', type: 'datetime', dateOrder: 'dmy' });
    // featurize, train and package from the dataset file: the order must survive it
    const run = await runPipeline({ source: dataset, target: 'label', name: 'visits', seed: 3, model: { trees: 15 }, artifacts, defaultArtifacts: artifacts });
    dmy = await loadPredictor(run.package.ref, artifacts);
    const mdyCsv = join(dir, 'visits-mdy.csv');
    await writeFile(mdyCsv, visitsCsv('mdy'));
    const mdyRun = await runPipeline({ source: mdyCsv, target: 'label', name: 'visits-us', seed: 3, model: { trees: 15 }, artifacts, defaultArtifacts: artifacts });
    mdy = await loadPredictor(mdyRun.package.ref, artifacts);
    url = await serve([dmy, mdy]);
  });

  after(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    })));
    await cleanupTempDirs();
  });

  it('the bundle records the order on the input column (featurizer format 3) and in the input schema', async () => {
    const saved = JSON.parse(await readFile(join(dmy.dir, 'featurizer.json'), 'utf8')) as FittedPipeline;
    expect(saved.formatVersion).to.equal(3);
    expect(saved.inputs.find((c) => c.name === 'visit')).to.deep.equal({ name: 'visit', type: 'datetime', nullable: false, dateOrder: 'dmy' });
    expect(mdy.transformer.pipeline.inputs.find((c) => c.name === 'visit')?.dateOrder).to.equal('mdy');
    const schema = (await (await fetch(`${url}/v1/models/visits`)).json()) as { inputSchema: { properties: Record<string, { examples?: string[]; description: string }> } };
    expect(schema.inputSchema.properties.visit!.examples).to.deep.equal(['15/06/2024', '2024-06-15']);
    expect(schema.inputSchema.properties.visit!.description).to.match(/^date or date-time as in training: DD\/MM\/YYYY/);
  });

  it('"15/06/2024" gets the features of training and the prediction of the batch path on the same row', async () => {
    const record = { visit: '15/06/2024', amount: 0.5 };
    const single = await post(`${url}/v1/models/visits/predict`, record);
    expect(single.status, JSON.stringify(single.body)).to.equal(200);
    // the batch path: mlpipe predict over the training CSV (its first row is that record)
    const out = join(dir, 'predictions.ndjson');
    await predictFile({ ref: 'visits', artifacts, input: csv, out });
    const batch = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect({ prediction: single.body.prediction, probabilities: single.body.probabilities }).to.deep.equal(batch[0]);
    expect(single.body.prediction).to.equal('summer');
    // the same features as the training table's row, featurized in batch
    const { table } = await readDataset(join(dir, 'visits.arrow'));
    const matrix = dmy.transformer.transformTable(table);
    expect(Array.from(dmy.transformer.transformRecord(record))).to.deep.equal(Array.from(matrix.subarray(0, dmy.transformer.width)));
    // and the batch endpoint agrees
    const many = await post(`${url}/v1/models/visits/predict/batch`, { records: [record, { visit: '2024-06-15', amount: 0.5 }] });
    expect(many.status).to.equal(200);
    expect(many.body.predictions).to.deep.equal([batch[0], batch[0]]);
  });

  it('an ISO date works in a column with an order', async () => {
    const iso = await post(`${url}/v1/models/visits/predict`, { visit: '2024-06-15', amount: 0.5 });
    const dayFirst = await post(`${url}/v1/models/visits/predict`, { visit: '15/06/2024', amount: 0.5 });
    expect(iso.status).to.equal(200);
    expect(iso.body).to.deep.equal(dayFirst.body);
    const withTime = await post(`${url}/v1/models/visits/predict`, { visit: '15.06.2024 10:00', amount: 0.5 });
    expect(withTime.status).to.equal(200);
  });

  it('a date the training order cannot read is a 400 naming its JSON path and the expected order', async () => {
    const r = await post(`${url}/v1/models/visits/predict`, { visit: '06/15/2024', amount: 0.5 });
    expect(r.status).to.equal(400);
    expect(r.body.error.code).to.equal('invalid_input');
    expect(r.body.error.details).to.deep.equal([{ path: '/visit', message: 'must be a date (DD/MM/YYYY, as in training, or ISO like 2024-03-05), got "06/15/2024"' }]);
    const batch = await post(`${url}/predict/batch`, { records: [{ visit: '15/06/2024', amount: 1 }, { visit: '06/15/2024', amount: 1 }] });
    expect(batch.status).to.equal(400);
    expect(batch.body.error.details).to.deep.equal([{ path: '/records/1/visit', message: 'must be a date (DD/MM/YYYY, as in training, or ISO like 2024-03-05), got "06/15/2024"' }]);
  });

  it('a model trained month first reads month first, and refuses a day-first date', async () => {
    const ok = await post(`${url}/v1/models/visits-us/predict`, { visit: '06/15/2024', amount: 0.5 });
    expect(ok.status).to.equal(200);
    const iso = await post(`${url}/v1/models/visits-us/predict`, { visit: '2024-06-15', amount: 0.5 });
    expect(iso.body.probabilities).to.deep.equal(ok.body.probabilities);
    const r = await post(`${url}/v1/models/visits-us/predict`, { visit: '31/12/2023', amount: 0.5 });
    expect(r.status).to.equal(400);
    expect(r.body.error.details).to.deep.equal([{ path: '/visit', message: 'must be a date (MM/DD/YYYY, as in training, or ISO like 2024-03-05), got "31/12/2023"' }]);
  });
});
