import { type Command, InvalidArgumentError } from 'commander';
import type { SigningKey, TrustedKey } from '../../core/bundle/signature.js';
import type { CliContext } from '../context.js';

/**
 * A list of key files: comma-separated, and the option may be repeated (`--key a.pub.pem,b.pub.pem`,
 * `--key a.pub.pem --key b.pub.pem`).
 */
export function keyFiles(value: string, previous: string[] = []): string[] {
  const files = value.split(',').map((f) => f.trim()).filter((f) => f !== '');
  if (files.length === 0) throw new InvalidArgumentError('expected one or more public key files (NAME.pub.pem), comma-separated');
  return [...previous, ...files];
}

/**
 * Reads the public keys a command trusts. A private key file given instead is used for its public
 * key only, with a note (naming the file, never its content) that the public key file suffices.
 */
export async function readTrusted(ctx: CliContext, files: readonly string[]): Promise<TrustedKey[]> {
  const { readTrustedKeys } = await import('../../core/bundle/signature.js');
  const keys = await readTrustedKeys(files);
  for (const k of keys) if (k.fromPrivate) ctx.note(`note: ${k.file} is a private key; only its public key (key ${k.keyId}) is used: give the .pub.pem file instead, a checker never needs the private key`);
  return keys;
}

/** Reads a private key to sign with, warning when other users can read its file. */
export async function readSigning(ctx: CliContext, file: string): Promise<SigningKey> {
  const { readSigningKey } = await import('../../core/bundle/signature.js');
  const key = await readSigningKey(file);
  if (key.looseMode) ctx.note(`warning: ${file} can be read by other users (mode ${key.looseMode}); a private key should be mode 0600 (chmod 600 ${file})`);
  return key;
}

/** `mlpipe keys generate|id`. */
export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program
    .command('keys')
    .description('ed25519 key pairs that sign bundles (package --sign, bundles sign) and check them (bundles verify --key, serve --require-signature)');

  keys
    .command('generate')
    .description('write a new ed25519 key pair: NAME.key.pem (private, PKCS8, mode 0600) and NAME.pub.pem (public, SPKI); never overwrites a file; prints the key id')
    .requiredOption('-o, --out <name>', 'file name without extension, e.g. release (or keys/release)')
    .option('--json', 'print one JSON document')
    .action(async (opts: { out: string; json?: boolean }) => {
      const { generateKeyPair } = await import('../../core/bundle/signature.js');
      const made = await generateKeyPair(opts.out);
      if (opts.json) {
        ctx.json({ keyId: made.keyId, privateKeyFile: made.privateKeyFile, publicKeyFile: made.publicKeyFile });
        return;
      }
      ctx.out(`wrote ${made.privateKeyFile} (private key, mode 0600: keep it secret, never commit it)`);
      ctx.out(`wrote ${made.publicKeyFile} (public key: for bundles verify --key and serve --require-signature)`);
      ctx.out(`key id ${made.keyId}`);
    });

  keys
    .command('id')
    .description('print the key id of a key file (public or private): the first 16 hex characters of the sha256 of its public key (SPKI DER)')
    .argument('<key-file>', 'NAME.pub.pem or NAME.key.pem')
    .option('--json', 'print one JSON document')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { keyFileId } = await import('../../core/bundle/signature.js');
      const { keyId, kind } = await keyFileId(file);
      if (opts.json) ctx.json({ file, keyId, kind });
      else ctx.out(`${keyId} (${kind} key, ${file})`);
    });
}
