/**
 * Building the image: which container tool works here (podman, else docker whose daemon answers), the
 * exact build command for a context, and image references checked against the distribution reference
 * grammar (@swimlane/docker-reference, a port of github.com/distribution/reference). Core: no printing.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { ConfigError } from '../errors.js';

export type ContainerTool = 'podman' | 'docker';

/** The result of looking for a container tool: the first that works, and why each other does not. */
export interface ToolSearch {
  tool?: ContainerTool;
  /** One reason per tool that does not work here (`podman: not on the PATH`). */
  unusable: string[];
}

/** Runs a command, collecting its output; never throws (a missing command is code null, `missing`). */
export function runQuiet(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; missing: boolean; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolvePromise({ code: null, missing: err.code === 'ENOENT', stdout, stderr: err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, missing: false, stdout, stderr });
    });
  });
}

/** A tool counts only when `<tool> info` succeeds (a docker client without a daemon does not). */
export async function findContainerTool(env: NodeJS.ProcessEnv = process.env, order: readonly ContainerTool[] = ['podman', 'docker']): Promise<ToolSearch> {
  const unusable: string[] = [];
  for (const tool of order) {
    const info = await runQuiet(tool, ['info'], { env, timeoutMs: 30_000 });
    if (info.code === 0) return { tool, unusable };
    const why = info.missing ? 'not on the PATH' : `\`${tool} info\` failed: ${firstLine(info.stderr) || `exit code ${info.code}`}`;
    unusable.push(`${tool}: ${why}`);
  }
  return { unusable };
}

function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 200);
}

/**
 * The build command for a context: podman with `--format docker` (the OCI format drops HEALTHCHECK);
 * docker as it is. `buildArgs` become `--build-arg K=V` (e.g. BASE=node:20-bookworm-slim).
 */
export function buildCommand(tool: ContainerTool, tag: string, dir: string, buildArgs: Record<string, string> = {}): string[] {
  const args = [tool, 'build'];
  if (tool === 'podman') args.push('--format', 'docker');
  for (const [k, v] of Object.entries(buildArgs)) args.push('--build-arg', `${k}=${v}`);
  args.push('-t', tag, dir);
  return args;
}

/** A command line as a person would type it (arguments quoted only where the shell needs it). */
export function shellLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Runs a build (or any tool command), passing each output line on; resolves with the exit code. */
export function runTool(argv: readonly string[], options: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {}): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const [command, ...args] = argv as [string, ...string[]];
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = (stream: NodeJS.ReadableStream): void => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        const parts = (rest + d).split('\n');
        rest = parts.pop() ?? '';
        for (const p of parts) options.onLine?.(p);
      });
      stream.on('end', () => {
        if (rest !== '') options.onLine?.(rest);
      });
    };
    lines(child.stdout);
    lines(child.stderr);
    child.on('error', reject);
    child.on('close', (code) => resolvePromise(code ?? 1));
  });
}

interface ParsedReference {
  domain?: string;
  repository?: string;
  tag?: string;
  digest?: string;
}

const dockerReference = createRequire(import.meta.url)('@swimlane/docker-reference') as {
  parseFamiliarName: (name: string) => ParsedReference;
};

/**
 * Checks an image reference given as `--tag` (`registry.example.com:5000/team/model:1.2.0`,
 * `localhost/mlpipe-penguins:1.0.0`, `penguins`): the distribution reference grammar, lowercase
 * repository, no digest (a build names a tag, not a digest). Returns it; ConfigError naming it.
 */
export function checkImageTag(tag: string, where = '--tag'): string {
  let parsed: ParsedReference;
  try {
    parsed = dockerReference.parseFamiliarName(tag);
  } catch (err) {
    throw new ConfigError(`${where}: ${JSON.stringify(tag)} is not a valid image reference (${(err as Error).message}; expected [registry/]name[:tag], lowercase, e.g. localhost/mlpipe-penguins:1.0.0)`);
  }
  if (parsed.digest) throw new ConfigError(`${where}: ${JSON.stringify(tag)} names a digest; a build is tagged with [registry/]name[:tag]`);
  return tag;
}

/** The default tag of a baked image: `localhost/mlpipe-<name>:<version>` (the name lowercased, made a valid path component). */
export function defaultImageTag(name: string, version: string): string {
  const component = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    .replace(/[._-]{2,}/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '');
  return `localhost/mlpipe-${component || 'model'}:${version}`;
}
