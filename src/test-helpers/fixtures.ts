/**
 * Shared helpers for tests (not part of the build): temporary folders, small trained bundles from
 * the shipped examples, and running the real CLI as a child process.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPipelineConfig } from '../core/pipeline/config.js';
import { type RunResult, runPipeline } from '../core/pipeline/run.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const EXAMPLES = join(ROOT, 'examples');
export const BIN = join(ROOT, 'bin', 'mlpipe');

const made: string[] = [];

/** A fresh temporary folder, removed by {@link cleanupTempDirs}. */
export async function tempDir(prefix = 'mlpipe-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every folder made by {@link tempDir}. Call it from an `after` hook. */
export async function cleanupTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Trains and packages a shipped example (few trees: fast) into `artifacts`. */
export async function buildExampleBundle(options: {
  artifacts: string;
  example: 'penguins' | 'cars';
  trees?: number;
  seed?: number;
  name?: string;
  version?: string;
}): Promise<RunResult> {
  const config = await readPipelineConfig(join(EXAMPLES, options.example, 'pipeline.yaml'));
  return runPipeline({
    config,
    name: options.name,
    seed: options.seed ?? 7,
    model: { trees: options.trees ?? 10 },
    version: options.version,
    artifacts: options.artifacts,
    defaultArtifacts: options.artifacts,
  });
}

/**
 * A store holding the penguins example packaged as `name@1.0.0` (3 trees), and the model folder it
 * was packaged from (to package again).
 */
export async function packagedExample(name: string): Promise<{ artifacts: string; modelDir: string }> {
  const artifacts = await tempDir();
  const work = await tempDir();
  const config = await readPipelineConfig(join(EXAMPLES, 'penguins', 'pipeline.yaml'));
  await runPipeline({ config, name, model: { trees: 3 }, artifacts, defaultArtifacts: artifacts, workDir: work });
  return { artifacts, modelDir: join(work, 'model') };
}

/** Result of running the CLI. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command as a real process (stdin: `input`, then closed) and collects its output; killed after `timeoutMs`. */
export function runCommand(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    // A command that exits without reading its input (tar, bash -c …) closes the pipe: not an error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `bin/mlpipe` as a real process and collects its output. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return runCommand(process.execPath, [BIN, ...args], options);
}

/** Rows of a CSV file of the examples as plain objects (numbers parsed), for request bodies. */
export function exampleRecords(example: 'penguins' | 'cars'): Promise<Record<string, unknown>[]> {
  return import('../core/data/files.js').then(async ({ readRawFile }) => {
    const { buildTable } = await import('../core/data/build.js');
    const { recordAt } = await import('../core/table.js');
    const raw = await readRawFile(join(EXAMPLES, example, `${example}.csv`));
    const table = buildTable(raw);
    return Array.from({ length: table.rowCount }, (_, i) => {
      const rec = recordAt(table, i) as Record<string, unknown>;
      for (const col of table.columns) if (col.type === 'datetime' && rec[col.name] !== null) rec[col.name] = new Date(rec[col.name] as number).toISOString();
      return rec;
    });
  });
}

/** Bytes of the regular files under `dir`, recursively (symbolic links not followed). */
export async function du(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await du(path);
    else if (e.isFile()) total += (await stat(path)).size;
  }
  return total;
}
