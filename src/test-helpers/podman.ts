/**
 * Podman for the image test (test/image.test.ts) and bench/image.ts: the settings of deploy/image/env.sh
 * (runc, ulimits), whether podman can run here at all, building an image from a context written by
 * core/deploy/context.ts, and running containers on free loopback ports.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliRun, ROOT, runCommand } from './fixtures.js';
import { imageCacheDir, runtimeModules, verifyBakedBundle, writeBuildContext } from '../core/deploy/context.js';

export const BASE_IMAGE = 'localhost/mlpipe-base:bookworm-node20';

/** The environment of deploy/image/env.sh (CONTAINERS_CONF with runc and lowered ulimits), as the Makefile's image targets have it. */
export async function podmanEnv(): Promise<NodeJS.ProcessEnv> {
  const shown = await runCommand('bash', ['-c', 'source deploy/image/env.sh && printf "%s\\n%s\\n%s" "$CONTAINERS_CONF" "$BUILDAH_ISOLATION" "$MLPIPE_IMAGE_CACHE"'], { cwd: ROOT });
  if (shown.code !== 0) throw new Error(`deploy/image/env.sh failed: ${shown.stderr}`);
  const [conf, isolation, cache] = shown.stdout.split('\n');
  return { ...process.env, CONTAINERS_CONF: conf, BUILDAH_ISOLATION: isolation, MLPIPE_IMAGE_CACHE: cache };
}

/** Why podman cannot run images here (undefined when it can): not installed, `podman info` fails, no base image. */
export async function podmanUnusable(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const info = await runCommand('podman', ['info'], { env, timeoutMs: 60_000 }).catch(() => undefined);
  if (!info) return 'podman is not installed (make image-deps)';
  if (info.code !== 0) return `podman info failed: ${info.stderr.trim().split('\n')[0]}`;
  const base = await podman(env, ['image', 'exists', BASE_IMAGE]);
  if (base.code !== 0) return `the base image ${BASE_IMAGE} is missing (make image-base)`;
  return undefined;
}

/** Runs podman with the image settings. */
export function podman(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 300_000): Promise<CliRun> {
  return runCommand('podman', args, { env, timeoutMs });
}

/** Runs podman and fails with its output unless it exits 0; returns stdout, trimmed. */
export async function podmanOk(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 300_000): Promise<string> {
  const r = await podman(env, args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(-2000)}`);
  return r.stdout.trim();
}

/**
 * Builds an image from a build context written by core/deploy/context.ts: without a bundle (as make
 * image), or with `bundle` baked in (as mlpipe containerize). `alter` may change the context before the
 * build (a test tampering with the baked bundle). Returns the build's wall time.
 */
export async function buildImage(
  env: NodeJS.ProcessEnv,
  tag: string,
  options: { bundle?: { ref: string; artifacts: string }; alter?: (contextDir: string) => Promise<void> } = {},
): Promise<{ ms: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'mlpipe-image-test-'));
  try {
    const out = join(dir, 'context');
    const nodeModules = await runtimeModules({ cacheDir: imageCacheDir(env), env });
    const bundle = options.bundle ? await verifyBakedBundle(options.bundle) : undefined;
    await writeBuildContext({ out, nodeModules, ...(bundle ? { bundle } : {}) });
    await options.alter?.(out);
    const started = performance.now();
    await podmanOk(env, ['build', '--format', 'docker', '-t', tag, out], 600_000);
    return { ms: performance.now() - started };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A running container: its name and the loopback URL of its port 8080. */
export interface Container {
  name: string;
  url: string;
}

/** A name for a container or image of this run. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Starts a container detached, read-only root filesystem, port 8080 on a free loopback port (podman
 * picks it: `-p 127.0.0.1::8080`, read back with `podman port`).
 */
export async function startContainer(env: NodeJS.ProcessEnv, image: string, options: { env?: Record<string, string>; args?: string[] } = {}): Promise<Container> {
  const name = uniqueName('mlpipe-it');
  const envArgs = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await podmanOk(env, ['run', '-d', '--read-only', '--name', name, '-p', '127.0.0.1::8080', ...envArgs, ...(options.args ?? []), image]);
  const port = await podmanOk(env, ['port', name, '8080/tcp']);
  const hostPort = /:(\d+)\s*$/.exec(port.split('\n')[0] ?? '')?.[1];
  if (!hostPort) throw new Error(`podman port ${name}: no port in ${JSON.stringify(port)}`);
  return { name, url: `http://127.0.0.1:${hostPort}` };
}

/** The container's state (running, exit code). */
export async function containerState(env: NodeJS.ProcessEnv, name: string): Promise<{ running: boolean; exitCode: number }> {
  const out = await podmanOk(env, ['inspect', name, '--format', '{{.State.Running}} {{.State.ExitCode}}']);
  const [running, code] = out.split(' ');
  return { running: running === 'true', exitCode: Number(code) };
}

/** The container's log (stdout and stderr of PID 1). */
export async function containerLogs(env: NodeJS.ProcessEnv, name: string): Promise<string> {
  const r = await podman(env, ['logs', name]);
  return `${r.stdout}${r.stderr}`;
}

/**
 * Waits until GET /readyz answers 200; fails with the container's log when it exits first or
 * `timeoutMs` passes. Resolves with the ms from the call to ready.
 */
export async function waitReady(env: NodeJS.ProcessEnv, c: Container, timeoutMs = 120_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const status = await fetch(`${c.url}/readyz`).then((r) => r.status, () => 0);
    if (status === 200) return performance.now() - started;
    const state = await containerState(env, c.name);
    if (!state.running) throw new Error(`container ${c.name} exited (code ${state.exitCode}) before it was ready:\n${await containerLogs(env, c.name)}`);
    if (performance.now() - started > timeoutMs) throw new Error(`container ${c.name} not ready after ${timeoutMs} ms:\n${await containerLogs(env, c.name)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Removes containers (stopping them at once) and images; never fails. */
export async function removeAll(env: NodeJS.ProcessEnv, containers: readonly string[], images: readonly string[] = []): Promise<void> {
  if (containers.length > 0) await podman(env, ['rm', '-f', '-t', '0', ...containers]);
  if (images.length > 0) await podman(env, ['rmi', '-f', ...images]);
}
