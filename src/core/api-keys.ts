/**
 * API keys for `mlpipe serve --api-keys`: a JSON file of named keys, each stored as the sha256 of a
 * high-entropy random key (never the key itself), with its own limits. Read and validated here (every
 * problem names the JSON path at fault), written atomically under a lock, matched in constant time.
 *
 * The file:
 * ```json
 * {"format": 1, "keys": [{"name": "ci", "sha256": "<64 hex>", "createdAt": "2026-12-07T20:00:00.000Z",
 *   "limits": {"rateLimit": 600, "batchRateLimit": 60, "rowsPerMinute": 100000}}]}
 * ```
 * Each limit is optional (absent: the server's default applies; 0: no limit for this key).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import lockfile from 'proper-lockfile';
import { ConfigError, ConflictError, NotFoundError, messageOf } from './errors.js';
import { prettyJson, writeFileAtomic } from './fs-util.js';

/** The file format this mlpipe writes and reads. */
const API_KEYS_FORMAT = 1;

/** What a key may do per minute; each absent field falls back to the server's default, 0 = unlimited. */
export interface ApiKeyLimits {
  /** Single-record predict requests per minute. */
  rateLimit?: number;
  /** Batch (and stream) requests per minute. */
  batchRateLimit?: number;
  /** Records predicted per minute on batch and stream routes. */
  rowsPerMinute?: number;
}

/** The limit names, in the order they are shown; the one list every reader and writer uses. */
const API_KEY_LIMIT_NAMES = ['rateLimit', 'batchRateLimit', 'rowsPerMinute'] as const satisfies readonly (keyof ApiKeyLimits)[];

/** One stored key: its name, the sha256 of the key (hex), when it was made, and its limits. */
export interface ApiKeyEntry {
  name: string;
  sha256: string;
  createdAt: string;
  limits: ApiKeyLimits;
}

/** The whole key file. */
export interface ApiKeyFile {
  format: number;
  keys: ApiKeyEntry[];
}

/** A key name: letters, digits, `.`, `_`, `-`; it shows in logs and metrics, so it is short and plain. */
const API_KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** How every key this mlpipe makes begins (so that secret scanners and people recognise one). */
const API_KEY_PREFIX = 'mlp_';

/** A new key: `mlp_` and 32 random bytes (256 bits) in base64url. */
function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The hex sha256 of a key, as the key file stores it. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Checks a parsed key file; a ConfigError naming `file` and the JSON Pointer at fault (e.g.
 * `keys.json: /keys/2/limits/rateLimit: must be a whole number ≥ 0`).
 */
