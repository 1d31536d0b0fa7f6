// Kept whole, over 400 lines: one class, S3Store, implementing BundleStore; its methods share the client, the key layout and one failure wording, and the claim/publish protocol reads best in one place.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { ConfigError, ConflictError, MlpipeError, NotFoundError, VerificationError, messageOf } from '../../errors.js';
import { faultPoint } from '../../test-seam.js';
import { type Leftover, judge, ownerRecord, parseOwner } from '../leftovers.js';
import { ALIASES_FILE, MANIFEST_FILE, type Manifest } from '../manifest.js';
import { VERSION_RE, isBundleName } from '../names.js';
import { forEachLimited } from '../../limited.js';
import { OversizeError, type RemoteFiles, TRANSFER_CONCURRENCY, cachedBundle } from './cache.js';
import { aliasEvents, compareVersions, nextPatch, parseAliases, parseEvent } from './common.js';
import { type AliasEvent, type BundleStore, INDEX_FILE, type PublishOptions, type StoreIndex } from './types.js';

/** Unfinished uploads have no owner on this host after this long without one (as a folder store's temporaries). */
const OWNERLESS_CLAIM_AGE_MS = 30_000;
/** A claim of a version: `<name>/.claims/<version>`, created with If-None-Match: * before any file is written. */
const CLAIMS = '.claims';
const HISTORY = 'history';

/** The parts of an `s3://bucket/prefix` location. */
function parseS3Location(location: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]*)\/?(.*)$/i.exec(location);
  const bucket = m?.[1] ?? '';
  // S3's bucket naming rules (3–63 characters, lower-case letters, digits, dots and hyphens).
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(`${location}: not a valid S3 location (s3://bucket/prefix, the bucket 3–63 lower-case letters, digits, "." or "-")`);
  }
  const prefix = (m?.[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((p) => p === '.' || p === '..')) throw new ConfigError(`${location}: the prefix may not hold "." or ".." parts`);
  return { bucket, prefix };
}

/** The HTTP status and error name of an SDK error. */
function statusOf(err: unknown): { status: number | undefined; name: string; code: string | undefined } {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return { status: e?.$metadata?.httpStatusCode, name: e?.name ?? '', code: e?.code };
}

function isMissing(err: unknown): boolean {
  const { status, name } = statusOf(err);
  return name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket');
}

function isPreconditionFailed(err: unknown): boolean {
  const { status, name } = statusOf(err);
  // 409 ConditionalRequestConflict: another conditional write to the key was in flight (AWS).
  return status === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || (status === 409 && name !== 'BucketAlreadyExists');
}

/**
 * An S3-compatible store: `s3://bucket/prefix`, through `@aws-sdk/client-s3`. Credentials and region
 * come from the standard AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
 * AWS_REGION, …); `MLPIPE_S3_ENDPOINT` points at an S3-compatible server (path-style addressing).
 * Keys are never taken from the command line and never appear in a message.
 *
 * Publishing: a version is claimed by creating `<name>/.claims/<version>` with `If-None-Match: *`
 * (two publishers never get the same version), then every file is uploaded, the manifest last (also
 * conditionally): a bundle without its manifest is invisible. Aliases change by a conditional write
 * on the ETag (`If-Match`), retried: concurrent promotions never lose one another.
 */
