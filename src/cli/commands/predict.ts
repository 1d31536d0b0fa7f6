import { type Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { MlpipeError } from '../../core/errors.js';
import type { PredictOnBadRow } from '../../core/pipeline/predict.js';
import type { SourceFlags as SourceSpecFlags } from '../../core/data/sources/index.js';
import { whileInterruptible } from '../interrupt.js';
import { ARTIFACTS_OPTION, type FeaturizerModuleFlag, featurizerModule, integer, onBadRowOption, oneOf } from '../parse.js';
import { SOURCE_ARGUMENT, readingOptions } from '../source-options.js';
import { keyFiles, readTrusted } from './keys.js';

/** The choices of predict's `--on-bad-row` (core/pipeline/predict.ts PREDICT_ON_BAD_ROW, stated here so the CLI loads core lazily). */
const ON_BAD_ROW: readonly PredictOnBadRow[] = ['null', 'skip', 'fail'];

/** `3 rows could not be predicted (written with an error column); first: row 17 (line 18), column "date": …`. */
function badRowsLine(result: { badRows: number; onBadRow: PredictOnBadRow; firstBadRow?: { row: number; line?: number; error: string } }, csv: boolean): string {
  const n = result.badRows;
  const how = result.onBadRow === 'skip' ? 'left out' : `written with an error ${csv ? 'column' : 'field'}`;
  const first = result.firstBadRow;
  const where = first ? (first.line !== undefined && first.line !== first.row ? `row ${first.row} (line ${first.line})` : `row ${first.row}`) : '';
  // A row the reader refused says where it is itself (`line 7: expected 4 fields …`): not twice.
  const prefix = first?.line !== undefined ? `line ${first.line}: ` : `row ${first?.row}: `;
  const error = first?.error.startsWith(prefix) ? first.error.slice(prefix.length) : first?.error;
  return `${n} row${n === 1 ? '' : 's'} could not be predicted (${how})${first ? `; first: ${where}: ${error}` : ''}`;
}

/** Every option `mlpipe predict` takes. */
interface PredictFlags extends SourceSpecFlags {
  input?: string;
  out: string;
  outFormat?: 'csv' | 'json' | 'ndjson' | 'parquet';
  outTable?: string;
  id?: string;
  jobs?: number;
  chunkRows?: number;
  artifacts?: string;
  featurizerModule?: FeaturizerModuleFlag[];
  requireSignature?: string[];
  onBadRow: PredictOnBadRow;
  json?: boolean;
}

/**
 * `mlpipe predict <bundle-ref> --input <source> --out <file|-|database>`: every row of any source `load`
 * reads, predicted chunk by chunk, written as it goes.
 */
export function registerPredict(program: Command, ctx: CliContext): void {
  readingOptions(
    program
      .command('predict')
      .description('predict every row of a source with a bundle (same validation and featurizers as the server), streaming: memory stays at a few chunks')
      .argument('<bundle-ref>', 'bundle folder, name, name@1.2.0 or name@alias')
      .option('-i, --input <source>', `what to predict, as for load: ${SOURCE_ARGUMENT}`)
      .option('-o, --out <target>', 'output: a .csv, .json, .ndjson or .parquet file, - for stdout (NDJSON unless --out-format), or a database URL with --out-table', '-')
      .option('--out-format <format>', 'output format, overriding the extension', oneOf(['csv', 'json', 'ndjson', 'parquet'] as const))
      .option('--out-table <name>', 'with --out <database URL>: the table the predictions go to (created, or appended to), in one transaction')
      .option('--id <column>', 'copy this input column into each output record'),
  )
    .option('-j, --jobs <n>', 'threads for big inputs (default: every core; results do not depend on it)', integer(1, 256))
    .option(...ARTIFACTS_OPTION)
    .option('--featurizer-module <name=path>', "a custom featurizer's module (repeatable); refused unless its sha256 is the one the bundle recorded", featurizerModule)
    .addOption(
      onBadRowOption(
        ON_BAD_ROW,
        'a row that cannot be predicted (a value of the wrong type, an impossible date, a required field missing, a CSV row with the wrong number of fields, an NDJSON line that is not a JSON object): write it with an empty prediction and an error column (null), leave it out (skip), or stop with exit 1 naming it (fail; nothing is written)',
        'null',
      ),
    )
    .addOption(
      new Option('--require-signature <pub.pem[,other.pem]>', 'predict only with a bundle signed by one of these public keys (comma-separated): an unsigned bundle, one signed by another key or changed after signing is refused')
        .argParser(keyFiles)
        .env('MLPIPE_REQUIRE_SIGNATURE'),
    )
    .option('--json', 'print one JSON document (model, rows, badRows, firstBadRow) instead of the summary line; needs --out FILE')
    .action(async (ref: string, opts: PredictFlags) => {
      if (opts.json && opts.out === '-') throw new MlpipeError('usage', '--json prints its document on stdout, where --out - writes the predictions: give --out a file');
      const { parseSourceArgument } = await import('../../core/data/sources/index.js');
      if (opts.input === undefined && opts.fromCommand === undefined) throw new MlpipeError('usage', '--input: give what to predict (a file, -, a database URL or an http(s) URL) or --from-command');
      const source = parseSourceArgument(opts.input, opts, ctx.io.env);
      const { predictSource } = await import('../../core/pipeline/predict.js');
      const requireSignature = opts.requireSignature ? await readTrusted(ctx, opts.requireSignature) : undefined;
      // Ctrl-C / SIGTERM: stop, leave no output behind, exit 130.
      const result = await whileInterruptible((signal) =>
        predictSource({
          ref,
          artifacts: ctx.artifacts(opts.artifacts),
          source,
          out: opts.out,
          outFormat: opts.outFormat,
          outTable: opts.outTable,
          id: opts.id,
          jobs: opts.jobs,
          chunkRows: opts.chunkRows,
          featurizers: opts.featurizerModule,
          ...(requireSignature ? { requireSignature } : {}),
          onBadRow: opts.onBadRow,
          stdin: ctx.io.stdin,
          stdout: ctx.io.stdout,
          env: ctx.io.env,
          signal,
        }),
      );
      if (result.badRows > 0) ctx.note(badRowsLine(result, result.format !== 'json' && result.format !== 'ndjson'));
      if (opts.json) {
        ctx.json(result);
        return;
      }
      if (opts.out !== '-') ctx.note(`predicted ${result.predicted} rows with ${result.model} → ${result.out}${result.outTable !== undefined ? ` table ${result.outTable}` : ''}`);
    });
}