function validateApiKeys(value: unknown, file: string): ApiKeyFile {
  const fail = (path: string, problem: string): never => {
    throw new ConfigError(`${file}: ${path || '/'}: ${problem}`, [{ path, message: problem }]);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(value)) return fail('', 'must be a JSON object {"format": 1, "keys": [ … ]}');
  for (const k of Object.keys(value)) if (k !== 'format' && k !== 'keys') fail(`/${k}`, 'unknown field (allowed: format, keys)');
  if (value.format !== API_KEYS_FORMAT) fail('/format', `must be ${API_KEYS_FORMAT} (this mlpipe reads key files of format ${API_KEYS_FORMAT})`);
  if (!Array.isArray(value.keys)) return fail('/keys', 'must be an array of keys');
  const names = new Set<string>();
  const hashes = new Set<string>();
  const keys = value.keys.map((entry: unknown, i): ApiKeyEntry => {
    const at = `/keys/${i}`;
    if (!isObject(entry)) return fail(at, 'must be an object {"name", "sha256", "createdAt", "limits"}');
    for (const k of Object.keys(entry)) if (!['name', 'sha256', 'createdAt', 'limits'].includes(k)) fail(`${at}/${k}`, 'unknown field (allowed: name, sha256, createdAt, limits)');
    const { name, sha256, createdAt, limits } = entry;
    if (typeof name !== 'string' || !API_KEY_NAME.test(name)) fail(`${at}/name`, 'must be a name of 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
    if (names.has(name as string)) fail(`${at}/name`, `"${name as string}" is used by an earlier key; names must be unique`);
    names.add(name as string);
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) fail(`${at}/sha256`, 'must be the sha256 of the key: 64 lower-case hex characters (the key itself is never stored)');
    if (hashes.has(sha256 as string)) fail(`${at}/sha256`, 'the same key hash as an earlier key');
    hashes.add(sha256 as string);
    if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) fail(`${at}/createdAt`, 'must be a date and time (ISO 8601)');
    const parsedLimits: ApiKeyLimits = {};
    if (limits !== undefined) {
      if (!isObject(limits)) fail(`${at}/limits`, `must be an object with any of ${API_KEY_LIMIT_NAMES.join(', ')}`);
      for (const [k, v] of Object.entries(limits as Record<string, unknown>)) {
        if (!(API_KEY_LIMIT_NAMES as readonly string[]).includes(k)) fail(`${at}/limits/${k}`, `unknown limit (allowed: ${API_KEY_LIMIT_NAMES.join(', ')})`);
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${at}/limits/${k}`, 'must be a whole number ≥ 0 (0 = no limit for this key)');
        parsedLimits[k as keyof ApiKeyLimits] = v as number;
      }
    }
    return { name: name as string, sha256: sha256 as string, createdAt: createdAt as string, limits: parsedLimits };
  });
  return { format: API_KEYS_FORMAT, keys };
}

/** Parses and validates key file text (see {@link validateApiKeys}). */
export function parseApiKeys(text: string, file: string): ApiKeyFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: invalid JSON (${messageOf(err)})`);
  }
  return validateApiKeys(value, file);
}

/** Reads and validates a key file; NotFoundError when it does not exist. */
export async function readApiKeys(file: string): Promise<ApiKeyFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${file}: API key file not found (make one with: mlpipe keys api-key --name NAME --file ${file})`);
    throw new ConfigError(`${file}: cannot read the API key file (${messageOf(err)})`);
  }
  return parseApiKeys(text, file);
}

/**
 * Changes a key file under a lock (proper-lockfile, as the store's aliases are changed): reads it (an
 * absent file is an empty one), applies `change`, writes the result atomically. Two `mlpipe keys`
 * at once never lose each other's key.
 */
async function updateApiKeys<T>(file: string, change: (current: ApiKeyFile) => { next: ApiKeyFile; result: T }): Promise<T> {
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, { lockfilePath: join(dirname(file), `.${basename(file)}.lock`), realpath: false, retries: { retries: 40, minTimeout: 20, maxTimeout: 250 } });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    throw new ConflictError(`${file}: the key file is being changed by another mlpipe; try again`);
  }
  try {
    let current: ApiKeyFile;
    try {
      current = await readApiKeys(file);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      current = { format: API_KEYS_FORMAT, keys: [] };
    }
    const { next, result } = change(current);
    await writeFileAtomic(file, prettyJson(next));
    return result;
  } finally {
    await release();
  }
}

/** What {@link addApiKey} made: the key (shown once, never stored) and its entry. */
export interface NewApiKey {
  key: string;
  entry: ApiKeyEntry;
}

/**
 * Makes a new key named `name` with `limits` and adds its hash to `file` (created when absent).
 * ConflictError when the name is taken; ConfigError for a bad name.
 */
export async function addApiKey(file: string, name: string, limits: ApiKeyLimits = {}, now: Date = new Date()): Promise<NewApiKey> {
  if (!API_KEY_NAME.test(name)) throw new ConfigError(`--name "${name}": a key name has 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  const key = generateApiKey();
  const entry: ApiKeyEntry = { name, sha256: hashApiKey(key), createdAt: now.toISOString(), limits: { ...limits } };
  await updateApiKeys(file, (current) => {
    if (current.keys.some((k) => k.name === name)) throw new ConflictError(`${file}: a key named "${name}" already exists; choose another name (or revoke it first: mlpipe keys api-keys revoke ${name})`);
    return { next: { format: API_KEYS_FORMAT, keys: [...current.keys, entry] }, result: undefined };
  });
  return { key, entry };
}

/** Removes the key named `name` from `file`; NotFoundError naming the keys there when it has none of that name. */
export async function revokeApiKey(file: string, name: string): Promise<ApiKeyEntry> {
  return updateApiKeys(file, (current) => {
    const entry = current.keys.find((k) => k.name === name);
    if (!entry) throw new NotFoundError(`${file}: no key named "${name}" (keys: ${current.keys.map((k) => k.name).join(', ') || 'none'})`);
    return { next: { format: API_KEYS_FORMAT, keys: current.keys.filter((k) => k !== entry) }, result: entry };
  });
}

/** The keys a server accepts, ready to match a presented key in constant time. */
export class ApiKeySet {
  private readonly hashes: Buffer[];

  constructor(readonly entries: readonly ApiKeyEntry[]) {
    this.hashes = entries.map((e) => Buffer.from(e.sha256, 'hex'));
  }

  /**
   * The entry of a presented key, or undefined. The key is hashed, and its hash compared with EVERY
   * stored hash by `crypto.timingSafeEqual` (no early exit), so the time taken says nothing about
   * which key, or how much of one, matched.
   */
  match(presented: string): ApiKeyEntry | undefined {
    const hash = createHash('sha256').update(presented, 'utf8').digest();
    let found = -1;
    for (let i = 0; i < this.hashes.length; i++) {
      const same = timingSafeEqual(hash, this.hashes[i] as Buffer);
      found = same && found < 0 ? i : found;
    }
    return found < 0 ? undefined : this.entries[found];
  }
}
