import { VerificationError, messageOf } from '../errors.js';

/**
 * `signature.json`: the one file of a bundle its manifest does not list, since it signs the manifest.
 * Its shape is checked by every verification (src/core/bundle/verify.ts); the signature itself by
 * `checkSignature` (signature.ts) against the public keys a user trusts.
 */
export const SIGNATURE_FILE = 'signature.json';
export const SIGNATURE_FORMAT = 'mlpipe.signature';
export const SIGNATURE_FORMAT_VERSION = 1;
/** A signature.json is a few hundred bytes; anything over this is refused unread. */
export const SIGNATURE_MAX_BYTES = 4096;
/**
 * The signed message is this prefix then the manifest's sha256 (hex): a signature made for anything
 * else (another format, another tool using the same key) can never be taken for a bundle's.
 */
export const SIGNATURE_DOMAIN = 'mlpipe.bundle.signature.v1\n';

/** What signature.json holds. */
export interface SignatureDoc {
  format: typeof SIGNATURE_FORMAT;
  formatVersion: typeof SIGNATURE_FORMAT_VERSION;
  algorithm: 'ed25519';
  /** First 16 hex characters of the sha256 of the signing key's public key (SPKI DER). */
  keyId: string;
  /** The manifest's `manifestSha256` this signature is over. */
  manifestSha256: string;
  /** ISO time of signing. */
  signedAt: string;
  /** The ed25519 signature (64 bytes), base64. */
  signature: string;
}

/** The bytes an ed25519 key signs for a manifest: {@link SIGNATURE_DOMAIN} + its sha256. */
export function signedMessage(manifestSha256: string): Buffer {
  return Buffer.from(`${SIGNATURE_DOMAIN}${manifestSha256}`, 'utf8');
}

const KEY_ID_RE = /^[0-9a-f]{16}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const ISO_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const FIELDS = ['format', 'formatVersion', 'algorithm', 'keyId', 'manifestSha256', 'signedAt', 'signature'] as const;

/**
 * Parses signature.json's bytes, checking its whole shape: size, JSON, exactly the known fields, each
 * of the right form (a 64-byte base64 signature). `path` is where it is, for messages.
 *
 * @throws VerificationError naming signature.json and what is wrong.
 */
export function parseSignature(bytes: Uint8Array, path: string): SignatureDoc {
  const bad = (problem: string) => new VerificationError(SIGNATURE_FILE, `${path}: malformed signature file: ${problem}`);
  if (bytes.length > SIGNATURE_MAX_BYTES) throw bad(`${bytes.length} bytes, more than ${SIGNATURE_MAX_BYTES}`);
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw bad(`invalid JSON (${messageOf(err)})`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad('expected a JSON object');
  const d = doc as Record<string, unknown>;
  const extra = Object.keys(d).find((k) => !(FIELDS as readonly string[]).includes(k));
  if (extra !== undefined) throw bad(`unknown field ${JSON.stringify(extra.slice(0, 50))}`);
  if (d.format !== SIGNATURE_FORMAT) throw bad(`format is not "${SIGNATURE_FORMAT}"`);
  if (d.formatVersion !== SIGNATURE_FORMAT_VERSION) throw bad(`formatVersion ${JSON.stringify(d.formatVersion)}; this mlpipe reads version ${SIGNATURE_FORMAT_VERSION}`);
  if (d.algorithm !== 'ed25519') throw bad(`algorithm ${JSON.stringify(d.algorithm)}; only "ed25519" is known`);
  if (typeof d.keyId !== 'string' || !KEY_ID_RE.test(d.keyId)) throw bad('keyId is not 16 hex characters');
  if (typeof d.manifestSha256 !== 'string' || !SHA256_RE.test(d.manifestSha256)) throw bad('manifestSha256 is not 64 hex characters');
  if (typeof d.signedAt !== 'string' || !ISO_RE.test(d.signedAt) || Number.isNaN(Date.parse(d.signedAt))) throw bad('signedAt is not an ISO time (2026-01-31T12:00:00.000Z)');
  if (typeof d.signature !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(d.signature) || Buffer.from(d.signature, 'base64').length !== 64) {
    throw bad('signature is not a base64 ed25519 signature (64 bytes)');
  }
  return d as unknown as SignatureDoc;
}

/** signature.json's text: one JSON object, two-space indented, in a fixed field order. */
export function serializeSignature(doc: SignatureDoc): string {
  const ordered: Record<string, unknown> = {};
  for (const k of FIELDS) ordered[k] = doc[k];
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
