import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** `mlpipe bundles index`: the store's index.json, for stores served by a static file server. */
export function registerStoreCommands(bundles: Command, ctx: CliContext): void {
  bundles
    .command('index')
    .description("write index.json (every name and version) at the store's root, so a static file server can serve the store's files as a read-only https:// store")
    .option('--artifacts <store>', 'bundle store: a folder or s3://bucket/prefix (default: $MLPIPE_ARTIFACTS or ./artifacts)')
    .option('--json', 'print one JSON document')
    .action(async (opts: { artifacts?: string; json?: boolean }) => {
      const { openStore } = await import('../../core/bundle/store.js');
      const store = await openStore(ctx.artifacts(opts.artifacts));
      const bundles: Record<string, { versions: string[] }> = {};
      for (const name of await store.listNames()) {
        const versions = await store.listVersions(name);
        if (versions.length > 0) bundles[name] = { versions };
      }
      const where = await store.writeIndex({ format: 'mlpipe.store-index', bundles });
      const count = Object.values(bundles).reduce((n, b) => n + b.versions.length, 0);
      if (opts.json) ctx.json({ index: where, bundles });
      else ctx.out(`wrote ${where}: ${Object.keys(bundles).length} name(s), ${count} version(s)`);
    });
}
