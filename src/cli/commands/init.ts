import { type Command, InvalidArgumentError } from 'commander';
import { bundleNameProblem, shown } from '../../core/bundle/names.js';
import { MlpipeError } from '../../core/errors.js';
import { pathExists } from '../../core/fs-util.js';
import type { CliContext } from '../context.js';
import { oneOf } from '../parse.js';
import { loadProgressReporter } from '../progress.js';
import { SOURCE_ARGUMENT, type SourceFlags, loadingOptions, sourceOptions } from '../source-options.js';

/** Every option `mlpipe init` takes. */
interface InitFlags extends SourceFlags {
  target: string;
  out: string;
  name?: string;
  task?: 'classification' | 'regression';
  force?: boolean;
  json?: boolean;
}

/** `--name`: a bundle name, by the one rule (core/bundle/names.ts). */
function bundleName(value: string): string {
  const problem = bundleNameProblem(value);
  if (problem !== undefined) throw new InvalidArgumentError(`${shown(value)} ${problem}`);
  return value;
}

/** `--out`: a .yaml or .yml file (what `mlpipe run` takes as a config). */
function configPath(value: string): string {
  if (!/\.ya?ml$/i.test(value)) throw new InvalidArgumentError(`expected a .yaml or .yml file (mlpipe run reads a config by its extension), got "${value}"`);
  return value;
}

/**
 * `mlpipe init [<source>] --target <column> --out <pipeline.yaml>`: profiles the source and writes a
 * commented starter config with every automatic choice written out; it runs as written.
 */
export function registerInit(program: Command, ctx: CliContext): void {
  sourceOptions(
    program
      .command('init')
      .description('write a commented starter pipeline.yaml for a source and a target: every automatic choice written out, runs as written')
      .argument('[source]', SOURCE_ARGUMENT)
      .requiredOption('-t, --target <column>', 'column to predict')
      .requiredOption('-o, --out <pipeline.yaml>', 'the config file to write (.yaml or .yml)', configPath)
      .option('-n, --name <name>', 'bundle name (default: from the file, table or URL name)', bundleName)
      .option('--task <task>', 'classification or regression (default: inferred from the target)', oneOf(['classification', 'regression'] as const))
      .option('-f, --force', 'overwrite the --out file if it exists'),
  )
    .option('--json', 'print one JSON document (the file, name, task, featurizers and dropped columns)')
    .action(async (source: string | undefined, opts: InitFlags) => {
      const refuse = () => new MlpipeError('conflict', `${opts.out}: already exists; not overwritten (use --force to replace it)`);
      if (!opts.force && (await pathExists(opts.out))) throw refuse();
      const { parseSourceArgument, specLabel } = await import('../../core/data/sources/index.js');
      const spec = parseSourceArgument(source, opts, ctx.io.env);
      const { initConfig } = await import('../../core/pipeline/init.js');
      const progress = loadProgressReporter(ctx, !opts.json, specLabel(spec));
      const result = await initConfig({
        source: spec,
        target: opts.target,
        out: opts.out,
        name: opts.name,
        task: opts.task,
        ...loadingOptions(opts, ctx),
        onProgress: progress.onProgress,
      }).finally(() => progress.stop());
      // The source may take a while to read: check again just before writing.
      if (!opts.force && (await pathExists(opts.out))) throw refuse();
      const { writeFileAtomic } = await import('../../core/fs-util.js');
      await writeFileAtomic(opts.out, result.yaml);
      for (const w of result.warnings) ctx.note(`warning: ${w}`);
      const { next } = result;
      if (opts.json) {
        ctx.json({
          out: opts.out,
          name: result.name,
          target: result.target,
          task: result.task,
          ...(result.classes ? { classes: result.classes } : {}),
          rows: result.rows,
          columns: result.columns,
          features: result.features,
          dropped: result.dropped,
          warnings: result.warnings,
          next,
        });
        return;
      }
      const classes = result.classes ? ` with ${result.classes.length} classes` : '';
      ctx.out(`target ${result.target}: ${result.task}${classes}`);
      for (const f of result.features) ctx.out(`  ${f.column} (${f.type}) → ${f.kind}`);
      for (const d of result.dropped) ctx.out(`  ${d.column}: dropped (${d.reason})`);
      ctx.out(`wrote ${opts.out}: ${result.name}, ${result.features.length} featurized column${result.features.length === 1 ? '' : 's'}, ${result.dropped.length} dropped (${result.rows} rows × ${result.columns} columns)`);
      ctx.out(`next: edit it if you like, then: ${next}`);
    });
}
