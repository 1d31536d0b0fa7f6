import { CommanderError } from 'commander';
import { MlpipeError, fsErrorMessage, messageOf } from '../core/errors.js';
import { CliContext, type CliIo } from './context.js';
import { createProgram } from './program.js';
import { stopWithSupervisor } from './supervise.js';

function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/**
 * Runs the CLI on `argv` (without node and script) and returns the exit code: 0 success, 1 a user
 * error (one line naming file/row/column or config path), 2 a usage error. This is the one place
 * that turns errors into exit codes; stack traces only with --verbose.
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const ctx = new CliContext(io);
  const program = createProgram(ctx);
  const verbose = argv.includes('--verbose');
  // --verbose is accepted after the command too; commander knows it only before.
  const args = argv.filter((a, i) => a !== '--verbose' || i === 0);
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof MlpipeError) {
      io.stderr.write(`mlpipe: ${err.message}\n`);
      if (verbose && err.stack) io.stderr.write(`${err.stack}\n`);
      return err.exitCode;
    }
    // A file-system error (no space, name too long, permission, read-only, …): the path and the problem.
    const fsMessage = fsErrorMessage(err);
    if (fsMessage !== undefined) {
      io.stderr.write(`mlpipe: ${fsMessage}\n`);
      if (verbose && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
      return 1;
    }
    io.stderr.write(`mlpipe: internal error: ${messageOf(err)}${verbose ? '' : ' (run with --verbose for the stack trace)'}\n`);
    if (verbose && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

/** Entry point used by bin/mlpipe: runs with the process's own argv and sets its exit code. */
export async function run(): Promise<void> {
  const argv = process.argv.slice(2);
  // A worker of a long command (bin/mlpipe started it under supervise.ts): stop if the supervisor dies.
  stopWithSupervisor();
  // `mlpipe … | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  process.exitCode = await main(argv);
  // A command that failed in a process with an IPC channel (a `serve --workers` worker) exits all the same.
  if (process.exitCode !== 0) (process.channel as { unref?: () => void } | undefined)?.unref?.();
  // Interrupted: the command cleaned up; do not wait for a source that may still be stuck in a read.
  if (process.exitCode === 130) process.exit(130);
}
