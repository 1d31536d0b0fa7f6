import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import type { Predictor } from '../core/predictor/predictor.js';
import { buildExampleBundle, cleanupTempDirs, exampleRecords, tempDir } from '../test-helpers/fixtures.js';
import { createApp } from './app.js';
import { ServedModels } from './models.js';
import { OFF_LOOP_MIN_WORK, predictFeaturizedOffLoop } from './off-loop.js';

/** POSTs `body` with node:http; resolves when the answer has fully arrived, noting when the upload was done. */
function postTimed(url: string, body: string): { uploaded: Promise<number>; answered: Promise<{ at: number; status: number; text: string }> } {
  let onUploaded: (at: number) => void = () => {};
  const uploaded = new Promise<number>((resolve) => {
    onUploaded = resolve;
  });
  const answered = new Promise<{ at: number; status: number; text: string }>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ at: performance.now(), status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body, () => onUploaded(performance.now()));
  });
  return { uploaded, answered };
}

describe('big batches off the event loop', function () {
  this.timeout(60_000);
  let penguins: Predictor;
  let records: Record<string, unknown>[];
  let url: string;
  let server: Server;

  before(async () => {
    const artifacts = await tempDir();
    const built = await buildExampleBundle({ artifacts, example: 'penguins', trees: 40 });
    penguins = await loadPredictor(built.package.ref, artifacts);
    const rows = (await exampleRecords('penguins')).map(({ Species: _target, ...r }) => r);
    records = Array.from({ length: 10_000 }, (_, i) => rows[i % rows.length] as Record<string, unknown>);
    const models = new ServedModels();
    models.add(penguins);
    models.ready = true;
    const app = createApp(models, { rateLimit: 0, batchRateLimit: 0 });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    server.close();
    await cleanupTempDirs();
  });

  it('the worker threads predict exactly what the forest predicts in this thread', async () => {
    const featurized = penguins.featurizeRows(records);
    expect(featurized.rows.length * penguins.forest.treeCount).to.be.at.least(OFF_LOOP_MIN_WORK);
    const off = await predictFeaturizedOffLoop(penguins, featurized);
    expect(off).to.deep.equal(penguins.predictFeaturized(featurized));
  });

  it('a 10,000-row /predict/batch answers what predictMany does, and /healthz answers while it runs', async function () {
    const body = JSON.stringify({ records });
    // Once, so the pool's threads are started (a first batch waits ~40 ms for them).
    expect((await postTimed(`${url}/predict/batch`, body).answered).status).to.equal(200);
    const batch = postTimed(`${url}/predict/batch`, body);
    let finished = false;
    void batch.answered.then(() => {
      finished = true;
    });
    const uploadedAt = await batch.uploaded;
    const healthAt: number[] = [];
    while (!finished) {
      const r = await fetch(`${url}/healthz`);
      expect(r.status).to.equal(200);
      await r.text();
      healthAt.push(performance.now());
    }
    const answer = await batch.answered;
    expect(answer.status, answer.text.slice(0, 300)).to.equal(200);
    const during = healthAt.filter((t) => t > uploadedAt && t < answer.at);
    this.test!.title += ` [${during.length} health answers while the batch ran]`;
    expect(during.length, 'no /healthz answer came back between the end of the upload and the batch answer').to.be.at.least(1);
    const { predictions } = JSON.parse(answer.text) as { predictions: unknown[] };
    expect(predictions).to.deep.equal(JSON.parse(JSON.stringify(penguins.predictMany(records))));
  });
});
