/**
 * The build context of the mlpipe container image (issue 14): one function writes it for `make image`
 * (no bundle) and for `mlpipe containerize` (a verified bundle baked in), so both build the same way.
 *
 *   <out>/Dockerfile        the repository's Dockerfile (+ ENV lines naming a baked bundle)
 *   <out>/prune.mjs         deploy/image/prune.mjs, run by the build stage
 *   <out>/app/              bin/, dist/ (no source maps), package.json (mlpipe's name and version, the
 *                           runtime dependencies), package-lock.json and node_modules: `npm ci --omit=dev`
 *                           of deploy/image/package-lock.json, pruned, cached outside the clone
 *   <out>/artifacts/        a folder store holding the baked bundle (empty without one)
 *   <out>/keys/             the public keys the baked bundle is signed by (with requireSignature)
 *
 * Nothing in the image is fetched while it is built: the base has no npm and no registry may be
 * reachable. Core: no printing; `onStep` tells the caller what is under way.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, readdir, rename, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, NotFoundError } from '../errors.js';
import { pathExists } from '../fs-util.js';
import type { TrustedKey } from '../bundle/signature.js';

/** Where trusted keys live in the container (the Dockerfile's /srv/mlpipe/…). */
const IMAGE_KEYS_DIR = '/srv/mlpipe/keys';

/** The mlpipe installation this module belongs to (dist/core/deploy/ or src/core/deploy/ → the root). */
function appRoot(): string {
  return resolve(fileURLToPath(new URL('../../../', import.meta.url)));
}

/** The image cache: MLPIPE_IMAGE_CACHE, else $XDG_CACHE_HOME/mlpipe/image, else ~/.cache/mlpipe/image (as deploy/image/env.sh). */
export function imageCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MLPIPE_IMAGE_CACHE) return env.MLPIPE_IMAGE_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mlpipe', 'image');
}

export interface RuntimeManifest {
  name: string;
  version: string;
  dependencies: Record<string, string>;
}

/** deploy/image/package.json: the dependencies `serve` needs in the image. */
export async function readRuntimeManifest(root = appRoot()): Promise<RuntimeManifest> {
  const file = join(root, 'deploy', 'image', 'package.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RuntimeManifest;
  } catch (err) {
    throw new NotFoundError(`${file}: cannot read the image's runtime dependencies (${(err as Error).message})`);
  }
}

/**
 * The runtime node_modules for deploy/image/package-lock.json: `npm ci --omit=dev --ignore-scripts
 * --prefer-offline`, then deploy/image/prune.mjs, once per lockfile and prune script into
 * `<cache>/runtime-<sha256 of both>/`, then reused
 * (a fresh clone on the same machine finds it). Written into a temporary folder and renamed into place,
 * so a run cut short leaves nothing half-installed. Returns the node_modules folder.
 */
export async function runtimeModules(options: { root?: string; cacheDir: string; onStep?: (line: string) => void; env?: NodeJS.ProcessEnv }): Promise<string> {
  const root = options.root ?? appRoot();
  const lockFile = join(root, 'deploy', 'image', 'package-lock.json');
  const lock = await readFile(lockFile).catch(() => {
    throw new NotFoundError(`${lockFile}: missing; the image's runtime dependencies are installed from it`);
  });
  const prune = join(root, 'deploy', 'image', 'prune.mjs');
  const digest = createHash('sha256').update(lock).update(await readFile(prune)).digest('hex').slice(0, 16);
  const dir = join(options.cacheDir, `runtime-${digest}`);
  const modules = join(dir, 'node_modules');
  if (await pathExists(join(modules, '.package-lock.json'))) return modules;
  options.onStep?.(`installing the image's runtime dependencies (npm ci --omit=dev of ${lockFile}) into ${dir}`);
  await mkdir(options.cacheDir, { recursive: true });
  const tmp = join(options.cacheDir, `.runtime-${digest}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { recursive: true });
  try {
    await copyFile(join(root, 'deploy', 'image', 'package.json'), join(tmp, 'package.json'));
    await copyFile(lockFile, join(tmp, 'package-lock.json'));
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], tmp, options.env);
    // Pruned here already (the build stage prunes again, a no-op then): half the files to copy and hash.
    await run(process.execPath, [prune, join(tmp, 'node_modules')], tmp, options.env);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return modules;
}

/** Runs a command to completion; ConfigError with its last lines of output when it fails. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(new ConfigError(err.code === 'ENOENT' ? `${command}: not found on the PATH (needed to install the image's runtime dependencies)` : `${command}: ${err.message}`));
    });
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else reject(new ConfigError(`${command} ${args.join(' ')} (in ${cwd}) failed with exit code ${code}: ${output.trim().split('\n').slice(-3).join(' / ')}`));
    });
  });
}

/** A bundle to bake into the image. */
export interface BakedBundle {
  ref: string;
  artifacts: string;
  /** Refuse a bundle not signed by one of these keys; the image then requires the same at every start. */
  requireSignature?: { keys: TrustedKey[]; files: string[] };
}

/** A bundle resolved and verified for baking ({@link verifyBakedBundle}). */
export interface VerifiedBundle {
  dir: string;
  name: string;
  version: string;
  /** The key id of the signature checked (with requireSignature). */
  signedBy?: string;
  /** The public key files the image checks the signature against at every start. */
  keyFiles: string[];
}

