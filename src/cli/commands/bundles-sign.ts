import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { readSigning } from './keys.js';
import { ARTIFACTS_OPTION } from '../parse.js';

/** `mlpipe bundles sign <ref> --key key.pem [--force]`. */
export function registerBundlesSign(bundles: Command, ctx: CliContext): void {
  bundles
    .command('sign')
    .description('sign a published bundle with an ed25519 private key (verified first): adds signature.json; the same key again is a no-op; another key\'s signature is replaced only with --force')
    .argument('<bundle-ref>', 'bundle folder, name, name@1.2.0 or name@alias')
    .requiredOption('-k, --key <key.pem>', 'private key file (NAME.key.pem from mlpipe keys generate)')
    .option('--force', 'replace a signature by another key, or a broken one')
    .option(...ARTIFACTS_OPTION)
    .option('--json', 'print one JSON document')
    .action(async (ref: string, opts: { key: string; force?: boolean; artifacts?: string; json?: boolean }) => {
      const { signBundle } = await import('../../core/bundle/signature.js');
      const key = await readSigning(ctx, opts.key);
      const r = await signBundle({ ref, artifacts: ctx.artifacts(opts.artifacts), key, force: opts.force === true });
      if (opts.json) {
        ctx.json({ bundle: r.ref, status: r.status, keyId: r.keyId, signedAt: r.signedAt, ...(r.previousKeyId ? { previousKeyId: r.previousKeyId } : {}) });
        return;
      }
      if (r.status === 'unchanged') ctx.out(`${r.ref} is already signed by key ${r.keyId} (at ${r.signedAt}); nothing to do`);
      else if (r.status === 'replaced') ctx.out(`signed ${r.ref} with key ${r.keyId} (${opts.key}), replacing ${r.previousKeyId ? `key ${r.previousKeyId}'s signature` : 'a broken signature'}`);
      else ctx.out(`signed ${r.ref} with key ${r.keyId} (${opts.key})`);
    });
}
