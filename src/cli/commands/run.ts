import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { featurizeLines } from './featurize.js';
import { type ModelFlags, forestParamsFrom, modelOptions, searchFrom } from './train.js';
import { progressReporter } from '../progress.js';
import { metricsLines } from '../render.js';

const CONFIG_EXT = /\.(ya?ml)$/i;

/** `mlpipe run (<pipeline.yaml> | <source> --target <col> --name <name>)`: load → featurize → train → package. */
export function registerRun(program: Command, ctx: CliContext): void {
  modelOptions(
    program
      .command('run')
      .description('load, featurize, train and package in one go; prints the bundle reference (name@version) last')
      .argument('<config-or-source>', 'a pipeline.yaml, or a data file (then --target and --name are needed)')
      .option('-t, --target <column>', 'column to predict')
      .option('-n, --name <name>', 'bundle name')
      .option('--format <format>', 'input format, overriding the extension')
      .option('--version <X.Y.Z>', 'bundle version (default: next patch version)')
      .option('--artifacts <dir>', 'bundle store (default: the config\'s package.artifacts, $MLPIPE_ARTIFACTS or ./artifacts)')
      .option('--work-dir <dir>', 'keep the intermediate dataset, features and model folders here'),
  )
    .option('--json', 'print one JSON document (with the bundle reference as "bundle")')
    .action(async (input: string, opts: ModelFlags & { target?: string; name?: string; format?: string; version?: string; artifacts?: string; workDir?: string }) => {
      const { readPipelineConfig } = await import('../../core/pipeline/config.js');
      const { runPipeline } = await import('../../core/pipeline/run.js');
      const isConfig = CONFIG_EXT.test(input);
      const config = isConfig ? await readPipelineConfig(input) : undefined;
      const progress = progressReporter(ctx, !opts.json);
      const result = await runPipeline({
        config,
        source: isConfig ? undefined : input,
        format: opts.format,
        target: opts.target,
        name: opts.name,
        task: opts.task,
        seed: opts.seed,
        model: forestParamsFrom(opts),
        holdout: opts.holdout,
        version: opts.version,
        artifacts: opts.artifacts === undefined ? undefined : ctx.artifacts(opts.artifacts),
        defaultArtifacts: ctx.artifacts(undefined),
        workDir: opts.workDir,
        stdin: ctx.io.stdin,
        env: ctx.io.env,
        engine: opts.engine,
        jobs: opts.jobs,
        cv: opts.cv,
        oob: opts.oob,
        search: searchFrom(opts),
        onProgress: progress.onProgress,
      }).finally(() => progress.stop());
      if (opts.json) {
        ctx.json({
          bundle: result.package.ref,
          dir: result.package.dir,
          rows: result.load.table.rowCount,
          task: result.train.training.task,
          featurizers: result.featurize.info.summary,
          params: result.train.training.model.params,
          metrics: result.train.metrics,
          warnings: result.load.warnings,
        });
        return;
      }
      for (const w of result.load.warnings) ctx.note(`warning: ${w}`);
      for (const line of featurizeLines(result.featurize.info)) ctx.out(line);
      for (const line of metricsLines(result.train.metrics)) ctx.out(line);
      ctx.out(`wrote ${result.package.dir}`);
      ctx.out(result.package.ref);
    });
}
