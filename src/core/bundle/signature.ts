import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { type FileHandle, lstat, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, ConflictError, NotFoundError, VerificationError, messageOf } from '../errors.js';
import { sha256, writeFileAtomic } from '../fs-util.js';
import type { Manifest } from './manifest.js';
import { SIGNATURE_FILE, SIGNATURE_FORMAT, SIGNATURE_FORMAT_VERSION, type SignatureDoc, serializeSignature, signedMessage } from './signature-format.js';
import { openStore, resolveRef } from './store.js';
import type { BundleStore } from './stores/types.js';
import { changedAfterSigningMessage, readSignature, verifyBundle } from './verify.js';

export { SIGNATURE_FILE, type SignatureDoc } from './signature-format.js';

/**
 * Bundle signatures (ed25519, node:crypto): key pairs in PEM files, signature.json beside a bundle's
 * manifest, and the checks `serve --require-signature` and `bundles verify --key` make.
 *
 * A private key's bytes never leave this module: messages name key files and key ids, never PEM text,
 * and nothing here writes a private key anywhere but the file `generateKeyPair` creates.
 */

/** A public key a user trusts (`--key`, `--require-signature`), read from a PEM file. */
export interface TrustedKey {
  /** The file it was read from, as given: what messages name. */
  file: string;
  keyId: string;
  key: KeyObject;
  /** True when the file held the private key (the public key was derived from it). */
  fromPrivate: boolean;
}

/** A private key to sign with (`--sign`, `bundles sign --key`). */
export interface SigningKey {
  file: string;
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The file's permission bits (e.g. `0644`) when users other than its owner may read it; undefined when private. */
  looseMode?: string;
}

/** A key file is a few hundred bytes; anything larger is refused unread. */
const KEY_FILE_MAX_BYTES = 64 * 1024;

