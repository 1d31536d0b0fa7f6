import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { processAlive } from '../core/fs-util.js';
import { isRemoteLocation } from '../core/bundle/stores/location.js';

/**
 * Commands that can be busy for a long time in one synchronous step (type inference, fitting the
 * featurizers, growing and evaluating forests, permutation importance, rendering the report, a big
 * prediction): they run in a worker process watched by a small supervisor.
 */
const SUPERVISED_COMMANDS: ReadonlySet<string> = new Set(['load', 'featurize', 'train', 'run', 'package', 'predict']);

/** Set in the worker's environment: the worker runs the command itself. */
const SUPERVISED_ENV = 'MLPIPE_SUPERVISED';

/**
 * How long the worker has, after the signal, to stop and clean up on its own (its Ctrl-C handling
 * runs between steps and chunks) before it is killed and the supervisor cleans up after it.
 */
const STOP_GRACE_MS = 700;

/** The command named on a command line (the first word that is not an option), if any. */
export function commandOf(argv: readonly string[]): string | undefined {
  return argv.find((a) => !a.startsWith('-'));
}

/** Whether `argv` should run under {@link supervise}: a long command, not already the worker, not a help request. */
export function shouldSupervise(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (env[SUPERVISED_ENV] === '1') return false;
  if (argv.includes('--help') || argv.includes('-h')) return false;
  const command = commandOf(argv);
  return command !== undefined && SUPERVISED_COMMANDS.has(command);
}

/** Values of `--flag value` and `--flag=value` on a command line. */
function flagValues(argv: readonly string[], flag: string): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    if (a === flag && i + 1 < argv.length) out.push(argv[i + 1] as string);
    else if (a.startsWith(`${flag}=`)) out.push(a.slice(flag.length + 1));
  });
  return out;
}

/**
 * Folders where a killed worker may have left temporary files of its own (`.<out>.tmp-<pid>-…`,
 * `.<out>.spool-<pid>-…` beside an output, or inside an output folder).
 */
function outputFolders(argv: readonly string[], cwd: string): string[] {
  const folders = new Set<string>();
  for (const out of flagValues(argv, '--out')) {
    if (out === '-') continue;
    const path = resolve(cwd, out);
    folders.add(dirname(path));
    folders.add(path);
  }
  return [...folders];
}

/** Removes the entries of `folder` that a process `pid` made as temporaries (`….tmp-<pid>-…`, `….spool-<pid>-…`). */
async function removeTempsOf(folder: string, pid: number): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch {
    return;
  }
  const mine = new RegExp(`\\.(?:tmp|spool)-${pid}-[0-9a-f]+`);
  await Promise.all(entries.filter((e) => e.startsWith('.') && mine.test(e)).map((e) => rm(join(folder, e), { recursive: true, force: true }).catch(() => {})));
}

/** The bundle store a command writes to, as the CLI resolves it. */
function storeOf(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): string {
  const location = flagValues(argv, '--artifacts').at(-1) ?? env.MLPIPE_ARTIFACTS ?? 'artifacts';
  return isRemoteLocation(location) ? location : resolve(cwd, location);
}

/** Options of {@link supervise} (tests inject their own). */
export interface SuperviseOptions {
  /** The script that starts the CLI (bin/mlpipe). */
  script: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where the supervisor's own one-line messages go. */
  stderr?: (line: string) => void;
}

/**
 * Runs the command in a worker process and stays responsive to SIGINT and SIGTERM whatever the
 * worker is doing. On a signal the worker gets it too and normally stops and cleans up on its own;
 * if it is still busy after {@link STOP_GRACE_MS} (a long synchronous step cannot see a signal), it is
 * killed, and the supervisor removes what it left: its private temporary folder, its temporary files
 * beside and inside `--out`, and leftover bundle folders and alias locks of the store (their owner is
 * gone, see core/bundle/leftovers.ts). Resolves with the exit code: the worker's, or 130 when
 * interrupted. A second signal kills the worker at once.
 */
