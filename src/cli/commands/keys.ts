import { type Command, InvalidArgumentError, Option } from 'commander';
import type { SigningKey, TrustedKey } from '../../core/bundle/signature.js';
import type { CliContext } from '../context.js';
import { integer } from '../parse.js';

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

/** `mlpipe keys generate|id|api-key|api-keys`. */
export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program
    .command('keys')
    .description('ed25519 key pairs that sign bundles (package --sign, bundles sign) and check them (bundles verify --key, serve --require-signature); API keys for serve --api-keys');

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

  registerApiKeys(keys, ctx);
}

/** The key file option of the API key commands: the same file `serve --api-keys` reads. */
const keyFileOption = () => new Option('--file <keys.json>', 'the API key file (created when absent)').default('api-keys.json').env('MLPIPE_API_KEYS_FILE');

interface LimitFlags {
  rateLimit?: number;
  batchRateLimit?: number;
  rowsPerMinute?: number;
}

/** `mlpipe keys api-key --name N` and `mlpipe keys api-keys list|revoke`. */
function registerApiKeys(keys: Command, ctx: CliContext): void {
  keys
    .command('api-key')
    .description('make a new API key for serve --api-keys: prints the key ONCE on stdout and writes only its sha256 to the key file; a limit not given is the server\'s')
    .requiredOption('--name <name>', 'the key\'s name, as logs, metrics and limits show it (letters, digits, . _ -)')
    .addOption(keyFileOption())
    .addOption(new Option('--rate-limit <n>', 'this key\'s single-record predict requests per minute (0 = unlimited)').argParser(integer(0)))
    .addOption(new Option('--batch-rate-limit <n>', 'this key\'s batch requests per minute (0 = unlimited)').argParser(integer(0)))
    .addOption(new Option('--rows-per-minute <n>', 'this key\'s records per minute on batch routes (0 = unlimited)').argParser(integer(0)))
    .option('--json', 'print one JSON document (with the key)')
    .action(async (opts: LimitFlags & { name: string; file: string; json?: boolean }) => {
      const { addApiKey } = await import('../../core/api-keys.js');
      const limits = Object.fromEntries(Object.entries({ rateLimit: opts.rateLimit, batchRateLimit: opts.batchRateLimit, rowsPerMinute: opts.rowsPerMinute }).filter(([, v]) => v !== undefined));
      const made = await addApiKey(opts.file, opts.name, limits);
      if (opts.json) {
        ctx.json({ key: made.key, name: made.entry.name, file: opts.file, createdAt: made.entry.createdAt, limits: made.entry.limits });
        return;
      }
      // Only the key on stdout, so that KEY=$(mlpipe keys api-key --name ci) works.
      ctx.out(made.key);
      ctx.note(`added key "${made.entry.name}" to ${opts.file} (only its sha256 is stored: this is the one time the key is shown; keep it in your secret store)`);
    });

  const list = keys.command('api-keys').description('the API keys of a key file: list (names and limits, never a key or hash), revoke');
  list
    .command('list')
    .description('names, creation times and limits of the keys in a key file')
    .addOption(keyFileOption())
    .option('--json', 'print one JSON document')
    .action(async (opts: { file: string; json?: boolean }) => {
      const { readApiKeys } = await import('../../core/api-keys.js');
      const read = await readApiKeys(opts.file);
      const rows = read.keys.map((k) => ({ name: k.name, createdAt: k.createdAt, limits: k.limits }));
      if (opts.json) {
        ctx.json({ file: opts.file, keys: rows });
        return;
      }
      if (rows.length === 0) ctx.note(`${opts.file}: no keys`);
      const shown = (v: number | undefined) => (v === undefined ? 'default' : v === 0 ? 'unlimited' : String(v));
      for (const r of rows) ctx.out(`${r.name}  created ${r.createdAt}  rate-limit ${shown(r.limits.rateLimit)}  batch-rate-limit ${shown(r.limits.batchRateLimit)}  rows-per-minute ${shown(r.limits.rowsPerMinute)}`);
    });
  list
    .command('revoke')
    .description('remove a key from a key file (a running serve --api-keys stops accepting it within seconds)')
    .argument('<name>', 'the key\'s name')
    .addOption(keyFileOption())
    .action(async (name: string, opts: { file: string }) => {
      const { revokeApiKey } = await import('../../core/api-keys.js');
      await revokeApiKey(opts.file, name);
      ctx.out(`revoked key "${name}" in ${opts.file}`);
    });
}
