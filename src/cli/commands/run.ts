import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { MlpipeError } from '../../core/errors.js';
import type { SourceSpec } from '../../core/data/sources/types.js';
import { featurizeLines } from './featurize.js';
import { SOURCE_ARGUMENT, type SourceFlags, sourceOptions } from '../source-options.js';
import { type ModelFlags, forestParamsFrom, modelOptions, searchFrom } from './train.js';
import { progressReporter } from '../progress.js';
import { whileInterruptible } from '../interrupt.js';
import { metricsLines } from '../render.js';
import { readSigning } from './keys.js';

const CONFIG_EXT = /\.(ya?ml)$/i;

/** Source flags that make no sense beside a pipeline.yaml (its source: section says all of it). */
const SOURCE_FLAG_KEYS: Record<string, true> = Object.fromEntries(
  ['delimiter', 'quote', 'encoding', 'sheet', 'range', 'query', 'table', 'fromCommand', 'recordsPath', 'method', 'data', 'httpHeader', 'bearerEnv', 'paginate', 'pageParam', 'pageSize', 'cursorPath', 'maxRecords', 'retries', 'timeout', 'types', 'onBadRow', 'inferRows', 'chunkRows'].map((k) => [k, true]),
);

/** `mlpipe run (<pipeline.yaml> | <source> --target <col> --name <name>)`: load → featurize → train → package. */
export function registerRun(program: Command, ctx: CliContext): void {
  modelOptions(
    sourceOptions(
    program
      .command('run')
      .description('load, featurize, train and package in one go; prints the bundle reference (name@version) last')
      .argument('[config-or-source]', `a pipeline.yaml, or a source as for load (then --target and --name are needed): ${SOURCE_ARGUMENT}`)
      .option('-t, --target <column>', 'column to predict')
      .option('-n, --name <name>', 'bundle name')
      .option('--version <X.Y.Z>', 'bundle version (default: next patch version)')
      .option('--artifacts <store>', 'bundle store: a folder or s3://bucket/prefix (default: the config\'s package.artifacts, $MLPIPE_ARTIFACTS or ./artifacts)')
      .option('--work-dir <dir>', 'keep the intermediate dataset, features and model folders here')
      .option('--sign <key.pem>', 'sign the bundle once published (adds signature.json) with this ed25519 private key (mlpipe keys generate)'),
    ),
  )
    .option('--json', 'print one JSON document (with the bundle reference as "bundle")')
    .action(async (input: string | undefined, opts: ModelFlags & SourceFlags & { target?: string; name?: string; version?: string; artifacts?: string; workDir?: string; sign?: string }) => {
      const { readPipelineConfig } = await import('../../core/pipeline/config.js');
      const { runPipeline } = await import('../../core/pipeline/run.js');
      const isConfig = input !== undefined && CONFIG_EXT.test(input);
      const config = isConfig ? await readPipelineConfig(input) : undefined;
      // A config's source can only be changed by --format; a source on the command line takes every source flag.
      let source: SourceSpec | undefined;
      if (!isConfig) {
        const { parseSourceArgument } = await import('../../core/data/sources/index.js');
        source = parseSourceArgument(input, opts, ctx.io.env);
      } else {
        const { format: _format, ...rest } = opts;
        const stray = Object.entries(rest).find(([k, v]) => (v !== undefined && k in SOURCE_FLAG_KEYS) || (k === 'header' && v === false));
        if (stray) throw new MlpipeError('usage', `--${stray[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: give source options in the config's source: section, not with a pipeline.yaml`);
      }
      // The key is read before any work: a wrong key file must not cost a training run.
      const sign = opts.sign === undefined ? undefined : await readSigning(ctx, opts.sign);
      const progress = progressReporter(ctx, !opts.json);
      // Ctrl-C / SIGTERM: stop, remove the work folder and temporary files, exit 130.
      const result = await whileInterruptible((signal) => runPipeline({
        signal,
        config,
        source,
        format: isConfig ? opts.format : undefined,
        types: opts.types,
        onBadRow: opts.onBadRow,
        inferRows: opts.inferRows,
        chunkRows: opts.chunkRows,
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
        ...(sign ? { sign } : {}),
      })).finally(() => progress.stop());
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
          ...(result.package.signature ? { signature: { keyId: result.package.signature.keyId, signedAt: result.package.signature.signedAt } } : {}),
        });
        return;
      }
      for (const w of result.load.warnings) ctx.note(`warning: ${w}`);
      for (const line of featurizeLines(result.featurize.info)) ctx.out(line);
      for (const line of metricsLines(result.train.metrics)) ctx.out(line);
      ctx.out(`wrote ${result.package.dir}`);
      ctx.out(`report: ${result.package.report}`);
      if (result.package.signature) ctx.out(`signed with key ${result.package.signature.keyId} (${opts.sign})`);
      ctx.out(result.package.ref);
    });
}
