import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, NotFoundError, VerificationError } from '../../errors.js';
import { sha256, tempPathBeside } from '../../fs-util.js';
import { MANIFEST_FILE, type Manifest } from '../manifest.js';
import { forEachLimited } from '../../limited.js';
import { remoteBundleLocation } from './location.js';
import { SIGNATURE_FILE, SIGNATURE_MAX_BYTES, parseSignature } from '../signature-format.js';
import { changedAfterSigningMessage, readManifest, verifyBundle } from '../verify.js';


/** What the cache needs of a remote store: read one file of a bundle (undefined when it does not exist). */
export interface RemoteFiles {
  readonly location: string;
  /** The bytes of a bundle file; undefined when the store has no such file. `maxBytes` bounds what is read. */
  fetchFile(name: string, version: string, file: string, maxBytes: number): Promise<Buffer | undefined>;
}

/** The local cache of remote bundles: `MLPIPE_CACHE`, else `$XDG_CACHE_HOME/mlpipe`, else `~/.cache/mlpipe`. */
function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MLPIPE_CACHE) return env.MLPIPE_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mlpipe');
}

/** A remote file larger than the bytes expected of it: refused while it is read, never held whole. */
export class OversizeError extends ConfigError {
  constructor(where: string, readonly maxBytes: number) {
    super(`${where}: larger than the ${maxBytes} bytes expected; refusing it`);
  }
}

/** A manifest is at most this big (the largest real ones are a few hundred KB: input schemas of 100,000 columns are bigger, but bounded). */
const MANIFEST_MAX_BYTES = 256 * 1024 * 1024;
/** Files downloaded (and, by the S3 store, uploaded) at once. */
export const TRANSFER_CONCURRENCY = 8;

/** The manifests of cached folders this process has just verified (so a caller need not hash them again). */
const verified = new Map<string, Manifest>();

/** The manifest of a cached bundle folder this process verified when it returned it, if any. */
export function verifiedManifest(dir: string): Manifest | undefined {
  return verified.get(dir);
}

/**
 * A verified local copy of a remote bundle: `<cache>/<store id>/<name>/<version>/`. The cache holds
 * only verified bundles: a bundle is downloaded into a temporary folder beside, every checksum is
 * checked, and only then renamed into place. On every use the remote manifest is read again: when it
 * is the cached one (bundles are immutable) the cached copy is verified and used; when it differs the
 * bundle is downloaded again, so a bundle changed in the store is verified anew (and refused if it
 * does not verify). Throws NotFoundError when the store has no such bundle, VerificationError naming
 * the file when the remote bundle does not verify.
 */
