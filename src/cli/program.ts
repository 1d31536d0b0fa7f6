import { Command } from 'commander';
import { mlpipeVersion } from '../core/version.js';
import { registerBundles } from './commands/bundles.js';
import { registerClient } from './commands/client.js';
import { registerContainerize } from './commands/containerize.js';
import { registerFeaturize } from './commands/featurize.js';
import { registerInit } from './commands/init.js';
import { registerKeys } from './commands/keys.js';
import { registerLoad } from './commands/load.js';
import { registerPackage } from './commands/package.js';
import { registerPredict } from './commands/predict.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerSchema } from './commands/schema.js';
import { registerServe } from './commands/serve.js';
import { registerTrain } from './commands/train.js';
import type { CliContext } from './context.js';

/**
 * Builds a fresh commander program (a factory, so each test gets its own). Commands parse options and
 * call core; core modules are imported inside each action, so `mlpipe --help` stays fast.
 */
export function createProgram(ctx: CliContext): Command {
  const program = new Command('mlpipe');
  program
    .description('From a table of data to a model served over REST: load, featurize, train, package, serve.')
    .version(mlpipeVersion(), '-V, --version')
    .option('--verbose', 'show stack traces of errors (accepted anywhere on the line)')
    // Program options only before the command: `package --version 1.2.0` is the bundle's version.
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      // One line per usage error: commander puts its "did you mean" hint on a second line.
      outputError: (s, write) => write(`mlpipe: ${s.trim().replace(/\s*\n\s*/g, ' ')}\n`),
    })
    .exitOverride()
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Bundle references: a bundle folder, name (newest version), name@1.2.0, name@alias, or
npm:@scope/package@1.2.0 (the bundle of an installed npm package, found from the current folder up).
The bundle store is --artifacts, else $MLPIPE_ARTIFACTS, else ./artifacts.
Exit codes: 0 success, 1 bad input/config/verification (one line says what and where), 2 bad usage.`,
    );
  registerLoad(program, ctx);
  registerFeaturize(program, ctx);
  registerTrain(program, ctx);
  registerPackage(program, ctx);
  registerInit(program, ctx);
  registerSchema(program, ctx);
  registerRun(program, ctx);
  registerPredict(program, ctx);
  registerBundles(program, ctx);
  registerReport(program, ctx);
  registerServe(program, ctx);
  registerKeys(program, ctx);
  registerClient(program, ctx);
  registerContainerize(program, ctx);
  return program;
}