export async function supervise(argv: readonly string[], options: SuperviseOptions): Promise<number> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const say = options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  // The worker's temporary files (spools, run's work folder) all go to a folder of its own.
  await removeOrphanedTemps(tmpdir());
  const privateTmp = await mkdtemp(join(tmpdir(), `${PRIVATE_TMP_PREFIX}${process.pid}-`));
  const child = spawn(process.execPath, [...process.execArgv, options.script, ...argv], {
    cwd,
    env: { ...env, [SUPERVISED_ENV]: '1', TMPDIR: privateTmp, TMP: privateTmp, TEMP: privateTmp },
    stdio: 'inherit',
  });
  let interrupted = false;
  let killed = false;
  let killTimer: NodeJS.Timeout | undefined;
  const kill = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killed = true;
    child.kill('SIGKILL');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      kill();
      return;
    }
    interrupted = true;
    // A Ctrl-C at a terminal reaches the worker directly too; a SIGTERM (kill, a container runtime)
    // reaches only this process. A second signal to the worker is harmless: it is killed, and cleaned up here.
    if (signal === 'SIGTERM') child.kill('SIGTERM');
    killTimer = setTimeout(kill, STOP_GRACE_MS);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
      child.once('error', fail);
      child.once('exit', (c, s) => done([c, s]));
    });
    if (killTimer) clearTimeout(killTimer);
    if (interrupted && (killed || signal !== null)) {
      // The worker could not clean up: do it for it.
      const pid = child.pid as number;
      await Promise.all(outputFolders(argv, cwd).map((f) => removeTempsOf(f, pid)));
      const command = commandOf(argv);
      if (command === 'package' || command === 'run') {
        // A folder's temporary bundle, or an S3 upload's claim and files: their owner (the worker) is gone.
        const { openStore } = await import('../core/bundle/store.js');
        await openStore(storeOf(argv, env, cwd))
          .then((store) => store.cleanLeftovers(undefined))
          .catch(() => []);
      }
      say('mlpipe: interrupted');
      return 130;
    }
    if (interrupted) return code ?? 130;
    if (signal !== null) {
      say(`mlpipe: the ${commandOf(argv) ?? ''} process was killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory? see dmesg)' : ''}`);
      return 1;
    }
    return code ?? 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(privateTmp, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * In the worker: when the supervisor is gone (killed with -9, so it could neither signal nor clean
 * up), the worker is killed too, at once, by a watchdog thread (the worker's own thread may be inside
 * a long synchronous step and notice nothing). A crash stays a crash: no half-done cleanup; what the
 * two left is removed by the next run — the private folder by {@link removeOrphanedTemps}, the
 * temporary files of load and package by their stale-owner rules — and by `bundles gc`.
 */
export function stopWithSupervisor(): void {
  if (process.env[SUPERVISED_ENV] !== '1') return;
  const watchdog = new Worker(
    `const { workerData } = require('node:worker_threads');
     const timer = setInterval(() => {
       if (process.ppid === workerData.ppid) return;
       clearInterval(timer);
       process.kill(workerData.pid, 'SIGKILL');
     }, 50);`,
    { eval: true, workerData: { ppid: process.ppid, pid: process.pid } },
  );
  watchdog.unref();
}

/** The prefix of a supervisor's private temporary folder; its pid follows. */
const PRIVATE_TMP_PREFIX = 'mlpipe-proc-';

/**
 * Removes the private temporary folders of supervisors that are gone (`mlpipe-proc-<pid>-…` whose
 * process has exited): what a worker killed after its supervisor was killed could not remove.
 */
async function removeOrphanedTemps(root: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return;
  }
  const pattern = new RegExp(`^${PRIVATE_TMP_PREFIX}(\\d+)-`);
  await Promise.all(
    entries.map(async (e) => {
      const m = pattern.exec(e);
      if (!m || processAlive(Number(m[1]))) return;
      await rm(join(root, e), { recursive: true, force: true }).catch(() => {});
    }),
  );
}
