/**
 * Bundles of every shape an HTTP API document must describe, in one store: `churn` (a binary
 * classifier whose labels are `Yes`/`No`, with column names that are awkward in JSON, TypeScript and
 * HTML: spaces, dots, unicode, `__proto__`, `constructor`, a quote, markup), `penguins` (multi-class) and
 * `cars` (regression).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPipelineConfig } from '../core/pipeline/config.js';
import { runPipeline } from '../core/pipeline/run.js';
import { buildExampleBundle } from './fixtures.js';
import { mulberry32 } from './random.js';

/** The input columns of `churn`, in file order (target `Churn` last). */
export const CHURN_COLUMNS = ['monthly spend', 'plan.tier', 'größe', '__proto__', 'constructor', 'say "hi"', '<i>note</i>'] as const;

/** A churn row's input cells, with its label a function of spend and tier. */
function churnRow(rand: () => number): { cells: string[]; label: string } {
  const spend = Math.round(rand() * 10000) / 100;
  const tier = ['basic', 'pro', 'team'][Math.floor(rand() * 3)]!;
  const size = String(1 + Math.floor(rand() * 5));
  const proto = rand() < 0.5 ? 'a' : 'b';
  const ctor = String(Math.round(rand() * 100) / 10);
  const hi = rand() < 0.5 ? 'true' : 'false';
  const note = ['a & b', '</td>', 'x'][Math.floor(rand() * 3)]!;
  const label = (spend > 50) === (tier === 'basic') ? 'Yes' : 'No';
  return { cells: [String(spend), tier, size, proto, ctor, hi, note], label };
}

const csvCell = (c: string) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);

/** Trains `churn`, `penguins` and `cars` (few trees) into `<dir>/store` and returns the store. */
export async function buildApiBundles(dir: string): Promise<string> {
  const artifacts = join(dir, 'store');
  const rand = mulberry32(5);
  const lines = [[...CHURN_COLUMNS, 'Churn'].map(csvCell).join(',')];
  for (let i = 0; i < 160; i++) {
    const { cells, label } = churnRow(rand);
    lines.push([...cells, label].map(csvCell).join(','));
  }
  await writeFile(join(dir, 'churn.csv'), `${lines.join('\n')}\n`);
  await writeFile(join(dir, 'churn.yaml'), 'source: churn.csv\ntarget: Churn\nname: churn\n');
  await runPipeline({ config: await readPipelineConfig(join(dir, 'churn.yaml')), seed: 3, model: { trees: 8 }, artifacts, defaultArtifacts: artifacts });
  await buildExampleBundle({ artifacts, example: 'penguins', name: 'penguins', trees: 5 });
  await buildExampleBundle({ artifacts, example: 'cars', name: 'cars', trees: 5 });
  return artifacts;
}
