/**
 * End to end: `mlpipe run` on a data set, then `mlpipe predict` (batch, CLI) and the server's
 * `POST /predict/batch` and `POST /predict` must give identical predictions for every row, and a
 * seeded run twice must give identical models and predictions.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../src/core/fs-util.js';
import { type RunningServer, startServer } from '../src/server/start.js';
import { EXAMPLES, cleanupTempDirs, exampleRecords, runCli, tempDir } from '../src/test-helpers/fixtures.js';

interface Out {
  prediction: unknown;
  probabilities?: Record<string, number>;
}

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

for (const example of [
  { name: 'penguins', target: 'Species', outFile: 'out.ndjson' },
  { name: 'cars', target: 'Miles_per_Gallon', outFile: 'out.csv' },
] as const) {
  describe(`end to end: ${example.name}`, function () {
    this.timeout(240_000);
    let dir: string;
    let storeA: string;
    let storeB: string;
    let ref: string;
    let server: RunningServer;

    before(async () => {
      dir = await tempDir();
      storeA = join(dir, 'a');
      storeB = join(dir, 'b');
      const config = join(EXAMPLES, example.name, 'pipeline.yaml');
      const [a, b] = await Promise.all([
        runCli(['run', config, '--trees', '25', '--seed', '1234', '--artifacts', storeA]),
        runCli(['run', config, '--trees', '25', '--seed', '1234', '--artifacts', storeB]),
      ]);
      expect(a.code, a.stderr).to.equal(0);
      expect(b.code, b.stderr).to.equal(0);
      ref = a.stdout.trimEnd().split('\n').pop() as string;
      expect(b.stdout.trimEnd().split('\n').pop()).to.equal(ref);
      server = await startServer({ refs: [ref], artifacts: storeA, port: 0, host: '127.0.0.1', rateLimit: 0, batchRateLimit: 0 });
    });
    after(async () => {
      await server?.close();
      await cleanupTempDirs();
    });

    it('a seeded run twice gives the same model, byte for byte', async () => {
      const [name, version] = ref.split('@') as [string, string];
      const fileA = join(storeA, name, version, 'model.json');
      const fileB = join(storeB, name, version, 'model.json');
      expect(await sha256File(fileA)).to.equal(await sha256File(fileB));
      const featurizerA = await readFile(join(storeA, name, version, 'featurizer.json'), 'utf8');
      expect(await readFile(join(storeB, name, version, 'featurizer.json'), 'utf8')).to.equal(featurizerA);
    });

    it('mlpipe predict, POST /predict/batch and POST /predict agree on every row', async () => {
      const csv = join(EXAMPLES, example.name, `${example.name}.csv`);
      const out = join(dir, example.outFile);
      const run = await runCli(['predict', ref, '--input', csv, '--out', out, '--artifacts', storeA]);
      expect(run.code, run.stderr).to.equal(0);
      const text = await readFile(out, 'utf8');
      let cliPredictions: Out[];
      if (example.outFile.endsWith('.csv')) {
        const [header, ...rows] = text.trimEnd().split('\n');
        expect(header).to.equal('prediction');
        cliPredictions = rows.map((r) => ({ prediction: Number(r) }));
      } else {
        cliPredictions = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Out);
      }

      const records = (await exampleRecords(example.name)).map((r) => {
        const { [example.target]: _target, ...rest } = r;
        return rest;
      });
      expect(cliPredictions).to.have.length(records.length);

      const batch = await post(`${server.url}/predict/batch`, { records });
      expect(batch.status, JSON.stringify(batch.json)).to.equal(200);
      const batchPredictions = (batch.json as { predictions: Out[] }).predictions;
      expect(batchPredictions).to.deep.equal(cliPredictions);

      for (let i = 0; i < records.length; i++) {
        const single = await post(`${server.url}/predict`, records[i]);
        expect(single.status).to.equal(200);
        const { model: _model, ...prediction } = single.json as Out & { model: unknown };
        expect(prediction, `row ${i + 1}`).to.deep.equal(batchPredictions[i]);
      }
    });

    it('the second store serves the same predictions', async () => {
      const other = await startServer({ refs: [ref], artifacts: storeB, port: 0, host: '127.0.0.1', rateLimit: 0, batchRateLimit: 0 });
      try {
        const records = (await exampleRecords(example.name)).slice(0, 50);
        const a = await post(`${server.url}/predict/batch`, { records });
        const b = await post(`${other.url}/predict/batch`, { records });
        expect(b.json).to.deep.equal(a.json);
      } finally {
        await other.close();
      }
    });
  });
}
