import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { profileTable } from '../render.js';

/** `mlpipe load <source> --out <dataset.arrow>`: any supported file into a typed Arrow dataset. */
export function registerLoad(program: Command, ctx: CliContext): void {
  program
    .command('load')
    .description('read a CSV/TSV, JSON, NDJSON file (or - for stdin) into a typed Arrow dataset, and profile it')
    .argument('<source>', 'data file (.csv .tsv .json .ndjson .jsonl .arrow, optionally .gz) or - for stdin')
    .requiredOption('-o, --out <file>', 'dataset file to write (.arrow)')
    .option('--format <format>', 'input format, overriding the extension (csv, tsv, json, ndjson, arrow)')
    .option('--delimiter <char>', 'CSV delimiter (default: sniffed from the header)')
    .option('--profile <file>', 'also write the profile as JSON')
    .option('--json', 'print one JSON document (profile, lineage, warnings)')
    .action(async (source: string, opts: { out: string; format?: string; delimiter?: string; profile?: string; json?: boolean }) => {
      const { loadToDataset } = await import('../../core/data/load.js');
      const result = await loadToDataset({ source, out: opts.out, format: opts.format, delimiter: opts.delimiter, stdin: ctx.io.stdin });
      for (const w of result.warnings) ctx.note(`warning: ${w}`);
      if (opts.profile) {
        const { writeFileAtomic, prettyJson } = await import('../../core/fs-util.js');
        await writeFileAtomic(opts.profile, prettyJson(result.profile));
      }
      if (opts.json) {
        ctx.json({ out: opts.out, rows: result.table.rowCount, columns: result.table.columns.length, profile: result.profile, lineage: result.lineage, warnings: result.warnings });
        return;
      }
      if (ctx.tty) ctx.out(profileTable(result.profile));
      ctx.out(`wrote ${opts.out}: ${result.table.rowCount} rows × ${result.table.columns.length} columns (${result.table.columns.map((c) => `${c.name}: ${c.type}`).join(', ')})`);
    });
}
