/**
 * A node:cluster server for the shared-limits test: the primary calls setupClusterLimits() and forks
 * WORKERS workers; each serves BUNDLE (a bundle folder) on PORT with RATE_LIMIT requests and
 * ROWS_PER_MINUTE rows per minute, and names itself in an X-Worker header. Prints `ready` once every
 * worker listens. Run with `node --import tsx`.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import { createApp } from '../server/app.js';
import { setupClusterLimits } from '../server/limit-stores.js';
import { ServedModels } from '../server/models.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

if (cluster.isPrimary) {
  setupClusterLimits();
  const workers = Number(env('WORKERS'));
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers) process.stdout.write('ready\n');
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  const model = await loadPredictor(env('BUNDLE'), env('ARTIFACTS'));
  const models = new ServedModels();
  models.add(model);
  models.ready = true;
  const app = createApp(models, { rateLimit: Number(env('RATE_LIMIT')), rowsPerMinute: Number(env('ROWS_PER_MINUTE')) });
  const id = String(cluster.worker?.id);
  createServer((req, res) => {
    res.setHeader('X-Worker', id);
    app(req, res);
  }).listen(Number(env('PORT')), '127.0.0.1');
}
