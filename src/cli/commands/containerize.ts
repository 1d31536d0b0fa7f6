import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ConfigError } from '../../core/errors.js';
import { ARTIFACTS_OPTION } from '../parse.js';
import { keyFiles, readTrusted } from './keys.js';

interface ContainerizeFlags {
  tag?: string;
  out?: string;
  artifacts?: string;
  requireSignature?: string[];
  build?: boolean;
  base?: string;
  json?: boolean;
}

/** A path for a message: relative to the current folder when inside it. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/**
 * `mlpipe containerize <bundle-ref>`: a container image with the bundle baked in. The bundle is
 * verified (and its signature checked with --require-signature), the build context written by the same
 * code as `make image` (core/deploy/context.ts), then built with podman, else docker when its daemon
 * answers; with neither, the context is kept and the build command printed.
 */
export function registerContainerize(program: Command, ctx: CliContext): void {
  program
    .command('containerize')
    .description('build a container image serving a bundle (verified, baked in): podman, else docker; with neither, write the build context and print the command that builds it')
    .argument('<bundle-ref>', 'bundle folder, name, name@1.2.0 or name@alias')
    .option('-t, --tag <image>', 'image reference to tag the build with (default: localhost/mlpipe-<name>:<version>)')
    .option('-o, --out <folder>', 'write the build context here and keep it (a new or empty folder; default: a temporary folder when building, ./<name>-<version>-image otherwise)')
    .option(...ARTIFACTS_OPTION)
    .option('--require-signature <pub.pem[,other.pem]>', 'refuse a bundle not signed by one of these public keys; the image checks the same keys at every start', keyFiles)
    .option('--build', 'build the image, failing when no container tool works here (default: build when podman or docker works)')
    .option('--no-build', 'only write the build context and print the command that builds it')
    .option('--base <image>', 'the image to build FROM (default: localhost/mlpipe-base:bookworm-node20, made by make image-base; e.g. node:20-bookworm-slim with a registry)')
    .option('--json', 'print one JSON document (context, tag, model, built, command) instead of the lines')
    .action(async (ref: string, opts: ContainerizeFlags) => {
      const { checkImageTag, defaultImageTag, findContainerTool, buildCommand, shellLine, runTool, runQuiet } = await import('../../core/deploy/builder.js');
      const { writeBuildContext, runtimeModules, imageCacheDir, verifyBakedBundle, checkContextFolder } = await import('../../core/deploy/context.js');
      const env = ctx.io.env;
      // Every flag first: a bad tag or key file is one line before anything is read or built.
      if (opts.tag !== undefined) checkImageTag(opts.tag);
      if (opts.base !== undefined) checkImageTag(opts.base, '--base');
      const keys = opts.requireSignature ? await readTrusted(ctx, opts.requireSignature) : undefined;
      const artifacts = ctx.artifacts(opts.artifacts);
      const search = opts.build === false ? { unusable: [] as string[] } : await findContainerTool(env);
      if (opts.build === true && !search.tool) {
        throw new ConfigError(`--build: no container tool works here (${search.unusable.join('; ')}); install podman (make image-deps) or start a docker daemon, or drop --build to write the build context only`);
      }
      const building = opts.build !== false && search.tool !== undefined;

      // The bundle is resolved and verified before anything is written or installed.
      const bundle = await verifyBakedBundle({ ref, artifacts, ...(keys && opts.requireSignature ? { requireSignature: { keys, files: opts.requireSignature.map((f) => resolve(f)) } } : {}) });
      const temporary = opts.out === undefined && building ? await mkdtemp(join(tmpdir(), 'mlpipe-image-')) : undefined;
      try {
        const out = temporary ?? resolve(opts.out ?? `${bundle.name}-${bundle.version}-image`);
        await checkContextFolder(out);
        const nodeModules = await runtimeModules({ cacheDir: imageCacheDir(env), onStep: (l) => ctx.note(l), env });
        const context = await writeBuildContext({ out, nodeModules, bundle, onStep: (l) => ctx.note(l) });
        const tag = opts.tag ?? defaultImageTag(bundle.name, bundle.version);
        const buildArgs: Record<string, string> = opts.base ? { BASE: opts.base } : {};
        const command = buildCommand(search.tool ?? 'podman', tag, context.dir, buildArgs);
        if (!building) {
          const why = opts.build === false ? '' : ` (no container tool works here: ${search.unusable.join('; ')})`;
          if (opts.json) {
            ctx.json({ context: context.dir, tag, model: context.model, signedBy: context.signedBy ?? null, built: false, command: shellLine(command) });
            return;
          }
          ctx.out(`wrote the build context of ${context.model} in ${shownPath(context.dir)}${context.signedBy ? ` (signed by key ${context.signedBy})` : ''}`);
          ctx.out(`build it${why} with:`);
          ctx.out(`  ${shellLine(command)}`);
          ctx.out(`or with docker: ${shellLine(buildCommand('docker', tag, context.dir, buildArgs))}`);
          return;
        }
        const tool = search.tool as 'podman' | 'docker';
        if (tool === 'podman' && !opts.base) {
          const base = 'localhost/mlpipe-base:bookworm-node20';
          const exists = await runQuiet('podman', ['image', 'exists', base], { env });
          if (exists.code !== 0) throw new ConfigError(`podman: the base image ${base} is missing; make it with make image-base (deploy/image/base.sh), or pass --base node:20-bookworm-slim where a registry is reachable`);
        }
        ctx.note(`building ${tag} with ${tool}: ${shellLine(command)}`);
        const tail: string[] = [];
        const code = await runTool(command, {
          env,
          onLine: (line) => {
            tail.push(line);
            if (tail.length > 20) tail.shift();
            ctx.progress(line);
          },
        });
        if (code !== 0) throw new ConfigError(`${tool} build failed with exit code ${code}: ${tail.filter((l) => l.trim() !== '').slice(-3).join(' / ')}`);
        const size = await runQuiet(tool, ['image', 'inspect', tag, '--format', '{{.Size}}'], { env });
        const bytes = Number(size.stdout.trim());
        if (opts.json) {
          ctx.json({ context: temporary ? null : context.dir, tag, model: context.model, signedBy: context.signedBy ?? null, built: true, tool, bytes: Number.isFinite(bytes) ? bytes : null, command: shellLine(command) });
          return;
        }
        ctx.out(`built ${tag} with ${tool}: ${context.model}${context.signedBy ? ` (signed by key ${context.signedBy})` : ''}${Number.isFinite(bytes) && bytes > 0 ? `, ${(bytes / 1e6).toFixed(0)} MB` : ''}`);
        if (!temporary) ctx.out(`build context: ${shownPath(context.dir)}`);
        ctx.out(`run it: ${tool} run --rm --read-only -p 127.0.0.1:8080:8080 ${tag}`);
      } finally {
        if (temporary) await rm(temporary, { recursive: true, force: true });
      }
    });
}
