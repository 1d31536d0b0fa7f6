import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ARTIFACTS_OPTION } from '../parse.js';

/** What push and pull print. */
async function copyBundle(ctx: CliContext, ref: string, from: string, to: string, json: boolean | undefined, golden: boolean): Promise<void> {
  const { resolveRef } = await import('../../core/bundle/store.js');
  const { publishExisting, pullBundle } = await import('../../core/bundle/transfer.js');
  const { goldenSummary } = await import('../../core/bundle/golden.js');
  let result;
  if (golden) result = await pullBundle(from, ref, to);
  else {
    // Resolved (from a remote store: downloaded into the cache and verified) first; hashed again as it is copied.
    const { dir, verified } = await resolveRef(ref, from);
    result = await publishExisting(to, dir, { ...(verified ? { manifest: verified } : {}), golden: false });
  }
  if (json) {
    ctx.json({ bundle: result.ref, from, to: result.store, status: result.status, ...(golden ? { golden: result.golden } : {}) });
    return;
  }
  ctx.out(result.status === 'unchanged' ? `${result.ref} is already in ${result.store} (identical); nothing to do` : `copied ${result.ref} from ${from} to ${result.store} (every checksum verified${golden ? `, ${goldenSummary(result.golden)}` : ''})`);
}

/** `mlpipe bundles push|pull|index`: copying bundles between stores, and a store's index.json. */
export function registerStoreCommands(bundles: Command, ctx: CliContext): void {
  bundles
    .command('push')
    .description('copy a bundle from the store (--artifacts) to another store (a folder or s3://…): verified before, checksummed on arrival; a second push is a no-op, a different bundle under the same version is refused')
    .argument('<bundle-ref>', 'bundle folder, name, name@1.2.0, name@alias or npm:@scope/package')
    .requiredOption('--to <store>', 'the store to copy it to: a folder or s3://bucket/prefix')
    .option('--artifacts <store>', 'the store it is in: a folder, s3://bucket/prefix or https://host/path/ (default: $MLPIPE_ARTIFACTS or ./artifacts)')
    .option('--json', 'print one JSON document')
    .action(async (ref: string, opts: { to: string; artifacts?: string; json?: boolean }) => {
      await copyBundle(ctx, ref, ctx.artifacts(opts.artifacts), ctx.artifacts(opts.to), opts.json, false);
    });

  bundles
    .command('pull')
    .description('copy a bundle from another store (s3://…, https://…/ or a folder) into the store (--artifacts), verifying every checksum; a second pull is a no-op')
    .argument('<bundle-ref>', 'name, name@1.2.0 or name@alias in the --from store')
    .requiredOption('--from <store>', 'the store to copy it from: a folder, s3://bucket/prefix or https://host/path/')
    .option('--artifacts <store>', 'the store to copy it into (default: $MLPIPE_ARTIFACTS or ./artifacts)')
    .option('--json', 'print one JSON document')
    .action(async (ref: string, opts: { from: string; artifacts?: string; json?: boolean }) => {
      await copyBundle(ctx, ref, ctx.artifacts(opts.from), ctx.artifacts(opts.artifacts), opts.json, true);
    });

  bundles
    .command('index')
    .description("write index.json (every name and version) at the store's root, so a static file server can serve the store's files as a read-only https:// store")
    .option(...ARTIFACTS_OPTION)
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