export class S3Store implements BundleStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly endpoint: string | undefined;

  private constructor(
    readonly location: string,
    readonly bucket: string,
    readonly prefix: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.endpoint = env.MLPIPE_S3_ENDPOINT || undefined;
    if (this.endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(this.endpoint)) {
      throw new ConfigError(`MLPIPE_S3_ENDPOINT: ${JSON.stringify(this.endpoint.slice(0, 100))} is not an http(s):// address`);
    }
    // The SDK warns on every process that releases after January 2027 will need Node 22: mlpipe pins
    // its version (package.json), so the warning says nothing to a user of this one.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
      ...(this.endpoint ? { endpoint: this.endpoint, forcePathStyle: true } : {}),
      // Keys from the given environment (the SDK's own chain reads process.env, profiles, SSO, …).
      ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } }
        : {}),
      // Without these the SDK's default checksums silently corrupt streamed uploads to some
      // S3-compatible servers (measured with s3rver); mlpipe checks every file's sha256 itself.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
    });
  }

  static fromLocation(location: string, env: NodeJS.ProcessEnv = process.env): S3Store {
    const { bucket, prefix } = parseS3Location(location);
    return new S3Store(location, bucket, prefix, env);
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].filter((p) => p !== '').join('/');
  }

  private where(key?: string): string {
    return key === undefined ? this.location : `s3://${this.bucket}/${key}`;
  }

  /** One line for an SDK failure: what, where, and what to check (never a credential). */
  private fail(err: unknown, key?: string): MlpipeError {
    if (err instanceof MlpipeError) return err;
    const { status, name, code } = statusOf(err);
    const at = this.where(key);
    const endpoint = this.endpoint ? ` at ${this.endpoint}` : '';
    if (name === 'NoSuchBucket') return new NotFoundError(`${at}: no bucket "${this.bucket}"${endpoint}`);
    if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(messageOf(err))) {
      return new ConfigError(`${at}: no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)`);
    }
    if (status === 403 || ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken'].includes(name)) {
      return new ConfigError(`${at}: access denied${endpoint} (${name || status}): check the AWS credentials in the environment and the bucket's permissions`);
    }
    const net = code ?? (err as { cause?: { code?: string } })?.cause?.code;
    if (net && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)$/.test(net)) {
      return new ConfigError(`${at}: cannot reach the S3 endpoint${endpoint || ' (AWS)'} (${net})`);
    }
    if (name === 'TimeoutError' || name === 'RequestTimeout') return new ConfigError(`${at}: the S3 endpoint${endpoint} did not answer in time`);
    return new ConfigError(`${at}: S3 request failed${endpoint} (${name || 'error'}${status ? ` ${status}` : ''}: ${messageOf(err).slice(0, 200)})`);
  }

  /** Every key (and its time) under a prefix, or the common prefixes with a delimiter. */
  private async list(prefix: string, delimiter?: string): Promise<{ keys: { key: string; modified: Date | undefined }[]; prefixes: string[] }> {
    const keys: { key: string; modified: Date | undefined }[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(delimiter ? { Delimiter: delimiter } : {}), ...(token ? { ContinuationToken: token } : {}) }));
      } catch (err) {
        throw this.fail(err);
      }
      for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push({ key: o.Key, modified: o.LastModified });
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix !== undefined) prefixes.push(p.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { keys, prefixes };
  }

  /** An object's bytes and ETag; undefined when it does not exist. At most `maxBytes` are read. */
  private async get(key: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<{ bytes: Buffer; etag: string | undefined } | undefined> {
    let out;
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw this.fail(err, key);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of out.Body as Readable) {
        total += (chunk as Buffer).length;
        if (total > maxBytes) {
          (out.Body as Readable).destroy();
          throw new OversizeError(this.where(key), maxBytes);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      throw this.fail(err, key);
    }
    return { bytes: Buffer.concat(chunks), etag: out.ETag };
  }

  private async put(key: string, body: Buffer | string | Readable, options: { ifNoneMatch?: boolean; ifMatch?: string; length?: number; contentType?: string; sha256?: string } = {}): Promise<'ok' | 'precondition-failed'> {
    // x-amz-checksum-sha256: S3 refuses an object whose bytes are not these (a bundle file's is its
    // manifest's sha256, so what arrives is what the manifest lists); computed here for bytes in memory.
    const sha256 = options.sha256 ?? (typeof body === 'string' || Buffer.isBuffer(body) ? createHash('sha256').update(body).digest('hex') : undefined);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ...(options.length !== undefined ? { ContentLength: options.length } : {}),
          ...(options.contentType ? { ContentType: options.contentType } : {}),
          ...(sha256 ? { ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64') } : {}),
          ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
          ...(options.ifMatch ? { IfMatch: options.ifMatch } : {}),
        }),
      );
      return 'ok';
    } catch (err) {
      if ((options.ifNoneMatch || options.ifMatch) && isPreconditionFailed(err)) return 'precondition-failed';
      throw this.fail(err, key);
    }
  }

  private async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (!isMissing(err)) throw this.fail(err, key);
    }
  }

  async listNames(): Promise<string[]> {
    const base = this.key('') === '' ? '' : `${this.key('')}/`;
    const { prefixes } = await this.list(base, '/');
    return prefixes.map((p) => p.slice(base.length).replace(/\/$/, '')).filter(isBundleName).sort();
  }

  /** Published versions (a manifest exists) and claimed ones (a claim exists), in one listing of the name. */
  private async scan(name: string): Promise<{ published: string[]; claimed: Map<string, Date | undefined> }> {
    const base = `${this.key(name)}/`;
    const { keys } = await this.list(base);
    const published: string[] = [];
    const claimed = new Map<string, Date | undefined>();
    for (const { key, modified } of keys) {
      const rest = key.slice(base.length).split('/');
      if (rest.length === 2 && rest[1] === MANIFEST_FILE && VERSION_RE.test(rest[0]!)) published.push(rest[0]!);
      else if (rest.length === 2 && rest[0] === CLAIMS && VERSION_RE.test(rest[1]!)) claimed.set(rest[1]!, modified);
    }
    return { published: published.sort(compareVersions), claimed };
  }

  async listVersions(name: string): Promise<string[]> {
    return (await this.scan(name)).published;
  }

  async readAliases(name: string): Promise<Record<string, string>> {
    const key = this.key(name, ALIASES_FILE);
    const got = await this.get(key, 16 * 1024 * 1024);
    return got ? parseAliases(got.bytes.toString('utf8'), this.where(key)) : {};
  }

  async updateAliases(
    name: string,
    update: (aliases: Record<string, string>) => Record<string, string>,
    action: string,
  ): Promise<{ before: Record<string, string>; after: Record<string, string> }> {
    const key = this.key(name, ALIASES_FILE);
    for (let attempt = 0; attempt < 30; attempt++) {
      const got = await this.get(key, 16 * 1024 * 1024);
      const before = got ? parseAliases(got.bytes.toString('utf8'), this.where(key)) : {};
      const after = update({ ...before });
      await faultPoint('aliases:locked', this.where(key));
      const written = await this.put(key, `${JSON.stringify(after, null, 2)}\n`, got?.etag ? { ifMatch: got.etag, contentType: 'application/json' } : { ifNoneMatch: true, contentType: 'application/json' });
      if (written === 'ok') {
        // One object per change, after the change: a history entry never names a change that lost.
        for (const event of aliasEvents(before, after, action)) {
          await this.put(this.key(name, HISTORY, `${event.at.replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.json`), `${JSON.stringify(event)}\n`, { contentType: 'application/json' });
        }
        return { before, after };
      }
      // Another promoter changed the aliases between our read and our write: read again and retry.
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 40 * Math.min(attempt + 1, 8)));
    }
    throw new ConflictError(`${this.where(key)}: the aliases of "${name}" kept changing under 30 attempts; try again`);
  }

  async readHistory(name: string): Promise<AliasEvent[]> {
    const { keys } = await this.list(`${this.key(name, HISTORY)}/`);
    const events: AliasEvent[] = [];
    for (const { key } of keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
      const got = await this.get(key, 64 * 1024);
      if (got) events.push(parseEvent(got.bytes.toString('utf8'), this.where(key)));
    }
    return events;
  }

  get remote(): RemoteFiles {
    return { location: this.location, fetchFile: async (n, v, file, maxBytes) => (await this.get(this.key(n, v, file), maxBytes))?.bytes };
  }

  async bundleDir(name: string, version: string): Promise<string> {
    return cachedBundle(this.remote, name, version);
  }

  async readFile(name: string, version: string, file: string): Promise<Buffer> {
    const key = this.key(name, version, file);
    const got = await this.get(key);
    if (!got) throw new NotFoundError(`${this.where(key)}: no such file in the store`);
    return got.bytes;
  }

  async publish(name: string, options: PublishOptions): Promise<string> {
    // An explicit version needs no listing: its claim (kept while the version exists) is the test.
    const { published, claimed } = options.version === undefined ? await this.scan(name) : { published: [], claimed: new Map<string, Date | undefined>() };
    if (options.ready !== undefined && options.version === undefined) throw new ConfigError('publish: a ready bundle folder needs its version');
    const staging = options.ready ?? (await mkdtemp(join(tmpdir(), 'mlpipe-publish-')));
    let claimedVersion: string | undefined;
    let done = false;
    try {
      if (options.ready === undefined) await options.fill(staging);
      const taken = [...published, ...claimed.keys()].sort(compareVersions);
      let version = options.version ?? nextPatch(taken[taken.length - 1]);
      for (let attempt = 0; ; attempt++) {
        const claimKey = this.key(name, CLAIMS, version);
        if ((await this.put(claimKey, ownerRecord(), { ifNoneMatch: true, contentType: 'application/json' })) === 'ok') break;
        if (options.version !== undefined) {
          const exists = (await this.listVersions(name)).includes(options.version);
          throw new ConflictError(`${name}@${options.version} ${exists ? 'already exists' : 'is being published'} in ${this.location}; bundles are immutable, choose another --version`);
        }
        if (attempt >= 50) throw new ConflictError(`${this.location}: could not claim a version of "${name}" in 50 attempts; try again`);
        version = nextPatch(version);
      }
      claimedVersion = version;
      if (options.ready === undefined) await options.prepare(staging, version);
      const manifestPath = join(staging, MANIFEST_FILE);
      const manifestBytes = await readFile(manifestPath);
      const listed = (JSON.parse(manifestBytes.toString('utf8')) as Manifest).files;
      const files = (await readdir(staging)).filter((f) => f !== MANIFEST_FILE);
      const upload = async (file: string): Promise<void> => {
        const path = join(staging, file);
        await faultPoint(`s3:upload:${file}`, this.where(this.key(name, version, file)));
        // A file the manifest lists is sent with its sha256 from there; another (signature.json) is small.
        const sum = Object.hasOwn(listed, file) ? listed[file]?.sha256 : undefined;
        if (sum) {
          // Hashed as it streams: a file that is not the one the manifest lists stops the publication
          // before the manifest is written (S3 itself refuses it too, by x-amz-checksum-sha256).
          const hash = createHash('sha256');
          const tap = new Transform({
            transform(chunk: Buffer, _encoding, pass) {
              hash.update(chunk);
              pass(null, chunk);
            },
          });
          await this.put(this.key(name, version, file), createReadStream(path).pipe(tap), { length: (await stat(path)).size, sha256: sum });
          const actual = hash.digest('hex');
          if (actual !== sum) {
            throw new VerificationError(file, `${path}: checksum mismatch (sha256 ${actual.slice(0, 12)}…, the manifest says ${sum.slice(0, 12)}…): the file was changed; nothing was published to ${this.location}`);
          }
        } else await this.put(this.key(name, version, file), await readFile(path));
      };
      // Every upload ends before a failure is handled (the first failure stops the others), so the
      // clean-up below removes every file that was sent.
      const settled = await Promise.allSettled([
        // aliases.json exists from the first version on, as in a folder store.
        this.put(this.key(name, ALIASES_FILE), '{}\n', { ifNoneMatch: true, contentType: 'application/json' }),
        forEachLimited(files, TRANSFER_CONCURRENCY, upload),
      ]);
      const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
      await faultPoint('s3:upload:manifest', this.where(this.key(name, version, MANIFEST_FILE)));
      const last = await this.put(this.key(name, version, MANIFEST_FILE), manifestBytes, { ifNoneMatch: true, contentType: 'application/json' });
      if (last !== 'ok') throw new ConflictError(`${name}@${version} already exists in ${this.location}; bundles are immutable`);
      done = true;
      return version;
    } catch (err) {
      // A publication that failed after its claim leaves nothing: its files and its claim are removed
      // (best effort; what a crash leaves, bundles gc removes).
      if (claimedVersion !== undefined && !done) {
        const { keys } = await this.list(`${this.key(name, claimedVersion)}/`).catch(() => ({ keys: [] as { key: string }[] }));
        if (!keys.some((k) => k.key.endsWith(`/${MANIFEST_FILE}`))) {
          for (const { key } of keys) await this.delete(key).catch(() => undefined);
          await this.delete(this.key(name, CLAIMS, claimedVersion)).catch(() => undefined);
        }
      }
      throw err;
    } finally {
      if (options.ready === undefined) await rm(staging, { recursive: true, force: true });
    }
  }

  async addFile(name: string, version: string, file: string, bytes: Uint8Array): Promise<void> {
    await this.put(this.key(name, version, file), Buffer.from(bytes), { contentType: 'application/json' });
  }

  async removeVersion(name: string, version: string): Promise<void> {
    // The manifest first: the version disappears at once; the rest, then the claim.
    await this.delete(this.key(name, version, MANIFEST_FILE));
    const { keys } = await this.list(`${this.key(name, version)}/`);
    for (const { key } of keys) await this.delete(key);
    await this.delete(this.key(name, CLAIMS, version));
  }

  async writeIndex(index: StoreIndex): Promise<string> {
    const key = this.key(INDEX_FILE);
    await this.put(key, `${JSON.stringify(index, null, 2)}\n`, { contentType: 'application/json' });
    return this.where(key);
  }

  async cleanLeftovers(name: string | undefined, options: { dryRun?: boolean } = {}): Promise<Leftover[]> {
    const names = name === undefined ? await this.listNames() : [name];
    const found: Leftover[] = [];
    for (const n of names) {
      const { published, claimed } = await this.scan(n);
      for (const [version, modified] of claimed) {
        if (published.includes(version)) continue;
        const claimKey = this.key(n, CLAIMS, version);
        const owner = parseOwner((await this.get(claimKey, 64 * 1024))?.bytes.toString('utf8') ?? '');
        const verdict = judge(owner, Date.now() - (modified?.getTime() ?? Date.now()), OWNERLESS_CLAIM_AGE_MS);
        if (verdict.stale && !options.dryRun) {
          const { keys } = await this.list(`${this.key(n, version)}/`);
          for (const { key } of keys) await this.delete(key);
          await this.delete(claimKey);
        }
        found.push({ path: this.where(`${this.key(n, version)}/`), kind: 'unfinished upload', action: verdict.stale ? 'removed' : 'kept', reason: verdict.reason });
      }
    }
    return found;
  }
}
