import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RunResult, runPipeline } from '../core/pipeline/run.js';
import { mulberry32, pick } from './random.js';

/** A column name and a category value that would break a page that did not escape them. */
export const HOSTILE_COLUMN = '<img src=x onerror=alert(1)> "ratio"';
export const HOSTILE_VALUE = '<script>alert("x")</script>';

/** The report test bundles: binary (with CV and hostile names), regression, multiclass (with search), no holdout. */
export interface ReportBundles {
  artifacts: string;
  binary: RunResult;
  regression: RunResult;
  multiclass: RunResult;
  noHoldout: RunResult;
}

async function csv(dir: string, name: string, header: string[], rows: (string | number)[][]): Promise<string> {
  const quote = (v: string | number) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  const file = join(dir, name);
  await writeFile(file, `${[header, ...rows].map((r) => r.map(quote).join(',')).join('\n')}\n`);
  return file;
}

/** Trains and packages the report test bundles into `dir/artifacts` (few trees: a few seconds). */
export async function buildReportBundles(dir: string): Promise<ReportBundles> {
  const rnd = mulberry32(42);
  const artifacts = join(dir, 'artifacts');
  const cities = ['Lyon', 'Porto', HOSTILE_VALUE, 'Oslo'];
  const binaryRows = Array.from({ length: 300 }, (_, i) => {
    const x = rnd() * 10;
    const city = pick(rnd, cities);
    // Day-first numeric dates (15/01/2024): the order is learned at load and shown in the profile.
    const [y, m, d] = new Date(Date.UTC(2024, 0, 1 + (i % 365))).toISOString().slice(0, 10).split('-');
    const day = `${d}/${m}/${y}`;
    const churn = x + (city === 'Porto' ? 3 : 0) + rnd() * 6 > 9 ? 'yes' : 'no';
    return [rnd() < 0.05 ? '' : +x.toFixed(3), city, day, churn];
  });
  const binaryCsv = await csv(dir, 'churn.csv', [HOSTILE_COLUMN, 'city', 'signup', 'churn'], binaryRows);
  const regressionRows = Array.from({ length: 300 }, () => {
    const a = rnd() * 5;
    const b = pick(rnd, ['s', 'm', 'l']);
    return [+a.toFixed(3), b, +(a * 3 + (b === 'l' ? 4 : 0) + rnd()).toFixed(3)];
  });
  const regressionCsv = await csv(dir, 'price.csv', ['size', 'grade', 'price'], regressionRows);
  const common = { artifacts, defaultArtifacts: artifacts, seed: 3, model: { trees: 15 } };
  const binary = await runPipeline({ ...common, source: binaryCsv, target: 'churn', name: 'churn', cv: 3 });
  const regression = await runPipeline({ ...common, source: regressionCsv, target: 'price', name: 'price' });
  const multiclass = await runPipeline({ ...common, source: binaryCsv, target: 'city', name: 'city', search: { strategy: 'random', trials: 2, folds: 2 } });
  const noHoldout = await runPipeline({ ...common, source: regressionCsv, target: 'price', name: 'price-all', holdout: 0 });
  return { artifacts, binary, regression, multiclass, noHoldout };
}
