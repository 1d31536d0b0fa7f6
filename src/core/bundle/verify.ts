import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { VerificationError, messageOf } from '../errors.js';
import { sha256 } from '../fs-util.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, MANIFEST_FILE, MANIFEST_SCHEMA, type Manifest, withPlaceholder } from './manifest.js';
import { SIGNATURE_FILE, SIGNATURE_MAX_BYTES, type SignatureDoc, parseSignature } from './signature-format.js';

const validateManifest = new Ajv({ allErrors: false, strict: false }).compile(MANIFEST_SCHEMA);

/**
 * True when a manifest file name is a plain file name of the bundle folder: the format has no
 * sub-folders, so no separator, no `.` or `..`, no NUL, not empty, at most 255 bytes.
 */
export function safeName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name) && Buffer.byteLength(name) <= 255;
}

/** The one message for a manifest entry that is not a plain file name. */
function unsafeNameMessage(manifestPath: string, name: string): string {
  return `${manifestPath}: lists ${JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name)}, which is not a plain file name inside the bundle (no "/", "\\", "..", NUL); refusing a forged manifest`;
}

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * Opens a file of a bundle without following a symbolic link (O_NOFOLLOW, and the opened file must
 * be a regular file): a bundle file replaced by a link to a file elsewhere is refused even when that
 * file has the same bytes.
 *
 * @throws VerificationError naming the file when it is a link, not a regular file, or missing.
 */
