import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// s3rver ships no types; its default export is a Koa application class.
// @ts-expect-error -- no declaration file
import S3rver from 's3rver';

/** A real S3-protocol server on 127.0.0.1 for tests, benchmarks and the CI example. */
export interface S3Server {
  /** `http://127.0.0.1:<port>`: MLPIPE_S3_ENDPOINT. */
  endpoint: string;
  /** The environment a client needs: endpoint, s3rver's credentials, a region. */
  env: Record<string, string>;
  close(): Promise<void>;
}

interface KoaContext {
  req: AsyncIterable<unknown>;
  res: { once(event: 'close', listener: () => void): void };
  method: string;
  path: string;
  querystring: string;
  headers: Record<string, string | undefined>;
  status: number;
  body: unknown;
  type: string;
}

interface S3rverStore {
  getMetadata(bucket: string, key: string): Promise<Record<string, string> | undefined>;
  existsObject(bucket: string, key: string): Promise<boolean>;
}

/**
 * Conditional writes, which AWS S3 (and MinIO, R2, GCS) implement and s3rver 3.7 ignores:
 * `If-None-Match: *` (create only) and `If-Match: <etag>` on PUT Object answer 412 PreconditionFailed
 * when the condition does not hold. Requests to one key are serialized here so the check and the
 * write are one step and a read never sees a write half-done (s3rver writes files in place; S3's
 * writes are atomic). This is S3's documented behaviour added to a real server, not a
 * mock: every request is still stored and answered by s3rver.
 */
function conditionalWrites(store: S3rverStore) {
  const queues = new Map<string, Promise<void>>();
  return async (ctx: KoaContext, next: () => Promise<void>): Promise<void> => {
    const ifNoneMatch = ctx.headers['if-none-match'];
    const ifMatch = ctx.headers['if-match'];
    const m = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
    // Object requests only (not multipart parts or copies): those are serialized per key below.
    if (!m || !['PUT', 'GET', 'HEAD', 'DELETE'].includes(ctx.method) || ctx.querystring.includes('uploadId') || ctx.headers['x-amz-copy-source']) return next();
    const bucket = m[1] as string;
    const key = decodeURIComponent(m[2] as string);
    const id = `${bucket}/${key}`;
    const before = queues.get(id) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    const chained = before.then(() => mine);
    queues.set(id, chained);
    await before;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      done();
      if (queues.get(id) === chained) queues.delete(id);
    };
    // A client that goes away mid-request (killed) frees the key, whatever s3rver does with its half body.
    ctx.res.once('close', release);
    try {
      const exists = await store.existsObject(bucket, key);
      const etag = exists ? (await store.getMetadata(bucket, key))?.etag : undefined;
      const conditional = ctx.method === 'PUT' && (ifNoneMatch !== undefined || ifMatch !== undefined);
      const failed = conditional && ((ifNoneMatch === '*' && exists) || (ifMatch !== undefined && (!exists || etag !== ifMatch)));
      if (failed) {
        // The body is read (and dropped) first: answering before it would reset the connection.
        for await (const _chunk of ctx.req);
        ctx.status = 412;
        ctx.type = 'application/xml';
        ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>${ifNoneMatch ? 'If-None-Match' : 'If-Match'}</Condition><Key>${key}</Key></Error>`;
        return;
      }
      await next();
    } finally {
      // A read is streamed after the middleware returns: the key stays held until it is sent (close).
      if (ctx.method !== 'GET') release();
    }
  };
}

/** Starts s3rver on 127.0.0.1 (port 0 by default) with the given buckets and S3's conditional writes. */
export async function startS3Server(options: { buckets?: string[]; port?: number } = {}): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'mlpipe-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    resetOnClose: true,
    configureBuckets: (options.buckets ?? ['models']).map((name) => ({ name })),
  });
  (server.middleware as unknown[]).unshift(conditionalWrites(server.store as S3rverStore));
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: { MLPIPE_S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
