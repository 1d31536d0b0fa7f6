import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, NotFoundError } from '../errors.js';
import { suggest } from '../suggest.js';
import { VERSION_RE, isBundleName, shown } from './names.js';
import { MANIFEST_FILE, type Manifest } from './manifest.js';
import { checkBundleDir, parseManifest, readManifest } from './verify.js';
import { ownValue } from '../records/dict.js';
import { FolderStore } from './stores/folder.js';
import { verifiedManifest } from './stores/cache.js';
import { isFolderRef, remoteBundleLocation, schemeOf } from './stores/location.js';
import type { BundleStore } from './stores/types.js';

const ALIAS_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

export { checkName, checkVersion } from './names.js';

/** Checks an alias name (`production`, `staging`, …); it may not look like a version. */
export function checkAlias(alias: string): string {
  if (alias.length > 100 || !ALIAS_RE.test(alias)) throw new ConfigError(`alias: ${shown(alias)} is not a valid alias (a letter, then letters, digits, "_" or "-"; at most 100 characters)`);
  return alias;
}

export { compareVersions, nextPatch } from './stores/common.js';
export type { AliasEvent, BundleStore } from './stores/types.js';

export { isFolderRef, isRemoteLocation } from './stores/location.js';

const opened = new Map<string, BundleStore>();

/**
 * The store at a location: a folder path, `s3://bucket/prefix` or `https://host/path/` (read-only).
 * An unknown scheme is a ConfigError naming it. Remote stores' modules load only when used.
 */
export async function openStore(location: string): Promise<BundleStore> {
  const known = opened.get(location);
  if (known) return known;
  const scheme = schemeOf(location);
  let store: BundleStore;
  if (scheme === undefined || scheme === 'file') {
    store = new FolderStore(scheme === 'file' ? fileURLToPath(location) : location);
  } else if (scheme === 's3') {
    const { S3Store } = await import('./stores/s3.js');
    store = S3Store.fromLocation(location);
  } else if (scheme === 'http' || scheme === 'https') {
    const { HttpStore } = await import('./stores/http.js');
    store = HttpStore.fromLocation(location);
  } else {
    throw new ConfigError(`${shown(location)}: unknown bundle store scheme "${scheme}:" (use a folder, s3://bucket/prefix or https://host/path/)`);
  }
  opened.set(location, store);
  return store;
}

/**
 * Makes the next listing of a store ask the store again rather than a copy read earlier (the HTTP
 * store's `index.json`): what a server following a name or alias calls before each check.
 */
export async function refreshStore(location: string): Promise<void> {
  (await openStore(location)).refresh?.();
}

/** Where a bundle of a store is, for messages: its folder, or `s3://bucket/prefix/name/1.0.0`. */
export function bundleLocation(store: BundleStore, name: string, version: string): string {
  return store.kind === 'folder' ? join(store.location, name, version) : remoteBundleLocation(store.location, name, version);
}

/**
 * The checked manifest of a published bundle, read on its own (its own checksum and shape; the other
 * files are not read: `bundles list` is fast on every store kind). A folder store's bundle folder
 * must be a real folder.
 */
export async function readStoreManifest(artifacts: string, name: string, version: string): Promise<Manifest> {
  const store = await openStore(artifacts);
  if (store.kind === 'folder') {
    const dir = await store.bundleDir(name, version);
    await checkBundleDir(dir);
    return readManifest(dir);
  }
  const text = (await store.readFile(name, version, MANIFEST_FILE)).toString('utf8');
  return parseManifest(text, `${bundleLocation(store, name, version)}/${MANIFEST_FILE}`);
}

/** Bundle names in a store, sorted. */
export async function listNames(artifacts: string): Promise<string[]> {
  return (await openStore(artifacts)).listNames();
}

/** Versions of one bundle name, oldest first (published ones only: temporary folders are ignored). */
export async function listVersions(artifacts: string, name: string): Promise<string[]> {
  return (await openStore(artifacts)).listVersions(name);
}

/** Reads `<name>/aliases.json` (empty when absent). */
export async function readAliases(artifacts: string, name: string): Promise<Record<string, string>> {
  return (await openStore(artifacts)).readAliases(name);
}

/**
 * Changes `<name>/aliases.json` atomically (a file lock in a folder, a conditional write in S3), so
 * concurrent promotions do not lose each other's changes; each change goes into the alias history
 * as `action`. `update` returns the new alias map; the new map is returned.
 */
export async function updateAliases(
  artifacts: string,
  name: string,
  update: (aliases: Record<string, string>) => Record<string, string>,
  action = 'promote',
): Promise<Record<string, string>> {
  return (await (await openStore(artifacts)).updateAliases(name, update, action)).after;
}

/** A resolved bundle reference. */
export interface ResolvedRef {
  dir: string;
  /** The manifest, when the bundle was verified on its way here (from a remote store into the cache). */
  verified?: Manifest;
  name?: string;
  version?: string;
}

/**
 * Resolves a bundle reference: a folder holding a manifest, `name` (newest version), `name@1.2.0`,
 * `name@alias`, or `npm:@scope/package[@1.2.0]` (the bundle of an installed npm package, found from
 * the current folder upwards; see npm.ts). Throws NotFoundError saying what exists instead.
 */
export async function resolveRef(ref: string, artifacts: string): Promise<ResolvedRef> {
  if (ref.startsWith('npm:')) {
    const { resolveNpmRef } = await import('./npm.js');
    return resolveNpmRef(ref);
  }
  if (isFolderRef(ref)) {
    const dir = resolve(ref);
    if (await stat(dir).then((s) => s.isDirectory(), () => false)) {
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
  if (!isBundleName(name)) throw new NotFoundError(`${shown(ref)}: not a bundle reference (use a folder, name, name@1.2.0, name@alias or npm:@scope/package@1.2.0)`);
  const store = await openStore(artifacts);
  if (store.kind !== 'folder' && selector !== undefined && VERSION_RE.test(selector)) {
    // An exact version of a remote store: fetched at once (a listing only to explain a missing one).
    try {
      const dir = await store.bundleDir(name, selector);
      const manifest = verifiedManifest(dir);
      return { dir, name, version: selector, ...(manifest ? { verified: manifest } : {}) };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  const version = await versionOf(ref, name, selector, artifacts);
  const dir = await store.bundleDir(name, version);
  const manifest = store.kind === 'folder' ? undefined : verifiedManifest(dir);
  return { dir, name, version, ...(manifest ? { verified: manifest } : {}) };
}

/**
 * The name and version a store reference (`name`, `name@1.2.0`, `name@alias`) points at, without
 * reading the bundle. NotFoundError saying what exists instead.
 */
export async function resolveVersion(ref: string, artifacts: string): Promise<{ name: string; version: string }> {
  const at = ref.indexOf('@');
  const name = at < 0 ? ref : ref.slice(0, at);
  const selector = at < 0 ? undefined : ref.slice(at + 1);
  if (!isBundleName(name)) throw new NotFoundError(`${shown(ref)}: not a bundle reference in a store (use name, name@1.2.0 or name@alias)`);
  return { name, version: await versionOf(ref, name, selector, artifacts) };
}

async function versionOf(ref: string, name: string, selector: string | undefined, artifacts: string): Promise<string> {
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
  return version as string;
}
