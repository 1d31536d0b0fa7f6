import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ENGINES, type Engine, type ForestParams } from '../../core/models/forest-format.js';
import { FOREST_PARAMS, type ForestParamSpec, defaultText, expectation, flagOf, inDomain } from '../../core/models/params.js';
import type { SearchOptions } from '../../core/pipeline/train.js';
import type { CliContext } from '../context.js';
import { fraction, integer, oneOf } from '../parse.js';
import { progressReporter } from '../progress.js';
import { metricsLines } from '../render.js';

/** Forest and evaluation options shared by `train` and `run`. */
export interface ModelFlags extends Partial<ForestParams> {
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

/** A forest parameter's option, generated from its declaration (core/models/params.ts). */
function forestOption(spec: ForestParamSpec): Option {
  const domain = spec.domain;
  const expected = expectation(spec);
  const parse = (text: string): ForestParams[typeof spec.name] => {
    const value = domain.kind === 'share' && domain.words?.includes(text) ? text : text.trim() === '' ? Number.NaN : Number(text);
    if (!inDomain(spec, value)) throw new InvalidArgumentError(`expected ${expected}, got "${text}"`);
    return value as ForestParams[typeof spec.name];
  };
  const metavar = domain.kind === 'integer' ? '<n>' : '<v>';
  const hist = spec.mljsRefuses !== undefined ? '; engine hist only' : '';
  return new Option(`${flagOf(spec)} ${metavar}`, `${spec.summary}: ${expected} (default: ${defaultText(spec)}${hist})`).argParser(parse);
}

/** Adds the forest and evaluation options to a command. */
export function modelOptions(cmd: Command): Command {
  cmd
    .option('--engine <engine>', 'hist (mlpipe\'s, default) or mljs (ml-random-forest itself, slow; the reference)', oneOf(ENGINES))
    .option('-j, --jobs <n>', 'worker threads for engine hist (default: every core; results do not depend on it)', integer(1, 256));
  for (const spec of FOREST_PARAMS) cmd.addOption(forestOption(spec));
  return cmd
    .option('--holdout <fraction>', 'fraction of rows held out for evaluation (default 0.2; 0 = none)', fraction(0, 0.9))
    .option('--cv <k>', 'also run k-fold cross-validation (stratified for classification)', integer(2, 100))
    .option('--oob', 'also score the final model out of bag (engine hist)')
    .option('--search <strategy>', 'hyperparameter search before evaluation: random or grid (scored by k-fold CV)', oneOf(['random', 'grid'] as const))
    .option('--search-trials <n>', 'random search: number of trials (default 10)', integer(1, 1000))
    .option('--task <task>', 'classification or regression (default: inferred from the target)', oneOf(['classification', 'regression'] as const));
}

/** The forest parameters given on the command line but the seed (unset ones left out). */
export function forestParamsFrom(flags: ModelFlags): Partial<Omit<ForestParams, 'seed'>> {
  const p: Record<string, unknown> = {};
  for (const { name } of FOREST_PARAMS) if (name !== 'seed' && flags[name] !== undefined) p[name] = flags[name];
  return p as Partial<Omit<ForestParams, 'seed'>>;
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
      .option('-c, --config <pipeline.yaml>', 'take model and evaluation settings from a pipeline config'),
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
