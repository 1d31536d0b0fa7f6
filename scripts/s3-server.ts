/**
 * A local S3-compatible server for trying the s3:// store (and for the CI example): s3rver on
 * 127.0.0.1 with S3's conditional writes, buckets created empty, everything removed on exit.
 *
 *   node --import tsx scripts/s3-server.ts [--port 4568] [--bucket models]…
 *
 * Prints the environment to use (`export …` lines), then serves until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { startS3Server } from '../src/test-helpers/s3.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '4568' }, bucket: { type: 'string', multiple: true, default: ['models'] } } });
const server = await startS3Server({ port: Number(values.port), buckets: values.bucket });
for (const [k, v] of Object.entries(server.env)) console.log(`export ${k}=${v}`);
console.log(`# s3rver on ${server.endpoint}, buckets: ${values.bucket.join(', ')}; Ctrl-C stops it (and removes its files)`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
