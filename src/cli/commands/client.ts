import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ARTIFACTS_OPTION } from '../parse.js';

/** `mlpipe client <bundle-ref...> --out client.ts [--base-url URL]`: a typed TypeScript client for `mlpipe serve`. */
export function registerClient(program: Command, ctx: CliContext): void {
  program
    .command('client')
    .description('generate a typed TypeScript client (no dependencies, global fetch) for bundles as mlpipe serve serves them: a record and prediction type per model, predict, predictBatch, models, infer')
    .argument('<bundle-refs...>', 'bundles the client is for (folder, name, name@1.2.0, name@alias); the first is its default model')
    .requiredOption('-o, --out <file>', 'the TypeScript file to write (- = standard output)')
    .option('--base-url <url>', 'the server the client calls when its caller gives no baseUrl')
    .option(...ARTIFACTS_OPTION)
    .addHelpText('after', '\nExample:\n  mlpipe client churn penguins@production --out src/mlpipe-client.ts\n  # then: new MlpipeClient({ baseUrl: "http://127.0.0.1:8080" }).predict({ ... })')
    .action(async (refs: string[], opts: { out: string; baseUrl?: string; artifacts?: string }) => {
      const { clientForBundles } = await import('../../core/http-api/client.js');
      const { source, bundles } = await clientForBundles({ refs, artifacts: ctx.artifacts(opts.artifacts), ...(opts.baseUrl !== undefined ? { baseUrl: opts.baseUrl } : {}) });
      if (opts.out === '-') {
        ctx.io.stdout.write(source);
        return;
      }
      const { writeFileAtomic } = await import('../../core/fs-util.js');
      await writeFileAtomic(opts.out, source);
      ctx.out(`wrote ${opts.out}: a typed client for ${bundles.join(', ')}`);
    });
}