/**
 * Resolves a bundle in its store and verifies every file against the manifest, and the signature
 * against the trusted keys when asked: the same checks as serve and predict. Throws (NotFoundError,
 * VerificationError) naming the bundle or the file at fault; nothing is written.
 */
export async function verifyBakedBundle(bundle: BakedBundle): Promise<VerifiedBundle> {
  const { resolveRef } = await import('../bundle/store.js');
  const { verifyBundle } = await import('../bundle/verify.js');
  const { dir, verified } = await resolveRef(bundle.ref, bundle.artifacts);
  const manifest = verified ?? (await verifyBundle(dir));
  let signedBy: string | undefined;
  if (bundle.requireSignature) {
    const { checkSignature } = await import('../bundle/signature.js');
    signedBy = (await checkSignature(dir, manifest, bundle.requireSignature.keys)).keyId;
  }
  return { dir, name: manifest.name, version: manifest.version, ...(signedBy ? { signedBy } : {}), keyFiles: bundle.requireSignature?.files ?? [] };
}

export interface WriteContextOptions {
  /** The folder to write: must not exist yet, or be empty. */
  out: string;
  /** The runtime node_modules to copy ({@link runtimeModules}). */
  nodeModules: string;
  /** A bundle to bake in, verified by {@link verifyBakedBundle}. */
  bundle?: VerifiedBundle;
  root?: string;
  onStep?: (line: string) => void;
}

export interface BuildContext {
  dir: string;
  /** `name@version` of the baked bundle. */
  model?: string;
  /** The key id the baked bundle is signed by, when a signature was required. */
  signedBy?: string;
  /** The ENV lines added to the Dockerfile for the baked bundle. */
  env: Record<string, string>;
}

/** A build context goes into a new or empty folder: ConfigError naming it otherwise. */
export async function checkContextFolder(out: string): Promise<void> {
  if (!(await pathExists(out))) return;
  const st = await stat(out);
  if (!st.isDirectory()) throw new ConfigError(`${out}: exists and is not a folder`);
  if ((await readdir(out)).length > 0) throw new ConfigError(`${out}: not empty; a build context is written into a new or empty folder`);
}

/**
 * Writes the image's build context into `out` (see the file's comment). A baked bundle is copied into
 * `<out>/artifacts` through the store's own publishing, which verifies it again and predicts its golden
 * records: a bundle that does not verify is never written into a context.
 */
export async function writeBuildContext(options: WriteContextOptions): Promise<BuildContext> {
  const root = options.root ?? appRoot();
  const out = resolve(options.out);
  const dist = join(root, 'dist', 'cli', 'main.js');
  if (!(await pathExists(dist))) throw new ConfigError(`${join(root, 'dist')}: not built; run make build (npx tsc -p tsconfig.build.json) first`);
  await checkContextFolder(out);
  const baked = options.bundle;

  await mkdir(out, { recursive: true });
  const app = join(out, 'app');
  options.onStep?.(`writing the build context in ${out}`);
  await mkdir(app);
  await cp(join(root, 'bin'), join(app, 'bin'), { recursive: true });
  await cp(join(root, 'dist'), join(app, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') && !src.endsWith('.d.ts') });
  const rootPackage = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
  const runtime = await readRuntimeManifest(root);
  const appPackage = {
    name: rootPackage.name,
    version: rootPackage.version,
    private: true,
    type: 'module',
    ...(rootPackage.license ? { license: rootPackage.license } : {}),
    bin: { mlpipe: 'bin/mlpipe' },
    dependencies: runtime.dependencies,
  };
  await writeFile(join(app, 'package.json'), `${JSON.stringify(appPackage, null, 2)}\n`);
  await copyFile(join(root, 'deploy', 'image', 'package-lock.json'), join(app, 'package-lock.json'));
  await cp(options.nodeModules, join(app, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  await copyFile(join(root, 'deploy', 'image', 'prune.mjs'), join(out, 'prune.mjs'));
  await mkdir(join(out, 'artifacts'));
  await mkdir(join(out, 'keys'));

  const env: Record<string, string> = {};
  if (baked) {
    options.onStep?.(`copying ${baked.name}@${baked.version} into ${join(out, 'artifacts')} (verified again, golden records predicted)`);
    const { publishExisting } = await import('../bundle/transfer.js');
    await publishExisting(join(out, 'artifacts'), baked.dir);
    env.MLPIPE_MODEL = `${baked.name}@${baked.version}`;
    const files = baked.keyFiles;
    if (files.length > 0) {
      const inImage: string[] = [];
      for (const [i, file] of files.entries()) {
        const name = `${i + 1}-${basename(file).replace(/[^A-Za-z0-9._-]/g, '_')}`;
        await copyFile(file, join(out, 'keys', name));
        inImage.push(`${IMAGE_KEYS_DIR}/${name}`);
      }
      env.MLPIPE_REQUIRE_SIGNATURE = inImage.join(',');
    }
  }
  let dockerfile = await readFile(join(root, 'Dockerfile'), 'utf8');
  if (Object.keys(env).length > 0) {
    dockerfile += `\n# Baked in by mlpipe containerize: the bundle served${env.MLPIPE_REQUIRE_SIGNATURE ? ' and the keys its signature is checked against at every start' : ''}.\n`;
    dockerfile += `ENV ${Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' \\\n    ')}\n`;
  }
  await writeFile(join(out, 'Dockerfile'), dockerfile);
  return { dir: out, env, ...(baked ? { model: `${baked.name}@${baked.version}` } : {}), ...(baked?.signedBy ? { signedBy: baked.signedBy } : {}) };
}
