import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { readSigning } from './keys.js';
import { ARTIFACTS_OPTION } from '../parse.js';

/** `mlpipe package <model-dir> --name <name> [--version X.Y.Z]`. */
export function registerPackage(program: Command, ctx: CliContext): void {
  program
    .command('package')
    .description('package a model folder as an immutable, checksummed bundle artifacts/<name>/<version>/')
    .argument('<model-dir>', 'folder written by train')
    .requiredOption('-n, --name <name>', 'bundle name')
    .option('--version <X.Y.Z>', 'version (default: next patch after the newest, 1.0.0 for a new name)')
    .option(...ARTIFACTS_OPTION)
    .option('--sign <key.pem>', 'sign the bundle once published (adds signature.json) with this ed25519 private key (mlpipe keys generate)')
    .option('--json', 'print one JSON document')
    .action(async (modelDir: string, opts: { name: string; version?: string; artifacts?: string; sign?: string; json?: boolean }) => {
      const { packageModel } = await import('../../core/bundle/package.js');
      // The key is read first: a wrong key file is refused before anything is published.
      const sign = opts.sign === undefined ? undefined : await readSigning(ctx, opts.sign);
      const result = await packageModel({ modelDir, name: opts.name, version: opts.version, artifacts: ctx.artifacts(opts.artifacts), ...(sign ? { sign } : {}) });
      if (opts.json) {
        ctx.json({ bundle: result.ref, dir: result.dir, manifest: result.manifest, ...(result.signature ? { signature: { keyId: result.signature.keyId, signedAt: result.signature.signedAt } } : {}) });
        return;
      }
      ctx.out(`wrote ${result.dir}`);
      if (result.signature) ctx.out(`signed with key ${result.signature.keyId} (${opts.sign})`);
      ctx.out(result.ref);
    });
}
