import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { type FeaturizerModuleFlag, featurizerModule, integer, oneOf } from '../parse.js';

/** `mlpipe predict <bundle-ref> --input <file|-> --out <file|->`. */
export function registerPredict(program: Command, ctx: CliContext): void {
  program
    .command('predict')
    .description('predict every row of a file with a bundle (same validation and featurizers as the server)')
    .argument('<bundle-ref>', 'bundle folder, name, name@1.2.0 or name@alias')
    .requiredOption('-i, --input <file>', 'CSV, TSV, JSON or NDJSON file, or - for stdin (NDJSON or CSV)')
    .option('-o, --out <file>', 'output file (.csv, .json, .ndjson) or - for stdout as NDJSON', '-')
    .option('--format <format>', 'input format, overriding the extension')
    .option('--out-format <format>', 'output format, overriding the extension', oneOf(['csv', 'json', 'ndjson'] as const))
    .option('--id <column>', 'copy this input column into each output record')
    .option('-j, --jobs <n>', 'threads for big inputs (default: every core; results do not depend on it)', integer(1, 256))
    .option('--artifacts <dir>', 'bundle store (default: $MLPIPE_ARTIFACTS or ./artifacts)')
    .option('--featurizer-module <name=path>', "a custom featurizer's module (repeatable); refused unless its sha256 is the one the bundle recorded", featurizerModule)
    .action(async (ref: string, opts: { input: string; out: string; format?: string; outFormat?: 'csv' | 'json' | 'ndjson'; id?: string; jobs?: number; artifacts?: string; featurizerModule?: FeaturizerModuleFlag[] }) => {
      const { predictFile } = await import('../../core/pipeline/predict.js');
      const result = await predictFile({
        ref,
        artifacts: ctx.artifacts(opts.artifacts),
        input: opts.input,
        out: opts.out,
        format: opts.format,
        outFormat: opts.outFormat,
        id: opts.id,
        jobs: opts.jobs,
        featurizers: opts.featurizerModule,
        stdin: ctx.io.stdin,
        stdout: ctx.io.stdout,
      });
      if (opts.out !== '-') ctx.note(`predicted ${result.rows} rows with ${result.model} → ${result.out}`);
    });
}
