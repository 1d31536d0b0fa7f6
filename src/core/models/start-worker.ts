import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running the module `name` (without extension) that sits beside `from`
 * (`import.meta.url` of the caller): the compiled `.js` file, or under tsx (tests, development) the
 * TypeScript one, loaded through tsx's API.
 */
export function startWorker(from: string, name: string, workerData: unknown): Worker {
  if (!from.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, from), { workerData });
  // createRequire, not import.meta.resolve: test runners may load this file as CommonJS.
  const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsx = pathToFileURL(join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href;
  const entry = new URL(`./${name}.ts`, from).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  // execArgv [] : an inherited `--import tsx` loader plus register() would load tsx twice.
  return new Worker(boot, { eval: true, workerData, execArgv: [] });
}
