/**
 * A small table whose every column is complete in training (a date, a number, a category, a
 * boolean), and bundles trained on it: what `mlpipe predict` tests score files against (issue 11,
 * "one missing cell sinks a whole scoring run").
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPipelineConfig } from '../core/pipeline/config.js';
import { runPipeline } from '../core/pipeline/run.js';
import { mulberry32 } from './random.js';

/** The input columns of the scoring table, in file order (the target `label` comes last). */
export const SCORING_COLUMNS = ['date', 'area', 'color', 'ok'] as const;

/** One row of the scoring table (as CSV text cells), its label a function of area and color. */
export function scoringRow(rand: () => number): string[] {
  const month = 1 + Math.floor(rand() * 12);
  const day = 1 + Math.floor(rand() * 28);
  const area = Math.round(rand() * 1000) / 100;
  const color = ['red', 'blue', 'green'][Math.floor(rand() * 3)]!;
  const ok = rand() < 0.5 ? 'true' : 'false';
  return [`2024-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`, String(area), color, ok];
}

/** CSV text of `rows` (cells as given), with the header of the input columns (and `label` when `withLabel`). */
export function scoringCsv(rows: string[][], withLabel = false): string {
  const header = [...SCORING_COLUMNS, ...(withLabel ? ['label'] : [])].join(',');
  return `${[header, ...rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(','))].join('\n')}\n`;
}

/**
 * Trains bundles on a 200-row scoring table in `dir`: `scoring` (every input optional) and, unless
 * `strict` is false, `scoring-strict` (the config marks `area` required). Returns the store.
 */
export async function buildScoringBundles(dir: string, { trees = 10, strict = true }: { trees?: number; strict?: boolean } = {}): Promise<string> {
  const rand = mulberry32(11);
  const rows = Array.from({ length: 200 }, () => {
    const r = scoringRow(rand);
    const label = Number(r[1]) > 5 === (r[2] === 'red') ? 'high' : 'low';
    return [...r, label];
  });
  await writeFile(join(dir, 'train.csv'), scoringCsv(rows, true));
  const artifacts = join(dir, 'store');
  const configs: [string, string][] = [['scoring', '']];
  if (strict) configs.push(['scoring-strict', 'features:\n  required: [area]\n']);
  for (const [name, extra] of configs) {
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, `source: train.csv\ntarget: label\nname: ${name}\n${extra}`);
    await runPipeline({ config: await readPipelineConfig(file), seed: 3, model: { trees }, artifacts, defaultArtifacts: artifacts });
  }
  return artifacts;
}