export async function cachedBundle(remote: RemoteFiles, name: string, version: string): Promise<string> {
  const where = remoteBundleLocation(remote.location, name, version);
  const [manifestBytes, signature] = await Promise.all([
    remote.fetchFile(name, version, MANIFEST_FILE, MANIFEST_MAX_BYTES),
    remote.fetchFile(name, version, SIGNATURE_FILE, SIGNATURE_MAX_BYTES),
  ]);
  if (!manifestBytes) throw new NotFoundError(`${where}: no ${MANIFEST_FILE}; no such bundle in the store`);
  const storeDir = join(cacheRoot(), sha256(remote.location).slice(0, 16));
  const dir = join(storeDir, name, version);
  const cached = await readFile(join(dir, MANIFEST_FILE)).catch(() => undefined);
  if (cached && cached.equals(manifestBytes)) {
    try {
      await syncSignature(dir, signature);
      verified.set(dir, await verifyBundle(dir));
      return dir;
    } catch {
      // A cached copy changed on this disk: downloaded again below.
    }
  }
  await mkdir(join(storeDir, name), { recursive: true });
  const tmp = tempPathBeside(dir);
  try {
    await mkdir(tmp);
    const checked = await downloadBundle(remote, name, version, tmp, { manifestBytes, signature });
    // Another process (a replica sharing the cache) may have put the same bundle in place meanwhile:
    // its copy is kept (it may be reading it), ours dropped.
    const now = await readFile(join(dir, MANIFEST_FILE)).catch(() => undefined);
    if (now && now.equals(manifestBytes) && (!cached || !cached.equals(manifestBytes))) {
      await rm(tmp, { recursive: true, force: true });
      await syncSignature(dir, signature);
      verified.set(dir, checked);
      return dir;
    }
    const old = tempPathBeside(dir);
    await rename(dir, old).catch(() => undefined);
    await rename(tmp, dir);
    await rm(old, { recursive: true, force: true });
    verified.set(dir, checked);
    return dir;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Downloads a remote bundle into the empty folder `into`, checking every file as it arrives (size and
 * sha256 against the manifest, in memory: nothing unverified is written) and signature.json's shape
 * and target; returns the manifest. For the cache, and for `bundles pull`, which downloads straight
 * into the receiving store's staging folder. The caller removes `into` on failure.
 */
export async function downloadBundle(
  remote: RemoteFiles,
  name: string,
  version: string,
  into: string,
  fetched?: { manifestBytes: Buffer; signature: Buffer | undefined },
): Promise<Manifest> {
  const where = remoteBundleLocation(remote.location, name, version);
  const [manifestBytes, signature] = fetched
    ? [fetched.manifestBytes, fetched.signature]
    : await Promise.all([remote.fetchFile(name, version, MANIFEST_FILE, MANIFEST_MAX_BYTES), remote.fetchFile(name, version, SIGNATURE_FILE, SIGNATURE_MAX_BYTES)]);
  if (!manifestBytes) throw new NotFoundError(`${where}: no ${MANIFEST_FILE}; no such bundle in the store`);
  const tmp = into;
  await writeFile(join(tmp, MANIFEST_FILE), manifestBytes);
  const manifest = await relabel(where, () => readManifest(tmp));
  // Every download ends before the folder is removed on a failure (the first failure stops the others).
  await forEachLimited(Object.entries(manifest.files), TRANSFER_CONCURRENCY, async ([file, expected]) => {
    let bytes: Buffer | undefined;
    try {
      bytes = await remote.fetchFile(name, version, file, expected.bytes);
    } catch (err) {
      if (!(err instanceof OversizeError)) throw err;
      throw new VerificationError(file, `${where}/${file}: larger than the ${expected.bytes} bytes the manifest says: the file was changed after the bundle was written (in the store; nothing was kept)`);
    }
    if (!bytes) throw new VerificationError(file, `${where}/${file}: missing (listed in the manifest)`);
    // Checked as it arrives, in memory: nothing unverified is written.
    const actual = sha256(bytes);
    if (bytes.length !== expected.bytes || actual !== expected.sha256) {
      throw new VerificationError(
        file,
        `${where}/${file}: checksum mismatch (${bytes.length} bytes, sha256 ${actual.slice(0, 12)}…; the manifest says ${expected.bytes} bytes, ${expected.sha256.slice(0, 12)}…): the file was changed after the bundle was written (in the store; nothing was kept)`,
      );
    }
    await writeFile(join(tmp, file), bytes);
  });
  if (signature) {
    // Its shape, and that it signs this manifest (whether the key is trusted is the reader's question).
    const doc = parseSignature(signature, `${where}/${SIGNATURE_FILE}`);
    if (doc.manifestSha256 !== manifest.manifestSha256) throw new VerificationError(SIGNATURE_FILE, `${changedAfterSigningMessage(where, manifest, doc)} (in the store; nothing was kept)`);
    await writeFile(join(tmp, SIGNATURE_FILE), signature);
  }
  // Every listed file was checked on arrival (and the manifest by readManifest above).
  const checked = manifest;
  return checked;
}

/** Brings the cached copy's signature.json in line with the store's (a bundle may be signed after it was published). */
async function syncSignature(dir: string, signature: Buffer | undefined): Promise<void> {
  const path = join(dir, SIGNATURE_FILE);
  const local = await readFile(path).catch(() => undefined);
  if (signature && !(local && local.equals(signature))) await writeFile(path, signature);
  else if (!signature && local) await rm(path, { force: true });
}

/** Runs a verification of a download, naming the remote bundle rather than the temporary folder. */
async function relabel<T>(where: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof VerificationError) {
      const message = err.message.replace(/^.*?\.tmp-\d+-[0-9a-f]+(\/|: )/, (_m, sep: string) => (sep === '/' ? `${where}/` : `${where}: `));
      throw new VerificationError(err.file, `${message} (in the store; nothing was kept)`);
    }
    throw err;
  }
}
