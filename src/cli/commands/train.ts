import type { Command } from 'commander';
import type { ForestParams } from '../../core/models/forest-format.js';
import type { CliContext } from '../context.js';
import { fraction, integer, maxFeatures, oneOf } from '../parse.js';
import { metricsLines } from '../render.js';

/** Forest options shared by `train` and `run`. */
export interface ModelFlags {
  seed?: number;
  trees?: number;
  maxDepth?: number;
  maxFeatures?: ForestParams['maxFeatures'];
  minSamplesSplit?: number;
  holdout?: number;
  task?: 'classification' | 'regression';
}

/** Adds the forest and evaluation options to a command. */
export function modelOptions(cmd: Command): Command {
  return cmd
    .option('--seed <n>', 'seed for every random choice (default: random, recorded in the bundle)', integer(0, 2 ** 31 - 1))
    .option('--trees <n>', 'number of trees (default 100)', integer(1, 10_000))
    .option('--max-depth <n>', 'maximum tree depth (default: unlimited)', integer(1, 1000))
    .option('--max-features <v>', 'features per tree: sqrt, log2, all, a fraction or a count (default 0.7 for classification, all for regression)', maxFeatures)
    .option('--min-samples-split <n>', 'rows a node needs to be split (default 4)', integer(2))
    .option('--holdout <fraction>', 'fraction of rows held out for evaluation (default 0.2; 0 = none)', fraction(0, 0.9))
    .option('--task <task>', 'classification or regression (default: inferred from the target)', oneOf(['classification', 'regression'] as const));
}

/** The forest parameters given on the command line (unset ones left out). */
export function forestParamsFrom(flags: ModelFlags): Partial<Omit<ForestParams, 'seed'>> {
  return {
    ...(flags.trees !== undefined ? { trees: flags.trees } : {}),
    ...(flags.maxDepth !== undefined ? { maxDepth: flags.maxDepth } : {}),
    ...(flags.maxFeatures !== undefined ? { maxFeatures: flags.maxFeatures } : {}),
    ...(flags.minSamplesSplit !== undefined ? { minSamplesSplit: flags.minSamplesSplit } : {}),
  };
}

/** `mlpipe train <features-dir> --out <dir>`. */
export function registerTrain(program: Command, ctx: CliContext): void {
  modelOptions(
    program
      .command('train')
      .description('train a random forest on a features folder, evaluate it on a holdout against a baseline, refit on all rows')
      .argument('<features-dir>', 'folder written by featurize')
      .requiredOption('-o, --out <dir>', 'model folder to write')
      .option('-c, --config <pipeline.yaml>', 'take model and evaluation settings from a pipeline config')
      .option('--model <type>', 'model type', oneOf(['random-forest'] as const), 'random-forest'),
  )
    .option('--json', 'print one JSON document')
    .action(async (featuresDir: string, opts: ModelFlags & { out: string; config?: string; json?: boolean }) => {
      const { readPipelineConfig } = await import('../../core/pipeline/config.js');
      const { train } = await import('../../core/pipeline/train.js');
      const config = opts.config ? await readPipelineConfig(opts.config) : undefined;
      const { type: _type, ...configModel } = config?.model ?? { type: 'random-forest' };
      const seed = opts.seed ?? config?.seed;
      const result = await train({
        features: featuresDir,
        out: opts.out,
        task: opts.task ?? config?.task,
        params: { ...configModel, ...forestParamsFrom(opts), ...(seed !== undefined ? { seed } : {}) },
        holdout: opts.holdout ?? config?.evaluation.holdout,
        onStage: opts.json ? undefined : (s) => ctx.progress(`${s}…`),
      });
      if (opts.json) {
        ctx.json({ out: opts.out, task: result.training.task, classes: result.training.classes, params: result.training.model.params, metrics: result.metrics, durationMs: result.training.durationMs });
        return;
      }
      for (const line of metricsLines(result.metrics)) ctx.out(line);
      ctx.out(`wrote ${opts.out} (${result.training.model.params.trees} trees, seed ${result.training.model.params.seed}, ${(result.training.durationMs / 1000).toFixed(1)} s)`);
    });
}