async function openBundleFile(dir: string, name: string, listed: boolean): Promise<{ handle: FileHandle; size: number }> {
  const path = join(dir, name);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK') throw new VerificationError(name, `${path}: is a symbolic link; a bundle holds only regular files (refusing it)`);
    if (code === 'ENOENT') throw new VerificationError(name, `${path}: missing${listed ? ' (listed in the manifest)' : ''}`);
    throw new VerificationError(name, `${path}: unreadable (${messageOf(err)})`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new VerificationError(name, `${path}: not a regular file; a bundle holds only regular files`);
    return { handle, size: st.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** The bytes of a bundle file, read as {@link openBundleFile} says (never through a link). */
export async function readBundleFile(dir: string, name: string, listed = true): Promise<Buffer> {
  const { handle } = await openBundleFile(dir, name, listed);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Size and hex sha256 of a bundle file, streamed (model files may be larger than a Buffer). */
async function hashBundleFile(dir: string, name: string): Promise<{ size: number; sha256: string }> {
  const { handle, size } = await openBundleFile(dir, name, true);
  const hash = createHash('sha256');
  try {
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return { size, sha256: hash.digest('hex') };
}

/** Every entry under a folder that is not a folder, as relative paths with `/` separators; links are never followed. */
async function walk(dir: string, prefix = '', depth = 0): Promise<{ name: string; link: boolean }[]> {
  const out: { name: string; link: boolean }[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory() && depth < 8) out.push(...(await walk(dir, rel, depth + 1)));
    else out.push({ name: rel, link: entry.isSymbolicLink() });
  }
  return out;
}

/** Refuses a bundle folder that is a symbolic link or not a folder (checked with lstat). */
export async function checkBundleDir(dir: string): Promise<void> {
  let st;
  try {
    st = await lstat(dir);
  } catch {
    throw new VerificationError(MANIFEST_FILE, `${dir}: no such bundle folder`);
  }
  if (st.isSymbolicLink()) throw new VerificationError(MANIFEST_FILE, `${dir}: is a symbolic link; a bundle folder in the store must be a real folder (refusing it)`);
  if (!st.isDirectory()) throw new VerificationError(MANIFEST_FILE, `${dir}: not a folder`);
}

/** Reads and checks the manifest itself: its own checksum, then its shape. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = (await readBundleFile(dir, MANIFEST_FILE, false)).toString('utf8');
  } catch (err) {
    if (err instanceof VerificationError && /: missing$/.test(err.message)) throw new VerificationError(MANIFEST_FILE, `${path}: missing; this folder is not an mlpipe bundle`);
    throw err;
  }
  return parseManifest(text, path);
}

/**
 * Checks a manifest's text: its own checksum, then its shape and file names. `path` names it in
 * messages (a file, or `s3://…/manifest.json` for a remote store's manifest read on its own).
 */
export function parseManifest(text: string, path: string): Manifest {
  const { text: hashed, recorded } = withPlaceholder(text);
  if (!recorded) throw new VerificationError(MANIFEST_FILE, `${path}: has no manifestSha256; refusing an unverifiable bundle`);
  if (sha256(hashed) !== recorded) {
    throw new VerificationError(MANIFEST_FILE, `${path}: checksum mismatch: the manifest was changed after the bundle was written`);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (err) {
    throw new VerificationError(MANIFEST_FILE, `${path}: invalid JSON (${messageOf(err)})`);
  }
  const m = manifest as Partial<Manifest>;
  if (m?.format !== BUNDLE_FORMAT) throw new VerificationError(MANIFEST_FILE, `${path}: not an mlpipe bundle manifest`);
  if (m.formatVersion !== BUNDLE_FORMAT_VERSION) {
    throw new VerificationError(MANIFEST_FILE, `${path}: bundle format version ${String(m.formatVersion)}; this mlpipe reads version ${BUNDLE_FORMAT_VERSION}`);
  }
  if (!validateManifest(manifest)) {
    const e = validateManifest.errors?.[0];
    throw new VerificationError(MANIFEST_FILE, `${path}: malformed manifest at ${e?.instancePath || '(root)'}: ${e?.message ?? 'invalid'}`);
  }
  const checked = manifest as Manifest;
  for (const name of Object.keys(checked.files)) if (!safeName(name)) throw new VerificationError(name, unsafeNameMessage(path, name));
  // signature.json signs the manifest, so no manifest can list it (its checksum would depend on itself).
  if (Object.hasOwn(checked.files, SIGNATURE_FILE)) throw new VerificationError(SIGNATURE_FILE, `${path}: lists ${SIGNATURE_FILE}, which a manifest never lists (it signs the manifest); refusing a forged manifest`);
  for (const [what, name] of [['model.file', checked.model.file], ['model.compiled', checked.model.compiled], ['featurizer.file', checked.featurizer.file]] as const) {
    if (!Object.hasOwn(checked.files, name)) throw new VerificationError(name, `${path}: ${what} is ${JSON.stringify(name)}, which the manifest's files do not list`);
  }
  return checked;
}

/** The mismatch message of a file whose bytes are not the ones the manifest recorded. */
function changedMessage(path: string, actual: string, expected: string): string {
  return `${path}: checksum mismatch (sha256 ${actual.slice(0, 12)}…, the manifest says ${expected.slice(0, 12)}…): the file was changed after the bundle was written`;
}

/**
 * Reads one file a manifest lists and checks its sha256 against it: for files read after
 * {@link verifyBundle} (the report, served on request) or without verifying the whole bundle.
 *
 * @throws VerificationError naming the file when it is not listed, missing or changed.
 */
export async function readVerifiedFile(dir: string, manifest: Manifest, name: string): Promise<Buffer> {
  const expected = manifest.files[name];
  const path = join(dir, name);
  if (!expected || !Object.hasOwn(manifest.files, name) || !safeName(name)) throw new VerificationError(name, `${path}: not listed in the manifest`);
  const bytes = await readBundleFile(dir, name);
  const actual = sha256(bytes);
  if (actual !== expected.sha256) throw new VerificationError(name, changedMessage(path, actual, expected.sha256));
  return bytes;
}

/**
 * A bundle's signature.json, its shape checked (size first, unread when too big; never through a
 * link); null when the bundle is not signed. Says nothing of whether the signature is good: see
 * `checkSignature` in signature.ts.
 *
 * @throws VerificationError naming signature.json when it is malformed, a link or unreadable.
 */
export async function readSignature(dir: string): Promise<SignatureDoc | null> {
  const path = join(dir, SIGNATURE_FILE);
  let opened: { handle: FileHandle; size: number };
  try {
    opened = await openBundleFile(dir, SIGNATURE_FILE, false);
  } catch (err) {
    if (err instanceof VerificationError && err.message.endsWith(': missing')) return null;
    throw err;
  }
  try {
    if (opened.size > SIGNATURE_MAX_BYTES) throw new VerificationError(SIGNATURE_FILE, `${path}: malformed signature file: ${opened.size} bytes, more than ${SIGNATURE_MAX_BYTES}`);
    return parseSignature(await opened.handle.readFile(), path);
  } finally {
    await opened.handle.close();
  }
}

/**
 * The message of a signature.json that signs another manifest than the bundle's: the manifest (and
 * so the bundle) was changed after it was signed.
 */
export function changedAfterSigningMessage(dir: string, manifest: Manifest, signature: SignatureDoc): string {
  return `${manifest.name}@${manifest.version} (${dir}) was changed after it was signed by key ${signature.keyId}: ${SIGNATURE_FILE} signs manifest sha256 ${signature.manifestSha256.slice(0, 12)}…, the manifest's is ${manifest.manifestSha256.slice(0, 12)}…`;
}

/** A temporary file of an atomic write of signature.json (`.signature.json.tmp-<pid>-<hex>`), present while a signer writes it. */
const SIGNATURE_TEMP_RE = /^\.signature\.json\.tmp-\d+-[0-9a-f]{8}$/;

/**
 * Verifies a bundle folder: the manifest's own checksum and shape, then the size and sha256 of every
 * file it lists, and that no unlisted file was added: the one unlisted file allowed is
 * signature.json, whose shape is checked and which must sign this very manifest (a bundle changed
 * after signing is refused here, key or no key). Returns the manifest; throws VerificationError
 * naming the first file that does not match.
 */
export async function verifyBundle(dir: string, options: { skipSignature?: boolean; hashes?: boolean } = {}): Promise<Manifest> {
  await checkBundleDir(dir);
  const manifest = await readManifest(dir);
  for (const [name, expected] of Object.entries(manifest.files)) {
    const path = join(dir, name);
    if (options.hashes === false) {
      // The caller hashes each file as it copies it (an upload that checks the manifest's sha256).
      const { handle, size } = await openBundleFile(dir, name, true);
      await handle.close();
      if (size !== expected.bytes) throw new VerificationError(name, `${path}: size ${size} bytes, the manifest says ${expected.bytes}: the file was changed after the bundle was written`);
      continue;
    }
    const { size, sha256: actual } = await hashBundleFile(dir, name);
    if (size !== expected.bytes) throw new VerificationError(name, `${path}: size ${size} bytes, the manifest says ${expected.bytes}: the file was changed after the bundle was written`);
    if (actual !== expected.sha256) throw new VerificationError(name, changedMessage(path, actual, expected.sha256));
  }
  for (const rel of await walk(dir)) {
    const path = join(dir, rel.name);
    if (rel.link) throw new VerificationError(rel.name, `${path}: is a symbolic link; a bundle holds only regular files (refusing it)`);
    if (rel.name === SIGNATURE_FILE) {
      // Skipped only to replace a broken signature (bundles sign --force); every reader checks it.
      if (options.skipSignature) continue;
      const signature = await readSignature(dir);
      if (signature && signature.manifestSha256 !== manifest.manifestSha256) throw new VerificationError(SIGNATURE_FILE, changedAfterSigningMessage(dir, manifest, signature));
      continue;
    }
    // A signer writing signature.json right now (renamed into place in a moment): never read.
    if (SIGNATURE_TEMP_RE.test(rel.name)) continue;
    if (rel.name !== MANIFEST_FILE && !Object.hasOwn(manifest.files, rel.name)) {
      throw new VerificationError(rel.name, `${path}: not listed in the manifest: a file was added to the bundle after it was written`);
    }
  }
  return manifest;
}
