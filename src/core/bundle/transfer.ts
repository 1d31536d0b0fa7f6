import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, NotFoundError, VerificationError } from '../errors.js';
import { sha256, sha256File } from '../fs-util.js';
import { type BundleGoldenCheck, checkBundleGolden } from './golden.js';
import type { LoadPredictorOptions } from '../predictor/from-bundle.js';
import { MANIFEST_FILE, type Manifest } from './manifest.js';
import { SIGNATURE_FILE } from './signature-format.js';
import { openStore, resolveRef, resolveVersion } from './store.js';
import { downloadBundle } from './stores/cache.js';
import { isFolderRef, remoteBundleLocation } from './stores/location.js';
import { checkBundleDir, parseManifest, readBundleFile, verifyBundle } from './verify.js';

export { SIGNATURE_FILE } from './signature-format.js';

/** What {@link publishExisting} did. */
export interface PublishExistingResult {
  /** `name@version` */
  ref: string;
  name: string;
  version: string;
  /** `published`: the version is new in the store; `unchanged`: the store already held these very bytes. */
  status: 'published' | 'unchanged';
  /** The store's location, for messages. */
  store: string;
  /** The golden records predicted again before publishing (see golden.ts). */
  golden: BundleGoldenCheck;
}

/** Whether a regular file (not a link) named `file` exists in a bundle folder. */
async function hasRegularFile(dir: string, file: string): Promise<boolean> {
  try {
    await readBundleFile(dir, file, false);
    return true;
  } catch (err) {
    if (err instanceof VerificationError && /: missing$/.test(err.message)) return false;
    throw err;
  }
}

/**
 * The first file in which two manifests of the same name and version differ: a listed file whose
 * sha256 differs or that only one of them lists, else `manifest.json` (only metadata differs).
 */
export function firstDifference(ours: Pick<Manifest, 'files'>, theirs: Pick<Manifest, 'files'> | undefined): string {
  if (!theirs || typeof theirs.files !== 'object' || theirs.files === null) return MANIFEST_FILE;
  for (const [file, f] of Object.entries(ours.files)) {
    const other = Object.hasOwn(theirs.files, file) ? theirs.files[file] : undefined;
    if (!other || other.sha256 !== f.sha256) return file;
  }
  for (const file of Object.keys(theirs.files)) if (!Object.hasOwn(ours.files, file)) return file;
  return MANIFEST_FILE;
}

/**
 * Compares the bundle `dir` (manifest `manifest`, bytes `manifestBytes`) with the version of the
 * same name that the store already holds: 'unchanged' when the store's manifest has the very same
 * bytes (so the same manifestSha256 and, through it, the same files); a ConflictError naming the
 * first differing file otherwise.
 */
async function compareWithStored(location: string, manifest: Manifest, manifestBytes: Buffer, stored: Buffer): Promise<'unchanged'> {
  if (sha256(stored) === sha256(manifestBytes)) return 'unchanged';
  let theirs: Manifest | undefined;
  try {
    theirs = JSON.parse(stored.toString('utf8')) as Manifest;
  } catch {
    theirs = undefined;
  }
  const file = firstDifference(manifest, theirs);
  throw new ConflictError(
    `${manifest.name}@${manifest.version} already exists in ${location} with different contents (first difference: ${file}); bundles are immutable: nothing was changed (package the model again under a new version)`,
  );
}

/**
 * Publishes an existing local bundle folder into a store at the bundle's own name and version:
 * verifies every checksum of `dir` first, then copies the files its manifest lists, the manifest
 * and `signature.json` when present, checking each copy's sha256 on arrival; the store makes the
 * version visible only once all of them are in (a folder renamed into place, the manifest written
 * last on S3).
 *
 * Idempotent: when the store already holds that version with the same manifest, nothing is
 * written and the status is `unchanged`; a different bundle under the same name and version is a
 * ConflictError naming the first differing file, and nothing in the store changes.
 *
 * @param options.manifest the manifest `verifyBundle(dir)` returned, when the caller has just verified `dir`
 */
