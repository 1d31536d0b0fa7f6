/**
 * The standard output of a shell command as a record source (`--from-command`), read by file.ts's
 * streaming text parser; the command and the processes it started are stopped when reading stops early.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { messageOf } from '../../errors.js';
import { TEXT_FORMATS } from '../formats.js';
import { SourceError } from './errors.js';
import { checkFormat, csvOptionsOf, textStreamSource } from './file.js';
import type { CommandSourceSpec, RawChunk, RecordSource, TextFormat } from './types.js';

/**
 * The standard output of a shell command (`spawn(command, {shell: true})`), as NDJSON unless
 * `spec.format` says csv, tsv or json. A command that exits non-zero, is killed or cannot start is a
 * SourceError naming it and quoting the end of its standard error. Breaking out of the iteration (or
 * an error) terminates the command and the processes it started.
 */
export function commandSource(spec: CommandSourceSpec, { keepMalformedRows = false } = {}): RecordSource {
  const { command } = spec;
  const format = spec.format === undefined ? 'ndjson' : (checkFormat(spec.format, TEXT_FORMATS) as TextFormat);
  const name = commandName(command);
  let child: ChildProcess | undefined;
  let exited: Promise<CommandExit> | undefined;
  let stderr = '';
  const inner = textStreamSource(
    name,
    async () => {
      const proc = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      exited = new Promise<CommandExit>((resolve) => {
        proc.once('error', (error) => resolve({ error }));
        proc.once('close', (code, signal) => resolve({ code, signal }));
      });
      proc.stderr?.setEncoding('utf8').on('data', (text: string) => {
        stderr = (stderr + text).slice(-STDERR_KEEP);
      });
      if (!proc.stdout) throw new SourceError(name, 'could not start: no standard output');
      // Through a pass-through, so that when the parser stops (an error, an early break) the pipe
      // stays open: a command still writing blocks rather than dying of SIGPIPE, which would hide
      // the parse error behind a failure we caused.
      const out = new PassThrough();
      proc.stdout.on('error', (err) => out.destroy(err));
      return proc.stdout.pipe(out);
    },
    { ...csvOptionsOf(spec), format, keepMalformedRows },
    () => ({ kind: 'command', command, format }),
  );
  const failure = (exit: CommandExit): SourceError | undefined => {
    if ('error' in exit) return new SourceError(name, `could not start: ${messageOf(exit.error)}`, { cause: exit.error });
    if (exit.code === 0) return undefined;
    const tail = stderrTail(stderr);
    const how = exit.code !== null ? `exited with code ${exit.code}` : `was killed by ${exit.signal ?? 'a signal'}`;
    return new SourceError(name, tail ? `${how}: ${tail}` : how);
  };
  return {
    name,
    warnings: inner.warnings,
    declaredTypes: () => ({}),
    lineage: () => inner.lineage(),
    async *chunks(chunkRows: number): AsyncGenerator<RawChunk> {
      let complete = false;
      try {
        try {
          for await (const chunk of inner.chunks(chunkRows)) yield chunk;
        } catch (err) {
          // Output that cannot be parsed from a command that failed: the failure is what to report.
          const exit = exited ? await settledWithin(exited, 500) : undefined;
          const failed = exit && failure(exit);
          if (failed) throw failed;
          throw err;
        }
        const exit = await (exited as Promise<CommandExit>);
        const failed = failure(exit);
        if (failed) throw failed;
        complete = true;
      } finally {
        if (!complete && child && child.exitCode === null && child.signalCode === null) killTree(child);
      }
    },
  };
}

type CommandExit = { code: number | null; signal: NodeJS.Signals | null } | { error: Error };

/** Characters of standard error kept while a command runs, and quoted when it fails. */
const STDERR_KEEP = 4000;
const STDERR_QUOTE = 300;

/** How a command is named in messages: `command "…"`, shortened when long. */
function commandName(command: string): string {
  const oneLine = command.replace(/\s+/g, ' ').trim();
  return `command "${oneLine.length > 100 ? `${oneLine.slice(0, 99)}…` : oneLine}"`;
}

/** The last lines of a command's standard error, on one line, at most about 300 characters. */
function stderrTail(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const kept: string[] = [];
  let length = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string;
    if (kept.length > 0 && length + line.length + 3 > STDERR_QUOTE) break;
    kept.unshift(line.length > STDERR_QUOTE ? `…${line.slice(-(STDERR_QUOTE - 1))}` : line);
    length += line.length + 3;
  }
  return kept.join(' | ');
}

/** The promise's value if it settles within `ms`, else undefined. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Terminates a command and the processes it started. The shell may run the command as its own child
 * (dash does), and killing the shell alone would leave that running, so on Linux the process tree is
 * read from /proc; elsewhere only the shell is signalled (its children stop when they next write to
 * the closed pipe).
 */
function killTree(child: ChildProcess): void {
  const pids = child.pid === undefined ? [] : [...descendants(child.pid), child.pid];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

function descendants(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last `)`.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid);
    if (list) list.push(Number(entry));
    else children.set(ppid, [Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const pid of children.get(queue.shift() as number) ?? []) {
      found.push(pid);
      queue.push(pid);
    }
  }
  return found;
}
