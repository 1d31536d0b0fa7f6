import type { Command } from 'commander';
import { dateOrderPattern } from '../../core/values.js';
import type { CliContext } from '../context.js';
import { type SourceFlags, SOURCE_ARGUMENT, loadingOptions, sourceOptions } from '../source-options.js';
import { whileInterruptible } from '../interrupt.js';
import { loadProgressReporter } from '../progress.js';
import { profileTable } from '../render.js';

/** Every option `mlpipe load` takes. */
interface LoadFlags extends SourceFlags {
  out: string;
  profile?: string;
  json?: boolean;
}

/**
 * `mlpipe load [<source>] --out <dataset.arrow>`: a file, stdin, a command's output, an SQL database or
 * an HTTP JSON API into a typed Arrow dataset, streamed with memory bounded by `--chunk-rows`.
 */
export function registerLoad(program: Command, ctx: CliContext): void {
  sourceOptions(
    program
      .command('load')
      .description('read a file, standard input, a command\'s output, an SQL database or an HTTP JSON API into a typed Arrow dataset, and profile it')
      .argument('[source]', SOURCE_ARGUMENT)
      .requiredOption('-o, --out <file>', 'dataset file to write (.arrow)'),
  )
    .option('--profile <file>', 'also write the profile as JSON')
    .option('--json', 'print one JSON document (profile, lineage, warnings)')
    .action(async (source: string | undefined, opts: LoadFlags) => {
      const { parseSourceArgument, specLabel } = await import('../../core/data/sources/index.js');
      const spec = parseSourceArgument(source, opts, ctx.io.env);
      const { loadToDataset } = await import('../../core/data/load.js');
      const progress = loadProgressReporter(ctx, !opts.json, specLabel(spec));
      // Ctrl-C / SIGTERM: stop, remove the temporary files, exit 130 (a second Ctrl-C kills at once).
      const result = await whileInterruptible((signal) =>
        loadToDataset({
          source: spec,
          out: opts.out,
          ...loadingOptions(opts, ctx),
          onProgress: progress.onProgress,
          signal,
        }),
      ).finally(() => progress.stop());
      for (const w of result.warnings) ctx.note(`warning: ${w}`);
      if (opts.profile) {
        const { writeFileAtomic, prettyJson } = await import('../../core/fs-util.js');
        await writeFileAtomic(opts.profile, prettyJson(result.profile));
      }
      if (opts.json) {
        ctx.json({
          out: opts.out,
          rows: result.rows,
          columns: result.schema.length,
          schema: result.schema,
          skipped: result.skipped,
          profile: result.profile,
          lineage: result.lineage,
          warnings: result.warnings,
        });
        return;
      }
      const { formatLocation } = await import('../../core/errors.js');
      for (const s of result.skipped.first) ctx.note(`skipped ${formatLocation({ row: s.row, line: s.line, column: s.column })}: ${s.message}`);
      if (ctx.tty) ctx.out(profileTable(result.profile));
      const columns = result.schema.map((c) => `${c.name}: ${c.type}${c.dateOrder ? ` (${dateOrderPattern(c.dateOrder)})` : ''}${c.truthSpellings ? ` (${c.truthSpellings.true}/${c.truthSpellings.false})` : ''}`).join(', ');
      const { count, first } = result.skipped;
      const skipped = count > 0 ? `, skipped ${count} bad row${count === 1 ? '' : 's'} (row${count === 1 ? '' : 's'} ${first.map((s) => s.row).join(', ')}${count > first.length ? ', …' : ''})` : '';
      ctx.out(`wrote ${opts.out}: ${result.rows} rows × ${result.schema.length} columns (${columns})${skipped}`);
    });
}
