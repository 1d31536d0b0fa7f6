/**
 * What the tests of the standard protocols (routes/v2.test.ts, routes/mlflow.test.ts) share: bundles
 * of each kind (a Yes/No classifier with odd column names and missing values, a multi-class one, a
 * regression, an all-numeric one for positional rows), a server for them on port 0, and HTTP helpers.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPipelineConfig } from '../core/pipeline/config.js';
import { runPipeline } from '../core/pipeline/run.js';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import type { Prediction, Predictor } from '../core/predictor/predictor.js';
import { type Reply, listen, reply } from './http.js';
import { createApp } from '../server/app.js';
import { ServedModels } from '../server/models.js';
import type { AppOptions } from '../server/options.js';
import { buildExampleBundle, exampleRecords } from './fixtures.js';
import { mulberry32 } from './random.js';

/** The churn table's input columns: names with dots, spaces and a `$`. */
export const CHURN_COLUMNS = ['age.years', 'plan type', 'monthly.fee ($)', 'auto pay', 'signup date'] as const;

/** One churn row as CSV cells (some missing), and its Yes/No label. */
function churnRow(rand: () => number): { cells: string[]; label: string } {
  const age = 18 + Math.floor(rand() * 60);
  const plan = ['basic', 'plus', 'pro'][Math.floor(rand() * 3)]!;
  const fee = Math.round((10 + rand() * 90) * 100) / 100;
  const auto = rand() < 0.5 ? 'true' : 'false';
  const month = 1 + Math.floor(rand() * 12);
  const date = `2023-${String(month).padStart(2, '0')}-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}`;
  const label = (fee > 55) !== (plan === 'pro') || (auto === 'false' && age < 30) ? 'Yes' : 'No';
  const cells = [String(age), plan, String(fee), auto, date].map((c) => (rand() < 0.06 ? '' : c));
  return { cells, label };
}

/** Records (as a client sends them: typed JSON, missing values null or left out) of the churn table. */
export function churnRecords(n: number, seed = 5): Record<string, unknown>[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const { cells } = churnRow(rand);
    const rec: Record<string, unknown> = {};
    const [age, plan, fee, auto, date] = cells as [string, string, string, string, string];
    if (age !== '') rec['age.years'] = Number(age);
    else if (i % 2 === 0) rec['age.years'] = null;
    rec['plan type'] = plan === '' ? 'basic' : plan;
    if (fee !== '') rec['monthly.fee ($)'] = Number(fee);
    if (auto !== '') rec['auto pay'] = auto === 'true';
    if (date !== '') rec['signup date'] = date;
    return rec;
  });
}

/** The bundles the protocol tests serve, loaded. */
export interface ProtocolModels {
  /** Yes/No classifier; `plan type` is required (features.required). */
  churn: Predictor;
  /** Three species, column names with spaces and parentheses, missing values in Sex. */
  penguins: Predictor;
  /** Regression (miles per gallon), with a date column. */
  cars: Predictor;
  /** Four numeric columns `a`, `b`, `c`, `d` → a category: rows may be sent as arrays. */
  numeric: Predictor;
  penguinRows: Record<string, unknown>[];
  carRows: Record<string, unknown>[];
}

/** Trains the protocol tests' bundles into `dir` (a few trees each) and loads them. */
export async function buildProtocolModels(dir: string): Promise<ProtocolModels> {
  const artifacts = join(dir, 'store');
  const rand = mulberry32(21);
  const churnLines = [[...CHURN_COLUMNS, 'churn'].map((c) => (/[,"]/.test(c) ? `"${c}"` : c)).join(',')];
  for (let i = 0; i < 300; i++) {
    const { cells, label } = churnRow(rand);
    if (cells[1] === '') cells[1] = 'basic';
    churnLines.push([...cells, label].join(','));
  }
  await writeFile(join(dir, 'churn.csv'), `${churnLines.join('\n')}\n`);
  await writeFile(join(dir, 'churn.yaml'), 'source: churn.csv\ntarget: churn\nname: churn\nfeatures:\n  required: ["plan type"]\n');
  const numericLines = ['a,b,c,d,kind'];
  for (let i = 0; i < 120; i++) {
    const [a, b, c, d] = [rand() * 8, rand() * 4, rand() * 7, rand() * 2.5].map((v) => Math.round(v * 10) / 10) as [number, number, number, number];
    numericLines.push(`${a},${b},${c},${d},${c > 3.5 ? (d > 1.7 ? 'virginica' : 'versicolor') : 'setosa'}`);
  }
  await writeFile(join(dir, 'numeric.csv'), `${numericLines.join('\n')}\n`);
  await writeFile(join(dir, 'numeric.yaml'), 'source: numeric.csv\ntarget: kind\nname: numeric\n');
  const refs: string[] = [];
  for (const name of ['churn', 'numeric']) {
    const r = await runPipeline({ config: await readPipelineConfig(join(dir, `${name}.yaml`)), seed: 3, model: { trees: 8 }, artifacts, defaultArtifacts: artifacts });
    refs.push(r.package.ref);
  }
  const p = await buildExampleBundle({ artifacts, example: 'penguins', trees: 8 });
  const c = await buildExampleBundle({ artifacts, example: 'cars', trees: 8 });
  const strip = (rows: Record<string, unknown>[], target: string) =>
    rows.map((r) => {
      const { [target]: _t, ...rest } = r;
      return rest;
    });
  return {
    churn: await loadPredictor(refs[0]!, artifacts),
    numeric: await loadPredictor(refs[1]!, artifacts),
    penguins: await loadPredictor(p.package.ref, artifacts),
    cars: await loadPredictor(c.package.ref, artifacts),
    penguinRows: strip(await exampleRecords('penguins'), 'Species'),
    carRows: strip(await exampleRecords('cars'), 'Miles_per_Gallon'),
  };
}

/** Serves `models` (the first one the default) on 127.0.0.1, any free port; returns the base URL. */
export async function serveModels(models: readonly Predictor[], options: Partial<AppOptions> = {}, ready = true): Promise<string> {
  const served = new ServedModels();
  for (const m of models) served.add(m);
  served.ready = ready;
  return listen(createApp(served, options));
}

export { closeServers, type Reply } from './http.js';

export async function get(url: string, method = 'GET'): Promise<Reply> {
  return reply(await fetch(url, { method }));
}

/** POSTs `body` (bytes or a string as is, anything else as JSON) with `contentType` (none when null). */
export async function post(url: string, body: unknown, contentType: string | null = 'application/json', headers: Record<string, string> = {}): Promise<Reply> {
  const bytes = body instanceof Uint8Array ? body : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
  return reply(
    await fetch(url, {
      method: 'POST',
      headers: { ...(contentType === null ? {} : { 'content-type': contentType }), ...headers },
      // Bytes: fetch gives a string body a text/plain type of its own.
      body: bytes,
    }),
  );
}

/** The predictions `/v1/models/:name/predict/batch` gives for `records`: what every protocol must match. */
export async function v1Predictions(url: string, model: string, records: readonly unknown[]): Promise<Prediction[]> {
  const r = await post(`${url}/v1/models/${model}/predict/batch`, { records });
  if (r.status !== 200) throw new Error(`v1 batch: ${r.status} ${r.text}`);
  return (r.body as { predictions: Prediction[] }).predictions;
}
