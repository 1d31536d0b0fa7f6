import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { Ajv } from 'ajv';
import { VerificationError, messageOf } from '../errors.js';
import { sha256, sha256File } from '../fs-util.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, MANIFEST_FILE, MANIFEST_SCHEMA, type Manifest, withPlaceholder } from './manifest.js';

const validateManifest = new Ajv({ allErrors: false, strict: false }).compile(MANIFEST_SCHEMA);

/** Every file under a folder, as relative paths with `/` separators. */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await walk(dir, rel)));
    else out.push(rel);
  }
  return out;
}

/** True when a manifest file name stays inside the bundle folder. */
function safeName(name: string): boolean {
  if (name === '' || isAbsolute(name) || name.includes('\\')) return false;
  const n = normalize(name);
  return !n.startsWith('..') && !n.split(sep).includes('..');
}

/** Reads and checks the manifest itself: its own checksum, then its shape. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new VerificationError(MANIFEST_FILE, `${path}: missing; this folder is not an mlpipe bundle`);
  }
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
  return manifest as Manifest;
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
  if (!expected || !safeName(name)) throw new VerificationError(name, `${path}: not listed in the manifest`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new VerificationError(name, `${path}: missing (listed in the manifest)`);
  }
  const actual = sha256(bytes);
  if (actual !== expected.sha256) throw new VerificationError(name, changedMessage(path, actual, expected.sha256));
  return bytes;
}

/**
 * Verifies a bundle folder: the manifest's own checksum and shape, then the size and sha256 of every
 * file it lists, and that no unlisted file was added. Returns the manifest; throws
 * VerificationError naming the first file that does not match.
 */
export async function verifyBundle(dir: string): Promise<Manifest> {
  const manifest = await readManifest(dir);
  for (const [name, expected] of Object.entries(manifest.files)) {
    if (!safeName(name)) throw new VerificationError(name, `${join(dir, MANIFEST_FILE)}: lists "${name}", a path outside the bundle`);
    const path = join(dir, name);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw new VerificationError(name, `${path}: missing (listed in the manifest)`);
    }
    if (size !== expected.bytes) throw new VerificationError(name, `${path}: size ${size} bytes, the manifest says ${expected.bytes}: the file was changed after the bundle was written`);
    const actual = await sha256File(path);
    if (actual !== expected.sha256) throw new VerificationError(name, changedMessage(path, actual, expected.sha256));
  }
  for (const rel of await walk(dir)) {
    if (rel !== MANIFEST_FILE && !Object.hasOwn(manifest.files, rel)) {
      throw new VerificationError(rel, `${join(dir, rel)}: not listed in the manifest: a file was added to the bundle after it was written`);
    }
  }
  return manifest;
}