export async function publishExisting(
  artifacts: string,
  dir: string,
  options: { manifest?: Manifest; featurizers?: LoadPredictorOptions['featurizers']; golden?: boolean } = {},
): Promise<PublishExistingResult> {
  await checkBundleDir(dir);
  const store = await openStore(artifacts);
  // A remote store hashes every file as it uploads it and refuses the bundle (its manifest never
  // written) when one is not the manifest's: the files are read once. A folder store copies, then hashes.
  const manifest = options.manifest ?? (await verifyBundle(dir, store.kind === 'folder' ? {} : { hashes: false }));
  // The skew gate: the bundle predicts its golden records exactly as when it was packaged, or it does not
  // arrive (`golden: false` for push: the receiving side — pull, import, serve — checks them).
  const golden: BundleGoldenCheck = options.golden === false ? { records: 0, present: false, skipped: 'not checked on push' } : await checkBundleGolden(dir, { manifest, featurizers: options.featurizers ?? [] });
  const manifestBytes = await readBundleFile(dir, MANIFEST_FILE, false);
  const { name, version } = manifest;
  const result = (status: 'published' | 'unchanged'): PublishExistingResult => ({ ref: `${name}@${version}`, name, version, status, store: store.location, golden });

  const readStored = (): Promise<Buffer> => store.readFile(name, version, MANIFEST_FILE);
  // No listing first: publishing an existing version is refused (ConflictError) before anything is written, and compared below.

  const signed = await hasRegularFile(dir, SIGNATURE_FILE);
  const arrived = async (tmp: string, file: string, expected: string): Promise<void> => {
    const actual = await sha256File(join(tmp, file));
    if (actual !== expected) throw new VerificationError(file, `${join(dir, file)}: changed while it was being copied into ${store.location} (sha256 ${actual.slice(0, 12)}…, expected ${expected.slice(0, 12)}…); nothing was published`);
  };
  try {
    await store.publish(name, {
      version,
      fill: async (tmp) => {
        for (const [file, f] of Object.entries(manifest.files)) {
          await copyFile(join(dir, file), join(tmp, file));
          await arrived(tmp, file, f.sha256);
        }
        if (signed) await copyFile(join(dir, SIGNATURE_FILE), join(tmp, SIGNATURE_FILE));
        await copyFile(join(dir, MANIFEST_FILE), join(tmp, MANIFEST_FILE));
        await arrived(tmp, MANIFEST_FILE, sha256(manifestBytes));
      },
      prepare: async () => undefined,
      ready: dir,
    });
  } catch (err) {
    // Another publisher put the same version in between: identical is still a success.
    if (err instanceof ConflictError && (await store.listVersions(name)).includes(version)) {
      return result(await compareWithStored(store.location, manifest, manifestBytes, await readStored()));
    }
    throw err;
  }
  return result('published');
}

/**
 * `bundles pull`: copies the bundle `ref` of the store `from` into the store `to`. From a remote
 * store into a folder store the files are downloaded straight into the folder store's staging folder,
 * each checked as it arrives (size and sha256 against the manifest), the golden records predicted
 * again there, and only then is the bundle renamed into place; nothing goes through the cache.
 * Otherwise the bundle is resolved (through the cache) and published with {@link publishExisting}.
 * Idempotent and refusing a different bundle under the same version, as {@link publishExisting}.
 */
export async function pullBundle(from: string, ref: string, to: string, options: { featurizers?: LoadPredictorOptions['featurizers'] } = {}): Promise<PublishExistingResult> {
  const source = await openStore(from);
  const target = await openStore(to);
  const remote = source.remote;
  if (!remote || target.kind !== 'folder' || ref.startsWith('npm:') || isFolderRef(ref)) {
    const { dir, verified } = await resolveRef(ref, from);
    return publishExisting(to, dir, { ...(verified ? { manifest: verified } : {}), ...(options.featurizers ? { featurizers: options.featurizers } : {}) });
  }
  const { name, version } = await resolveVersion(ref, from);
  const where = remoteBundleLocation(source.location, name, version);
  const compare = async (): Promise<PublishExistingResult> => {
    const theirs = await remote.fetchFile(name, version, MANIFEST_FILE, 256 * 1024 * 1024);
    if (!theirs) throw new NotFoundError(`${where}: no ${MANIFEST_FILE}; no such bundle in the store`);
    const manifest = parseManifest(theirs.toString('utf8'), `${where}/${MANIFEST_FILE}`);
    const status = await compareWithStored(target.location, manifest, theirs, await target.readFile(name, version, MANIFEST_FILE));
    return { ref: `${name}@${version}`, name, version, status, store: target.location, golden: { records: 0, present: false, skipped: 'already in the store' } };
  };
  if ((await target.listVersions(name)).includes(version)) return compare();
  let manifest: Manifest | undefined;
  let golden: BundleGoldenCheck = { records: 0, present: false };
  try {
    await target.publish(name, {
      version,
      fill: async (tmp) => {
        manifest = await downloadBundle(remote, name, version, tmp);
      },
      // Before the bundle becomes visible: the skew gate, on the very files that will be renamed into place.
      prepare: async (tmp) => {
        golden = await checkBundleGolden(tmp, { manifest: manifest as Manifest, featurizers: options.featurizers ?? [] });
      },
    });
  } catch (err) {
    if (err instanceof ConflictError && (await target.listVersions(name)).includes(version)) return compare();
    throw err;
  }
  return { ref: `${name}@${version}`, name, version, status: 'published', store: target.location, golden };
}
