import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** `mlpipe package <model-dir> --name <name> [--version X.Y.Z]`. */
export function registerPackage(program: Command, ctx: CliContext): void {
  program
    .command('package')
    .description('package a model folder as an immutable, checksummed bundle artifacts/<name>/<version>/')
    .argument('<model-dir>', 'folder written by train')
    .requiredOption('-n, --name <name>', 'bundle name')
    .option('--version <X.Y.Z>', 'version (default: next patch after the newest, 1.0.0 for a new name)')
    .option('--artifacts <store>', 'bundle store: a folder, s3://bucket/prefix or https://host/path/ (default: $MLPIPE_ARTIFACTS or ./artifacts)')
    .option('--json', 'print one JSON document')
    .action(async (modelDir: string, opts: { name: string; version?: string; artifacts?: string; json?: boolean }) => {
      const { packageModel } = await import('../../core/bundle/package.js');
      const result = await packageModel({ modelDir, name: opts.name, version: opts.version, artifacts: ctx.artifacts(opts.artifacts) });
      if (opts.json) {
        ctx.json({ bundle: result.ref, dir: result.dir, manifest: result.manifest });
        return;
      }
      ctx.out(`wrote ${result.dir}`);
      ctx.out(result.ref);
    });
}
