import { expect } from 'chai';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cleanupTempDirs, packagedExample, tempDir } from '../../../test-helpers/fixtures.js';
import { type S3Server, startS3Server } from '../../../test-helpers/s3.js';
import { loadPredictor } from '../../predictor/from-bundle.js';
import { packageModel } from '../package.js';
import { listNames, listVersions, openStore, readAliases, resolveRef, updateAliases } from '../store.js';
import { publishExisting, pullBundle } from '../transfer.js';
import { verifyBundle } from '../verify.js';
import { S3Store } from './s3.js';

describe('S3 bundle store (against s3rver on 127.0.0.1)', function () {
  this.timeout(120_000);
  let s3: S3Server;
  let modelDir: string;
  let client: S3Client;
  const saved: Record<string, string | undefined> = {};
  const store = 's3://models/team-a';

  before(async () => {
    s3 = await startS3Server({ buckets: ['models', 'other'] });
    for (const [k, v] of Object.entries({ ...s3.env, MLPIPE_CACHE: await tempDir() })) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    ({ modelDir } = await packagedExample('seed'));
    client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    await s3.close();
    await cleanupTempDirs();
  });

  const text = async (key: string): Promise<string | undefined> => {
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: 'models', Key: key }));
      return await out.Body!.transformToString();
    } catch {
      return undefined;
    }
  };

  it('packages into S3: files first, the manifest last; lists, resolves through the verified cache and loads', async () => {
    const result = await packageModel({ modelDir, name: 'penguins', artifacts: store });
    expect(result.version).to.equal('1.0.0');
    expect(result.dir).to.equal('s3://models/team-a/penguins/1.0.0');
    expect(await listNames(store)).to.deep.equal(['penguins']);
    expect(await listVersions(store, 'penguins')).to.deep.equal(['1.0.0']);
    expect(await text('team-a/penguins/aliases.json')).to.equal('{}\n');
    const { dir } = await resolveRef('penguins', store);
    expect(dir.startsWith(process.env.MLPIPE_CACHE!)).to.equal(true);
    const manifest = await verifyBundle(dir);
    expect(manifest.name).to.equal('penguins');
    expect(JSON.parse((await text('team-a/penguins/1.0.0/manifest.json'))!)).to.deep.equal(manifest);
    const model = await loadPredictor('penguins@1.0.0', store);
    expect(model.version).to.equal('1.0.0');
  });

  it('two concurrent packages never get the same version (a conditional create claims it)', async () => {
    const results = await Promise.all([1, 2, 3, 4].map(() => packageModel({ modelDir, name: 'race', artifacts: store })));
    expect(results.map((r) => r.version).sort()).to.deep.equal(['1.0.0', '1.0.1', '1.0.2', '1.0.3']);
    expect(await listVersions(store, 'race')).to.deep.equal(['1.0.0', '1.0.1', '1.0.2', '1.0.3']);
    for (const r of results) expect((await verifyBundle((await resolveRef(r.ref, store)).dir)).version).to.equal(r.version);
  });

  it('an explicit version that exists is refused and nothing changes', async () => {
    const before = await text('team-a/penguins/1.0.0/manifest.json');
    try {
      await packageModel({ modelDir, name: 'penguins', version: '1.0.0', artifacts: store });
      expect.fail('should refuse');
    } catch (err) {
      expect(err).to.have.property('name', 'ConflictError');
      expect((err as Error).message).to.contain('penguins@1.0.0 already exists in s3://models/team-a');
    }
    expect(await text('team-a/penguins/1.0.0/manifest.json')).to.equal(before);
  });

  it('concurrent promotions never lose one of the moves (If-Match on the ETag, retried), and each is in the history', async () => {
    await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((alias) => updateAliases(store, 'race', (aliases) => ({ ...aliases, [alias]: '1.0.1' }))));
    expect(Object.keys(await readAliases(store, 'race')).sort()).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'f']);
    const history = await (await openStore(store)).readHistory('race');
    expect(history.map((e) => e.alias).sort()).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(history.every((e) => e.from === null && e.to === '1.0.1' && e.action === 'promote')).to.equal(true);
  });

  it('a bundle without its manifest (an upload killed half-way) is invisible, and gc removes what it left once its owner is gone', async () => {
    // What a publisher killed after its claim and two files leaves: its owner is a process that is gone.
    const owner = JSON.stringify({ pid: 999_999_999, hostname: (await import('node:os')).hostname(), startedAt: '' });
    await client.send(new PutObjectCommand({ Bucket: 'models', Key: 'team-a/penguins/.claims/1.0.1', Body: owner }));
    await client.send(new PutObjectCommand({ Bucket: 'models', Key: 'team-a/penguins/1.0.1/model.bin', Body: 'partial' }));
    expect(await listVersions(store, 'penguins')).to.deep.equal(['1.0.0']);
    expect((await resolveRef('penguins', store)).version).to.equal('1.0.0');
    const s = await openStore(store);
    const dry = await s.cleanLeftovers(undefined, { dryRun: true });
    expect(dry.map((l) => [l.path, l.action])).to.deep.equal([['s3://models/team-a/penguins/1.0.1/', 'removed']]);
    expect(await text('team-a/penguins/1.0.1/model.bin')).to.equal('partial');
    await s.cleanLeftovers('penguins');
    expect(await text('team-a/penguins/1.0.1/model.bin')).to.equal(undefined);
    expect(await text('team-a/penguins/.claims/1.0.1')).to.equal(undefined);
    // The version is free again.
    expect((await packageModel({ modelDir, name: 'penguins', artifacts: store })).version).to.equal('1.0.1');
  });

  it('a bundle changed in the store is refused naming the file, and nothing is cached', async () => {
    const fresh = await packageModel({ modelDir, name: 'tamper', artifacts: store });
    const key = `team-a/tamper/${fresh.version}/metrics.json`;
    const original = (await text(key))!;
    await client.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: original.replace('"', "'") }));
    try {
      await resolveRef('tamper', store);
      expect.fail('should refuse');
    } catch (err) {
      expect(err).to.have.property('name', 'VerificationError');
      expect((err as Error).message).to.match(/^s3:\/\/models\/team-a\/tamper\/1\.0\.0\/metrics\.json: checksum mismatch .* \(in the store; nothing was kept\)$/);
    } finally {
      await client.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: original }));
    }
    // The cache keeps only verified bundles: no folder of a failed download is left.
    const cacheEntries = await readdir(process.env.MLPIPE_CACHE!, { recursive: true });
    expect(cacheEntries.filter((e) => e.includes('.tmp-'))).to.deep.equal([]);
  });

  it('pull straight into a folder store checks every file as it arrives: a tampered bundle is refused and the folder store is left as it was', async () => {
    const fresh = await packageModel({ modelDir, name: 'pulled', artifacts: store });
    const target = await tempDir();
    const ok = await pullBundle(store, fresh.ref, target);
    expect(ok).to.include({ status: 'published', ref: 'pulled@1.0.0' });
    expect(ok.golden).to.deep.equal({ records: 20, present: true });
    expect((await verifyBundle(join(target, 'pulled', '1.0.0'))).manifestSha256).to.equal(fresh.manifest.manifestSha256);
    expect((await pullBundle(store, 'pulled', target)).status).to.equal('unchanged');
    const second = await packageModel({ modelDir, name: 'pulled', artifacts: store });
    const key = `team-a/pulled/${second.version}/model.bin`;
    const original = await client.send(new GetObjectCommand({ Bucket: 'models', Key: key })).then((o) => o.Body!.transformToByteArray());
    const changed = Buffer.from(original);
    changed[100] = (changed[100] as number) ^ 1;
    await client.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: changed }));
    try {
      await pullBundle(store, second.ref, target);
      expect.fail('should refuse');
    } catch (err) {
      expect(err).to.have.property('name', 'VerificationError');
      expect((err as Error).message).to.match(/^s3:\/\/models\/team-a\/pulled\/1\.0\.1\/model\.bin: checksum mismatch/);
    }
    expect(await readdir(join(target, 'pulled'))).to.have.members(['1.0.0', 'aliases.json']);
  });

  it('two readers fetching the same bundle at once share one cached copy, whole', async () => {
    await packageModel({ modelDir, name: 'both', artifacts: store });
    const [a, b, c] = await Promise.all([resolveRef('both', store), resolveRef('both@1.0.0', store), loadPredictor('both', store)]);
    expect(a.dir).to.equal(b.dir);
    expect(c.dir).to.equal(a.dir);
    expect((await verifyBundle(a.dir)).name).to.equal('both');
    expect((await readdir(join(a.dir, '..'))).filter((e) => e.includes('.tmp-'))).to.deep.equal([]);
  });

  it('push hashes every file as it uploads it: a file changed in the local bundle stops it, and nothing is left in the bucket', async () => {
    const local = await tempDir();
    const built = await packageModel({ modelDir, name: 'changed', artifacts: local });
    const path = join(built.dir, 'metrics.json');
    const metrics = await readFile(path, 'utf8');
    await writeFile(path, metrics.replace('"', "'"));
    try {
      await publishExisting(store, built.dir, { golden: false });
      expect.fail('should refuse');
    } catch (err) {
      expect(err).to.have.property('name', 'VerificationError');
      expect((err as Error).message).to.contain(`${path}: checksum mismatch`);
      expect((err as Error).message).to.contain('nothing was published to s3://models/team-a');
    }
    expect(await listVersions(store, 'changed')).to.deep.equal([]);
    expect(await text('team-a/changed/1.0.0/metrics.json')).to.equal(undefined);
    expect(await text('team-a/changed/.claims/1.0.0')).to.equal(undefined);
  });

  it('a cached copy changed on disk is downloaded again', async () => {
    const { dir } = await resolveRef('race@1.0.2', store);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'metrics.json'), 'tampered');
    const again = await resolveRef('race@1.0.2', store);
    expect(await readFile(join(again.dir, 'metrics.json'), 'utf8')).to.not.equal('tampered');
    await verifyBundle(again.dir);
  });

  it('a missing bucket, wrong credentials and an unreachable endpoint are one line each, naming the store and never the key', async () => {
    const fail = async (run: () => Promise<unknown>): Promise<Error> => {
      try {
        await run();
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected a failure');
    };
    const missing = await fail(() => S3Store.fromLocation('s3://no-such-bucket/x', { ...s3.env }).listNames());
    expect(missing).to.have.property('name', 'NotFoundError');
    expect(missing.message).to.equal(`s3://no-such-bucket/x: no bucket "no-such-bucket" at ${s3.endpoint}`);
    // s3rver checks the access key id but not the V4 signature (unimplemented there): a wrong key id is what it refuses.
    const denied = await fail(() => S3Store.fromLocation(store, { ...s3.env, AWS_ACCESS_KEY_ID: 'WRONGKEY123', AWS_SECRET_ACCESS_KEY: 'wrong-secret-123' }).listNames());
    expect(denied).to.have.property('name', 'ConfigError');
    expect(denied.message).to.match(/^s3:\/\/models\/team-a: access denied at http:\/\/127\.0\.0\.1:\d+ \(InvalidAccessKeyId\)/);
    expect(denied.message).to.not.contain('wrong-secret-123').and.not.contain('WRONGKEY123');
    const unreachable = await fail(() => S3Store.fromLocation(store, { ...s3.env, MLPIPE_S3_ENDPOINT: 'http://127.0.0.1:9' }).listNames());
    expect(unreachable).to.have.property('name', 'ConfigError');
    expect(unreachable.message).to.equal('s3://models/team-a: cannot reach the S3 endpoint at http://127.0.0.1:9 (ECONNREFUSED)');
    const bad = await fail(async () => S3Store.fromLocation('s3://A_B/x'));
    expect(bad.message).to.contain('not a valid S3 location');
  });

  it('removing a version deletes its manifest first and frees nothing an alias needs', async () => {
    const s = await openStore(store);
    await s.removeVersion('race', '1.0.0');
    expect(await listVersions(store, 'race')).to.deep.equal(['1.0.1', '1.0.2', '1.0.3']);
    expect(await text('team-a/race/1.0.0/model.bin')).to.equal(undefined);
    await client.send(new DeleteObjectCommand({ Bucket: 'models', Key: 'unused' }));
  });
});
