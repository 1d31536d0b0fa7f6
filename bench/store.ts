/**
 * `make bench-store`: push and pull times of a 100-tree bundle to and from s3rver (on 127.0.0.1),
 * against a plain `@aws-sdk/client-s3` upload and download of the same files, measured in the same run
 * (medians of several rounds, interleaved). Target: push and pull within 1.5× of the plain SDK.
 * A benchmark, not a test: a missed target prints TARGET MISSED and still exits 0.
 *
 *   node --import tsx bench/store.ts [--rounds 7]
 *
 * mlpipe's push claims the version with a conditional create, uploads each file hashing it as it
 * streams (and sending the manifest's sha256 for S3 to check), then the manifest last; its pull
 * downloads into the folder store's staging folder, checks every file's size and sha256 as it arrives,
 * predicts the golden records again and renames the bundle into place. The plain SDK side only moves
 * the bytes (PutObject / GetObject of each file, with the same parallelism as mlpipe's store).
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { publishExisting, pullBundle } from '../src/core/bundle/transfer.js';
import { TRANSFER_CONCURRENCY } from '../src/core/bundle/stores/cache.js';
import { forEachLimited } from '../src/core/limited.js';
import { runPipeline } from '../src/core/pipeline/run.js';
import { cleanupTempDirs, tempDir } from '../src/test-helpers/fixtures.js';
import { mulberry32 } from '../src/test-helpers/random.js';
import { startS3Server } from '../src/test-helpers/s3.js';

const TARGET_RATIO = 1.5;
const TREES = 100;
/** The table the bundle is trained on: noisy, so the trees are deep and the bundle has a realistic size. */
const ROWS = 20_000;
const FEATURES = 10;

/** A seeded three-class table with numeric features and label noise, as CSV. */
function syntheticCsv(): string {
  const rand = mulberry32(20261207);
  const lines = [[...Array.from({ length: FEATURES }, (_, j) => `x${j}`), 'y'].join(',')];
  for (let i = 0; i < ROWS; i++) {
    const x = Array.from({ length: FEATURES }, () => rand() * 10);
    const score = (x[0] as number) + (x[1] as number) * 0.5 - (x[2] as number) * 0.3 + rand() * 6;
    lines.push([...x.map((v) => v.toFixed(3)), score < 5 ? 'low' : score < 9 ? 'mid' : 'high'].join(','));
  }
  return `${lines.join('\n')}\n`;
}

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected an integer ≥ 1, got "${values.rounds}"`);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};


async function main(): Promise<void> {
  const s3 = await startS3Server({ buckets: ['bench'] });
  Object.assign(process.env, s3.env, { MLPIPE_CACHE: await tempDir() });
  try {
    const local = await tempDir();
    const csv = join(await tempDir(), 'table.csv');
    await writeFile(csv, syntheticCsv());
    const built = await runPipeline({ source: csv, target: 'y', name: 'table', seed: 7, model: { trees: TREES }, artifacts: local, defaultArtifacts: local });
    const dir = built.package.dir;
    const files = (await readdir(dir)).sort();
    let bytes = 0;
    for (const f of files) bytes += (await stat(join(dir, f))).size;
    console.log(`bundle table@1.0.0 (${ROWS} rows × ${FEATURES} features, 3 noisy classes): ${TREES} trees, ${files.length} files, ${(bytes / 1e6).toFixed(2)} MB; s3rver at ${s3.endpoint}; ${rounds} rounds`);

    const client = new S3Client({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const plainPush = async (prefix: string): Promise<void> =>
      forEachLimited(files, TRANSFER_CONCURRENCY, async (f) => {
        const path = join(dir, f);
        await client.send(new PutObjectCommand({ Bucket: 'bench', Key: `${prefix}/${f}`, Body: createReadStream(path), ContentLength: (await stat(path)).size }));
      });
    const plainPull = async (prefix: string, to: string): Promise<void> => {
      await mkdir(to, { recursive: true });
      await forEachLimited(files, TRANSFER_CONCURRENCY, async (f) => {
        const out = await client.send(new GetObjectCommand({ Bucket: 'bench', Key: `${prefix}/${f}` }));
        await writeFile(join(to, f), await out.Body!.transformToByteArray());
      });
    };

    const times = { plainPush: [] as number[], push: [] as number[], plainPull: [] as number[], pull: [] as number[] };
    const time = async (run: () => Promise<unknown>): Promise<number> => {
      const t0 = performance.now();
      await run();
      return performance.now() - t0;
    };
    for (let r = 0; r < rounds; r++) {
      const store = `s3://bench/mlpipe-${r}`;
      times.plainPush.push(await time(() => plainPush(`plain-${r}`)));
      times.push.push(await time(() => publishExisting(store, dir, { golden: false })));
      const plainTo = await tempDir();
      times.plainPull.push(await time(() => plainPull(`plain-${r}`, plainTo)));
      const pulled = await tempDir();
      // `bundles pull`: downloaded into the folder store's staging folder, checked, golden records predicted again.
      times.pull.push(await time(() => pullBundle(store, 'table@1.0.0', pulled)));
      await rm(plainTo, { recursive: true, force: true });
    }
    const rows: [string, number, number][] = [
      ['push (mlpipe bundles push vs PutObject of each file)', median(times.push), median(times.plainPush)],
      ['pull (mlpipe bundles pull vs GetObject of each file)', median(times.pull), median(times.plainPull)],
    ];
    for (const [what, ours, plain] of rows) {
      const ratio = ours / plain;
      console.log(`${what}: mlpipe ${ours.toFixed(1)} ms, plain @aws-sdk/client-s3 ${plain.toFixed(1)} ms → ${ratio.toFixed(2)}× ${ratio <= TARGET_RATIO ? `(target ≤ ${TARGET_RATIO}×: met)` : `TARGET MISSED (≤ ${TARGET_RATIO}×)`}`);
    }
  } finally {
    await s3.close();
    await cleanupTempDirs();
  }
}

await main();