/** The key id: the first 16 hex characters of the sha256 of the public key's SPKI DER encoding. */
export function keyIdOf(publicKey: KeyObject): string {
  return sha256(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

/** `release` → `release` (a `.key.pem`, `.pub.pem` or `.pem` ending given by habit is dropped). */
function keyBase(out: string): string {
  return out.replace(/\.(key|pub)\.pem$|\.pem$/, '');
}

/** The two files `generateKeyPair` writes for `out`. */
function keyPairFiles(out: string): { privateKeyFile: string; publicKeyFile: string } {
  const base = keyBase(out);
  return { privateKeyFile: `${base}.key.pem`, publicKeyFile: `${base}.pub.pem` };
}

/**
 * Writes a new ed25519 key pair: `<out>.key.pem` (PKCS8, private, mode 0600) and `<out>.pub.pem`
 * (SPKI, public). Neither file may exist: nothing is ever overwritten (ConflictError naming it).
 */
export async function generateKeyPair(out: string): Promise<{ keyId: string; privateKeyFile: string; publicKeyFile: string }> {
  const { privateKeyFile, publicKeyFile } = keyPairFiles(out);
  for (const file of [privateKeyFile, publicKeyFile]) {
    if (await lstat(file).then(() => true, () => false)) throw new ConflictError(`${file}: already exists; refusing to overwrite a key (choose another --out, or remove it first)`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  // `wx`: created here or refused, never through a file that appeared in between.
  await writeNew(privateKeyFile, privatePem, 0o600);
  try {
    await writeNew(publicKeyFile, publicPem, 0o644);
  } catch (err) {
    await rm(privateKeyFile, { force: true });
    throw err;
  }
  return { keyId: keyIdOf(publicKey), privateKeyFile, publicKeyFile };
}

async function writeNew(file: string, text: string, mode: number): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(`${file}: already exists; refusing to overwrite a key (choose another --out, or remove it first)`);
    throw err;
  }
  try {
    await handle.writeFile(text);
    await handle.chmod(mode);
  } catch (err) {
    await handle.close();
    await rm(file, { force: true });
    throw err;
  }
  await handle.close();
}

/** What a key file holds: an ed25519 private key (with its public key), or a public key. Never says what is in it. */
async function readKeyFile(file: string): Promise<{ privateKey?: KeyObject; publicKey: KeyObject; mode: number }> {
  const notKey = `${file}: not an ed25519 key in PEM form (expected a file mlpipe keys generate wrote: NAME.key.pem or NAME.pub.pem)`;
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`${file}: key file not found`);
    if (code === 'EISDIR') throw new ConfigError(`${file}: is a folder; a key file was expected`);
    throw new ConfigError(`${file}: unreadable key file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let text: string;
  let mode: number;
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new ConfigError(`${file}: is a folder; a key file was expected`);
    if (st.size > KEY_FILE_MAX_BYTES) throw new ConfigError(notKey);
    mode = st.mode & 0o777;
    text = (await handle.readFile()).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${file}: unreadable key file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    await handle.close();
  }
  const label = /-----BEGIN ([A-Z0-9 ]{1,40})-----/.exec(text)?.[1];
  if (label === undefined) throw new ConfigError(notKey);
  if (label.includes('ENCRYPTED')) throw new ConfigError(`${file}: an encrypted private key; mlpipe reads unencrypted PKCS8 ed25519 keys (as mlpipe keys generate writes them)`);
  let privateKey: KeyObject | undefined;
  let publicKey: KeyObject;
  try {
    // Node's own messages are not passed on: they are not needed, and nothing of the file is said.
    if (label.endsWith('PRIVATE KEY')) {
      privateKey = createPrivateKey({ key: text, format: 'pem' });
      publicKey = createPublicKey(privateKey);
    } else if (label === 'PUBLIC KEY') {
      publicKey = createPublicKey({ key: text, format: 'pem' });
    } else {
      throw new Error('not a key');
    }
  } catch {
    throw new ConfigError(notKey);
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(`${file}: an ${publicKey.asymmetricKeyType ?? 'unknown'} key; mlpipe signs with ed25519 keys only (mlpipe keys generate)`);
  }
  return { ...(privateKey ? { privateKey } : {}), publicKey, mode };
}

/**
 * Reads the public keys a user trusts. A private key file is accepted too: its public key is derived
 * (`fromPrivate` says so). The same key given twice counts once.
 *
 * @throws NotFoundError / ConfigError naming the file (never its content).
 */
export async function readTrustedKeys(files: readonly string[]): Promise<TrustedKey[]> {
  if (files.length === 0) throw new ConfigError('no public key file given');
  const keys: TrustedKey[] = [];
  for (const file of files) {
    const { privateKey, publicKey } = await readKeyFile(file);
    const keyId = keyIdOf(publicKey);
    if (!keys.some((k) => k.keyId === keyId)) keys.push({ file, keyId, key: publicKey, fromPrivate: privateKey !== undefined });
  }
  return keys;
}

/**
 * Reads a private key to sign with.
 *
 * @throws ConfigError naming the file when it holds a public key only, or no ed25519 key.
 */
export async function readSigningKey(file: string): Promise<SigningKey> {
  const { privateKey, publicKey, mode } = await readKeyFile(file);
  if (!privateKey) throw new ConfigError(`${file}: a public key; signing needs the private key (the .key.pem file mlpipe keys generate wrote beside it)`);
  return { file, keyId: keyIdOf(publicKey), privateKey, publicKey, ...((mode & 0o077) !== 0 ? { looseMode: `0${mode.toString(8)}` } : {}) };
}

/** The key id of any key file (public or private). */
export async function keyFileId(file: string): Promise<{ keyId: string; kind: 'private' | 'public' }> {
  const { privateKey, publicKey } = await readKeyFile(file);
  return { keyId: keyIdOf(publicKey), kind: privateKey ? 'private' : 'public' };
}

/** A new signature document over a manifest's sha256. */
function createSignature(manifestSha256: string, key: SigningKey, at = new Date()): SignatureDoc {
  return {
    format: SIGNATURE_FORMAT,
    formatVersion: SIGNATURE_FORMAT_VERSION,
    algorithm: 'ed25519',
    keyId: key.keyId,
    manifestSha256,
    signedAt: at.toISOString(),
    signature: sign(null, signedMessage(manifestSha256), key.privateKey).toString('base64'),
  };
}

/** True when `doc`'s signature over its manifestSha256 verifies with `publicKey`. */
function signatureVerifies(doc: SignatureDoc, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedMessage(doc.manifestSha256), publicKey, Buffer.from(doc.signature, 'base64'));
  } catch {
    return false;
  }
}

/** `a1b2c3d4e5f60718 (release.pub.pem), …`: the keys a check accepts, for messages. */
function describeKeys(keys: readonly TrustedKey[]): string {
  return keys.map((k) => `${k.keyId} (${k.file})`).join(', ');
}

/**
 * Checks a verified bundle's signature against the keys a user trusts: refuses (VerificationError
 * naming signature.json, the bundle and the key ids) an unsigned bundle, one signed by another key,
 * one changed after signing (signature.json signs another manifest), and one whose signature does not
 * verify. Returns the signature. Call it after {@link verifyBundle} (which checked every file against
 * the manifest): together they prove every byte of the bundle is what the key signed.
 */
export async function checkSignature(dir: string, manifest: Manifest, keys: readonly TrustedKey[]): Promise<SignatureDoc> {
  const ref = `${manifest.name}@${manifest.version}`;
  const signature = await readSignature(dir);
  const trusted = describeKeys(keys);
  if (!signature) throw new VerificationError(SIGNATURE_FILE, `${ref} (${dir}): not signed (no ${SIGNATURE_FILE}); only bundles signed by key ${trusted} are accepted`);
  const key = keys.find((k) => k.keyId === signature.keyId);
  if (!key) throw new VerificationError(SIGNATURE_FILE, `${ref} (${dir}): signed by key ${signature.keyId}, which is not a trusted key (trusted: ${trusted})`);
  if (signature.manifestSha256 !== manifest.manifestSha256) throw new VerificationError(SIGNATURE_FILE, changedAfterSigningMessage(dir, manifest, signature));
  if (!signatureVerifies(signature, key.key)) {
    throw new VerificationError(SIGNATURE_FILE, `${ref} (${dir}): the signature by key ${signature.keyId} does not verify: ${SIGNATURE_FILE} is corrupted or forged, or the bundle was changed after it was signed`);
  }
  return signature;
}

/**
 * Signs a bundle just published (`package --sign`): adds signature.json through the store, so it
 * works for every store kind. The manifest's sha256 is the one the publisher wrote.
 */
export async function signPublished(store: BundleStore, name: string, version: string, manifestSha256: string, key: SigningKey): Promise<SignatureDoc> {
  const doc = createSignature(manifestSha256, key);
  await store.addFile(name, version, SIGNATURE_FILE, Buffer.from(serializeSignature(doc)));
  return doc;
}

/** What {@link signBundle} did. */
export interface SignResult {
  /** `name@version` */
  ref: string;
  dir: string;
  keyId: string;
  signedAt: string;
  /** `unchanged`: already signed by this key (nothing written); `replaced`: another signature was replaced (force). */
  status: 'signed' | 'unchanged' | 'replaced';
  /** The key id of the signature replaced. */
  previousKeyId?: string;
}

/**
 * Signs a published bundle (`bundles sign`): verifies it first, then adds signature.json through the
 * store (a bundle folder given as a path is signed in place). Signing again with the same key is a
 * no-op; a bundle signed by another key, or whose signature is broken, is refused (ConflictError /
 * VerificationError naming both key ids) unless `force`.
 */
export async function signBundle(options: { ref: string; artifacts: string; key: SigningKey; force?: boolean }): Promise<SignResult> {
  const { key, force = false } = options;
  const resolved = await resolveRef(options.ref, options.artifacts);
  const { dir } = resolved;
  let manifest: Manifest;
  let existing: SignatureDoc | null = null;
  let broken = false;
  try {
    manifest = await verifyBundle(dir);
    existing = await readSignature(dir);
  } catch (err) {
    // A malformed or stale signature.json (the rest of the bundle verifies): replaced only when forced.
    if (!(err instanceof VerificationError) || err.file !== SIGNATURE_FILE || !force) {
      if (err instanceof VerificationError && err.file === SIGNATURE_FILE) throw new VerificationError(SIGNATURE_FILE, `${err.message}; refusing to sign over it (--force replaces the signature)`);
      throw err;
    }
    manifest = await verifyBundle(dir, { skipSignature: true });
    broken = true;
  }
  const ref = `${manifest.name}@${manifest.version}`;
  if (existing) {
    const good = existing.keyId === key.keyId && signatureVerifies(existing, key.publicKey);
    if (good) return { ref, dir, keyId: key.keyId, signedAt: existing.signedAt, status: 'unchanged' };
    if (!force) {
      if (existing.keyId !== key.keyId) throw new ConflictError(`${ref}: already signed by key ${existing.keyId}; ${key.file} is key ${key.keyId}: refusing to replace the signature (--force replaces it)`);
      throw new VerificationError(SIGNATURE_FILE, `${ref}: its signature by key ${existing.keyId} does not verify: ${SIGNATURE_FILE} is corrupted or forged; refusing to sign over it (--force replaces the signature)`);
    }
  }
  const doc = createSignature(manifest.manifestSha256, key);
  const bytes = Buffer.from(serializeSignature(doc));
  if (resolved.name !== undefined && resolved.version !== undefined) {
    await (await openStore(options.artifacts)).addFile(resolved.name, resolved.version, SIGNATURE_FILE, bytes);
  } else {
    // A bundle folder named by its path (not in a store): signed in place.
    try {
      await writeFileAtomic(join(dir, SIGNATURE_FILE), bytes);
    } catch (err) {
      throw new ConfigError(`${join(dir, SIGNATURE_FILE)}: cannot write the signature (${messageOf(err)})`);
    }
  }
  return {
    ref,
    dir,
    keyId: key.keyId,
    signedAt: doc.signedAt,
    status: existing || broken ? 'replaced' : 'signed',
    ...(existing ? { previousKeyId: existing.keyId } : {}),
  };
}
