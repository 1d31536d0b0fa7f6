import { join } from 'node:path';
import type { Command } from 'commander';
import type { Engine, ForestParams } from '../../core/models/forest-format.js';
import type { SearchOptions } from '../../core/pipeline/train.js';
import type { CliContext } from '../context.js';
import { fraction, integer, maxFeatures, oneOf, positive } from '../parse.js';
import { progressReporter } from '../progress.js';
import { metricsLines } from '../render.js';

/** Forest and evaluation options shared by `train` and `run`. */
export interface ModelFlags {
  seed?: number;
  trees?: number;
  maxDepth?: number;
  maxFeatures?: ForestParams['maxFeatures'];
  minSamplesSplit?: number;
  minSamplesLeaf?: number;
  maxSamples?: number;
  holdout?: number;
  task?: 'classification' | 'regression';
  engine?: Engine;
  jobs?: number;
  cv?: number;
  oob?: boolean;
  search?: 'random' | 'grid';
  searchTrials?: number;
  json?: boolean;
}

/** Adds the forest and evaluation options to a command. */
export function modelOptions(cmd: Command): Command {
  return cmd
    .option('--engine <engine>', 'hist (mlpipe\'s, default) or mljs (ml-random-forest itself, slow; the reference)', oneOf(['hist', 'mljs'] as const))
    .option('-j, --jobs <n>', 'worker threads for engine hist (default: every core; results do not depend on it)', integer(1, 256))
    .option('--seed <n>', 'seed for every random choice (default: random, recorded in the bundle)', integer(0, 2 ** 31 - 1))
    .option('--trees <n>', 'number of trees (default 100)', integer(1, 10_000))
    .option('--max-depth <n>', 'maximum tree depth (default: unlimited)', integer(1, 1000))
    .option('--max-features <v>', 'features per split (hist) or per tree (mljs): sqrt, log2, all, a fraction or a count (default: sqrt for classification, all for regression; mljs: 0.7 / all)', maxFeatures)
    .option('--min-samples-split <n>', 'samples a node needs to be split (default 2; mljs 4)', integer(2))
    .option('--min-samples-leaf <n>', 'samples each leaf keeps at least (default 1)', integer(1))
    .option('--max-samples <v>', 'bootstrap sample per tree: a fraction in (0, 1] or a count (default: as many as rows)', positive)
    .option('--holdout <fraction>', 'fraction of rows held out for evaluation (default 0.2; 0 = none)', fraction(0, 0.9))
    .option('--cv <k>', 'also run k-fold cross-validation (stratified for classification)', integer(2, 100))
    .option('--oob', 'also score the final model out of bag (engine hist)')
    .option('--search <strategy>', 'hyperparameter search before evaluation: random or grid (scored by k-fold CV)', oneOf(['random', 'grid'] as const))
    .option('--search-trials <n>', 'random search: number of trials (default 10)', integer(1, 1000))
    .option('--task <task>', 'classification or regression (default: inferred from the target)', oneOf(['classification', 'regression'] as const));
}

/** The forest parameters given on the command line (unset ones left out). */
export function forestParamsFrom(flags: ModelFlags): Partial<Omit<ForestParams, 'seed'>> {
  const p: Partial<Omit<ForestParams, 'seed'>> = {};
  if (flags.trees !== undefined) p.trees = flags.trees;
  if (flags.maxDepth !== undefined) p.maxDepth = flags.maxDepth;
  if (flags.maxFeatures !== undefined) p.maxFeatures = flags.maxFeatures;
  if (flags.minSamplesSplit !== undefined) p.minSamplesSplit = flags.minSamplesSplit;
  if (flags.minSamplesLeaf !== undefined) p.minSamplesLeaf = flags.minSamplesLeaf;
  if (flags.maxSamples !== undefined) p.maxSamples = flags.maxSamples;
  return p;
}

/** The search asked for on the command line, if any. */
export function searchFrom(flags: ModelFlags): SearchOptions | undefined {
  if (!flags.search) return undefined;
  return { strategy: flags.search, ...(flags.searchTrials !== undefined ? { trials: flags.searchTrials } : {}), ...(flags.cv ? { folds: flags.cv } : {}) };
}

/** `mlpipe train <features-dir> --out <dir>`. */
export function registerTrain(program: Command, ctx: CliContext): void {
  modelOptions(
    program
      .command('train')
      .description('train a random forest on a features folder: holdout (and optional k-fold CV) against a baseline, then refit on all rows; writes the model folder with report.html')
      .argument('<features-dir>', 'folder written by featurize')
      .requiredOption('-o, --out <dir>', 'model folder to write')
      .option('-c, --config <pipeline.yaml>', 'take model and evaluation settings from a pipeline config')
      .option('--model <type>', 'model type', oneOf(['random-forest'] as const), 'random-forest'),
  )
    .option('--json', 'print one JSON document')
    .action(async (featuresDir: string, opts: ModelFlags & { out: string; config?: string }) => {
      const { readPipelineConfig } = await import('../../core/pipeline/config.js');
      const { train } = await import('../../core/pipeline/train.js');
      const config = opts.config ? await readPipelineConfig(opts.config) : undefined;
      const { type: _type, engine: configEngine, ...configModel } = config?.model ?? { type: 'random-forest' };
      const evaluation = config?.evaluation ?? {};
      const seed = opts.seed ?? config?.seed;
      const progress = progressReporter(ctx, !opts.json);
      try {
        const result = await train({
          features: featuresDir,
          out: opts.out,
          task: opts.task ?? config?.task,
          engine: opts.engine ?? configEngine,
          jobs: opts.jobs,
          params: { ...configModel, ...forestParamsFrom(opts), ...(seed !== undefined ? { seed } : {}) },
          holdout: opts.holdout ?? evaluation.holdout,
          cv: opts.cv ?? evaluation.cv,
          oob: opts.oob ?? evaluation.oob,
          search: searchFrom(opts) ?? evaluation.search,
          permutationRepeats: evaluation.permutationRepeats,
          onProgress: progress.onProgress,
        });
        progress.stop();
        if (opts.json) {
          ctx.json({ out: opts.out, task: result.training.task, classes: result.training.classes, engine: result.training.model.engine, params: result.training.model.params, metrics: result.metrics, durationMs: result.training.durationMs });
          return;
        }
        for (const line of metricsLines(result.metrics)) ctx.out(line);
        const p = result.training.model.params;
        ctx.out(`wrote ${opts.out} (${p.trees} trees, engine ${result.training.model.engine}, seed ${p.seed}, ${(result.training.durationMs / 1000).toFixed(1)} s)`);
        ctx.out(`report: ${join(opts.out, 'report.html')}`);
      } finally {
        progress.stop();
      }
    });
}
