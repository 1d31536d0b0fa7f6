import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ARTIFACTS_OPTION } from '../parse.js';

/** `mlpipe report <bundle-ref> [--out FILE] [--open] [--json]`. */
export function registerReport(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description('the training report of a bundle or model folder: print where report.html is, render it again (--out), open it, or print its numbers (--json)')
    .argument('<bundle-ref>', 'bundle folder, name, name@1.2.0, name@alias, or a model folder written by train')
    .option('-o, --out <file>', 'render the report again with this mlpipe into FILE (the bundle itself is never changed)')
    .option('--open', 'open the report in the default browser')
    .option(...ARTIFACTS_OPTION)
    .option('--json', 'print the numbers behind the report as one JSON document')
    .action(async (ref: string, opts: { out?: string; open?: boolean; artifacts?: string; json?: boolean }) => {
      const { report } = await import('../../core/report/data.js');
      const result = await report({ ref, artifacts: ctx.artifacts(opts.artifacts), ...(opts.out !== undefined ? { out: opts.out } : {}) });
      if (opts.json) ctx.json(result.data);
      else {
        const { metricsHeadline } = await import('../render.js');
        ctx.out(`${result.data.title}: ${result.data.training.task} of ${result.data.training.target.name}; ${metricsHeadline(result.data.metrics)}`);
        ctx.out(result.rendered ? `wrote ${result.file}` : result.file);
      }
      if (opts.open) await openInBrowser(result.file, ctx);
    });
}

/** Opens a file with the desktop's opener; says so (and where the file is) when there is none. */
async function openInBrowser(file: string, ctx: CliContext): Promise<void> {
  const { spawn } = await import('node:child_process');
  const [command, args] =
    process.platform === 'darwin' ? ['open', [file]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', file]] : ['xdg-open', [file]];
  await new Promise<void>((resolve) => {
    const child = spawn(command, args as string[], { detached: true, stdio: 'ignore' });
    child.on('error', () => {
      ctx.note(`mlpipe: could not start ${command} to open a browser; open ${file} yourself`);
      resolve();
    });
    child.on('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
