import { lstat, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { ConfigError, ConflictError, NotFoundError, VerificationError, messageOf } from '../errors.js';
import { faultPoint } from '../test-seam.js';
import { LOCK_DIR, LOCK_OWNER_FILE, cleanLeftovers, writeOwner } from './leftovers.js';
import { prettyJson, writeFileAtomic } from '../fs-util.js';
import { suggest } from '../suggest.js';
import { NAME_RE, VERSION_RE, isBundleName, shown } from './names.js';
import { ALIASES_FILE, MANIFEST_FILE } from './manifest.js';
import { ownValue } from '../dict.js';

const ALIAS_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

export { checkName, checkVersion } from './names.js';

/** Checks an alias name (`production`, `staging`, …); it may not look like a version. */
export function checkAlias(alias: string): string {
  if (alias.length > 100 || !ALIAS_RE.test(alias)) throw new ConfigError(`alias: ${shown(alias)} is not a valid alias (a letter, then letters, digits, "_" or "-"; at most 100 characters)`);
  return alias;
}

/** Compares X.Y.Z versions numerically. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The version after `v` with its patch number raised (`1.2.3` → `1.2.4`); `1.0.0` when there is none. */
export function nextPatch(v: string | undefined): string {
  if (!v) return '1.0.0';
  const [major, minor, patch] = v.split('.').map(Number) as [number, number, number];
  return `${major}.${minor}.${patch + 1}`;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Bundle names in a store, sorted. */
export async function listNames(artifacts: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(artifacts);
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const e of entries) if (isBundleName(e) && (await isDir(join(artifacts, e)))) names.push(e);
  return names.sort();
}

/** Versions of one bundle name, oldest first (folders of the form X.Y.Z only; temporary folders are ignored). */
export async function listVersions(artifacts: string, name: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(join(artifacts, name));
  } catch {
    return [];
  }
  const versions: string[] = [];
  for (const e of entries) if (VERSION_RE.test(e) && (await isDir(join(artifacts, name, e)))) versions.push(e);
  return versions.sort(compareVersions);
}

/** Reads `artifacts/<name>/aliases.json` (empty when absent). */
export async function readAliases(artifacts: string, name: string): Promise<Record<string, string>> {
  const path = join(artifacts, name, ALIASES_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected an object of alias → version');
    return parsed as Record<string, string>;
  } catch (err) {
    throw new ConfigError(`${path}: invalid aliases file (${messageOf(err)})`);
  }
}

/**
 * Changes `aliases.json` under a file lock (so concurrent promotions do not lose each other's
 * changes), writing it atomically. `update` returns the new alias map.
 */
export async function updateAliases(
  artifacts: string,
  name: string,
  update: (aliases: Record<string, string>) => Record<string, string>,
): Promise<Record<string, string>> {
  const dir = join(artifacts, name);
  // A lock left by a promoter or packager killed while holding it: removed when its owner is gone.
  await cleanLeftovers(artifacts, name);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, { lockfilePath: join(dir, LOCK_DIR), retries: { retries: 60, minTimeout: 20, maxTimeout: 250 }, realpath: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    throw new ConflictError(`${join(dir, LOCK_DIR)}: the aliases of "${name}" are being changed by another mlpipe; try again (mlpipe bundles gc removes a lock whose owner is gone)`);
  }
  try {
    await writeOwner(join(dir, LOCK_OWNER_FILE));
    await faultPoint('aliases:locked', join(dir, LOCK_DIR));
    const next = update(await readAliases(artifacts, name));
    await writeFileAtomic(join(dir, ALIASES_FILE), prettyJson(next));
    return next;
  } finally {
    await rm(join(dir, LOCK_OWNER_FILE), { force: true });
    await release();
  }
}

/** A resolved bundle reference. */
export interface ResolvedRef {
  dir: string;
  name?: string;
  version?: string;
}

/**
 * Resolves a bundle reference: a folder holding a manifest, `name` (newest version), `name@1.2.0`
 * or `name@alias`. Throws NotFoundError saying what exists instead.
 */
export async function resolveRef(ref: string, artifacts: string): Promise<ResolvedRef> {
  if ((ref.includes('/') || ref.startsWith('.')) && !ref.includes('@')) {
    const dir = resolve(ref);
    if (await isDir(dir)) {
      try {
        await stat(join(dir, MANIFEST_FILE));
      } catch {
        throw new NotFoundError(`${ref}: no ${MANIFEST_FILE} in this folder; it is not a bundle`);
      }
      return { dir };
    }
    throw new NotFoundError(`${ref}: no such bundle folder`);
  }
  const at = ref.indexOf('@');
  const name = at < 0 ? ref : ref.slice(0, at);
  const selector = at < 0 ? undefined : ref.slice(at + 1);
  if (!isBundleName(name)) throw new NotFoundError(`${shown(ref)}: not a bundle reference (use a folder, name, name@1.2.0 or name@alias)`);
  const versions = await listVersions(artifacts, name);
  if (versions.length === 0) {
    const names = await listNames(artifacts);
    const hint = suggest(name, names);
    throw new NotFoundError(
      `${ref}: no bundle named "${name}" in ${artifacts}${hint ? ` (did you mean "${hint}"?)` : names.length ? ` (bundles: ${names.join(', ')})` : ' (the store is empty)'}`,
    );
  }
  let version: string | undefined;
  if (selector === undefined || selector === '' || selector === 'latest') version = versions[versions.length - 1];
  else if (VERSION_RE.test(selector)) {
    if (!versions.includes(selector)) throw new NotFoundError(`${ref}: no version ${selector} of "${name}" (versions: ${versions.join(', ')})`);
    version = selector;
  } else {
    const aliases = await readAliases(artifacts, name);
    version = ownValue(aliases, selector); // an alias may be named `constructor`
    if (version === undefined) {
      const known = Object.keys(aliases);
      throw new NotFoundError(`${ref}: "${name}" has no alias "${selector}" (${known.length ? `aliases: ${known.join(', ')}` : 'no aliases yet; see mlpipe bundles promote'})`);
    }
    if (!versions.includes(version)) throw new NotFoundError(`${ref}: alias "${selector}" points to ${version}, which does not exist`);
  }
  const nameDir = join(artifacts, name);
  if ((await lstat(nameDir)).isSymbolicLink()) throw new VerificationError(MANIFEST_FILE, `${nameDir}: is a symbolic link; a bundle name's folder in the store must be a real folder (refusing it)`);
  return { dir: join(nameDir, version as string), name, version };
}
