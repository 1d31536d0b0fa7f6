import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/**
 * `mlpipe schema [--out FILE]`: prints the JSON Schema pipeline.yaml is validated against (the one
 * published as schema/pipeline.schema.json), or writes it to a file.
 */
export function registerSchema(program: Command, ctx: CliContext): void {
  program
    .command('schema')
    .description('print the JSON Schema of pipeline.yaml (for editors and validators; the same as schema/pipeline.schema.json)')
    .option('-o, --out <file>', 'write it to this file instead of standard output')
    .action(async (opts: { out?: string }) => {
      const { schemaText } = await import('../../core/pipeline/schema.js');
      if (opts.out === undefined) {
        ctx.io.stdout.write(schemaText());
        return;
      }
      const { writeFileAtomic } = await import('../../core/fs-util.js');
      await writeFileAtomic(opts.out, schemaText());
      ctx.out(`wrote ${opts.out}`);
    });
}
