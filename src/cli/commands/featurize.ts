import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { whileInterruptible } from '../interrupt.js';
import { oneOf } from '../parse.js';

/** Prints what featurize picked: one line per step and per dropped column. */
export function featurizeLines(info: { rows: number; rowsWithoutTarget: number; featureCount: number; target: { name: string; task: string; classes?: string[] }; summary: { steps: string[]; dropped: { column: string; reason: string }[] } }): string[] {
  const lines = info.summary.steps.map((s) => `  ${s}`);
  for (const d of info.summary.dropped) lines.push(`  ${d.column}: dropped (${d.reason})`);
  const classes = info.target.classes ? ` with ${info.target.classes.length} classes` : '';
  lines.unshift(`target ${info.target.name}: ${info.target.task}${classes}`);
  if (info.rowsWithoutTarget > 0) lines.push(`note: ${info.rowsWithoutTarget} row(s) without a target value were left out`);
  lines.push(`${info.rows} rows → ${info.featureCount} features`);
  return lines;
}

/** `mlpipe featurize <dataset> --out <dir> (--target <col> | --config <pipeline.yaml>)`. */
export function registerFeaturize(program: Command, ctx: CliContext): void {
  program
    .command('featurize')
    .description('fit feature extractors on a dataset and write the feature matrix, fitted state and input schema')
    .argument('<dataset>', 'a dataset written by load (.arrow) or any file load reads')
    .requiredOption('-o, --out <dir>', 'features folder to write')
    .option('-t, --target <column>', 'column to predict')
    .option('-c, --config <pipeline.yaml>', 'pipeline config (target and feature choices)')
    .option('--task <task>', 'classification or regression (default: inferred from the target)', oneOf(['classification', 'regression'] as const))
    .option('--json', 'print one JSON document')
    .action(async (dataset: string, opts: { out: string; target?: string; config?: string; task?: 'classification' | 'regression'; json?: boolean }) => {
      if (!opts.target && !opts.config) throw new ConfigError('--target: give the column to predict (or --config pipeline.yaml)');
      const { readPipelineConfig } = await import('../../core/pipeline/config.js');
      const config = opts.config ? await readPipelineConfig(opts.config) : undefined;
      const { loadSource } = await import('../../core/data/load.js');
      const { featurize } = await import('../../core/pipeline/featurize.js');
      const { throwIfAborted } = await import('../../core/abort.js');
      // Ctrl-C / SIGTERM: stop, remove the temporary files (the load's spool), exit 130; no features folder is left.
      const result = await whileInterruptible(async (signal) => {
        const data = await loadSource({ source: dataset, stdin: ctx.io.stdin, env: ctx.io.env, types: config?.source.types, onBadRow: config?.source.onBadRow, inferRows: config?.source.inferRows, chunkRows: config?.source.chunkRows, signal });
        throwIfAborted(signal);
        return featurize({
            data,
            target: (opts.target ?? config?.target) as string,
            out: opts.out,
            features: config?.features,
            task: opts.task ?? config?.task,
            configSha256: config?.sha256,
            seed: config?.seed,
            signal,
          });
      });
      if (opts.json) {
        ctx.json({ out: opts.out, ...result.info, profile: undefined, lineage: result.info.lineage });
        return;
      }
      for (const line of featurizeLines(result.info)) ctx.out(line);
      ctx.out(`wrote ${opts.out}`);
    });
}
