import { expect } from 'chai';
import { appendFile, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promoteBundle } from '../core/bundle/release.js';
import { generateKeyPair, readSigningKey, readTrustedKeys } from '../core/bundle/signature.js';
import { packageModel } from '../core/bundle/package.js';
import { listVersions, openStore, updateAliases } from '../core/bundle/store.js';
import { readPipelineConfig } from '../core/pipeline/config.js';
import { runPipeline } from '../core/pipeline/run.js';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import type { Prediction, Predictor } from '../core/predictor/predictor.js';
import { unregisterCustomKind } from '../core/features/registry.js';
import { EXAMPLES, ROOT, cleanupTempDirs, exampleRecords, packagedExample, tempDir } from '../test-helpers/fixtures.js';
import { type S3Server, startS3Server } from '../test-helpers/s3.js';
import { startServeProcess } from '../test-helpers/serve.js';
import { isFollowable } from './follow.js';
import { type RunningServer, startServer } from './start.js';
import type { Telemetry } from './telemetry.js';

/** Trains the penguins example (3 trees) with `seed` and packages it as the next version of `name`. */
async function packageVersion(artifacts: string, name: string, seed: number): Promise<string> {
  const config = await readPipelineConfig(join(EXAMPLES, 'penguins', 'pipeline.yaml'));
  const result = await runPipeline({ config, name, seed, model: { trees: 3 }, artifacts, defaultArtifacts: artifacts, workDir: await tempDir() });
  return result.package.version;
}

/** Polls `check` every 25 ms until it is true; fails naming `what` after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

interface Answer {
  kind: 'single' | 'batch';
  /** performance.now() when the request was sent and when its answer had arrived. */
  sent: number;
  done: number;
  status: number;
  /** The version the body names, and the one the Mlpipe-Model header names. */
  version: string | undefined;
  header: string | null;
  predictions: Prediction[];
  records: number[];
}

const strip = (p: Prediction) => ({ prediction: p.prediction, probabilities: p.probabilities });

describe('serve follows a name or alias: new versions without dropping a request', function () {
  this.timeout(120_000);
  let artifacts: string;
  let records: Record<string, unknown>[];
  /** The predictions each version gives `records` (from the bundle, loaded here). */
  const expected = new Map<string, ReturnType<typeof strip>[]>();

  before(async () => {
    artifacts = join(await tempDir(), 'store');
    for (const seed of [1, 2, 3, 4, 5]) await packageVersion(artifacts, 'hot', seed);
    expect(await listVersions(artifacts, 'hot')).to.deep.equal(['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4']);
    records = (await exampleRecords('penguins')).filter((_r, i) => i % 4 === 0).slice(0, 60);
    for (const v of ['1.0.0', '1.0.1', '1.0.2', '1.0.3']) {
      const model = await loadPredictor(`hot@${v}`, artifacts);
      expected.set(v, model.predictMany(records).map(strip));
    }
    // Every version answers these records differently, so an answer shows which version made it.
    const shapes = [...expected.values()].map((e) => JSON.stringify(e));
    expect(new Set(shapes).size).to.equal(4);
    // 1.0.4 is corrupt: a file changed after packaging.
    await appendFile(join(artifacts, 'hot', '1.0.4', 'input-schema.json'), ' ');
    await promoteBundle(artifacts, 'hot@1.0.0', 'production');
  });
  after(cleanupTempDirs);

  it('tells references that move from fixed ones', () => {
    expect(['hot', 'hot@production', 'hot@latest', 'hot@staging'].map(isFollowable)).to.deep.equal([true, true, true, true]);
    expect(['hot@1.2.0', './artifacts/hot/1.0.0', '/abs/hot/1.0.0', 'npm:@scope/hot@1.0.0', 'npm:@scope/hot'].map(isFollowable)).to.deep.equal([false, false, false, false, false]);
  });

  it('under load, the alias moves five times (once to a corrupt bundle): no request fails, every answer comes from one version live at the time', async () => {
    // The server's point of view: when each version went live (the follower logs the swap as it makes it).
    const lines: { at: number; line: string }[] = [];
    const loaded: string[] = [];
    const failed: { name: string; reason: string }[] = [];
    const telemetry: Telemetry = {
      predicted: () => {},
      modelLoaded: (m: Predictor) => loaded.push(m.ref),
      modelLoadFailed: (name, reason) => failed.push({ name, reason }),
      limitStoreError: () => {},
    };
    const started = performance.now();
    const running: RunningServer = await startServer({
      refs: ['hot@production'],
      artifacts,
      port: 0,
      host: '127.0.0.1',
      rateLimit: 0,
      batchRateLimit: 0,
      pollIntervalMs: 150,
      telemetry,
      log: (line) => lines.push({ at: performance.now(), line }),
    });
    const live: { version: string; from: number }[] = [{ version: '1.0.0', from: started }];
    const swapRe = /^hot@production: now serving hot@(\d+\.\d+\.\d+) /;
    const failureLines = () => lines.filter((l) => l.line.includes('failed to load'));
    const served = () => running.registry.get('hot')!.version;

    const answers: Answer[] = [];
    let stop = false;
    const client = async (id: number) => {
      for (let n = 0; !stop && n < 2000; n++) {
        const batch = (n + id) % 2 === 0;
        const idx = batch ? records.map((_r, i) => i) : [(n * 5 + id) % records.length];
        const sent = performance.now();
        const res = await fetch(`${running.url}${batch ? '/v1/models/hot/predict/batch' : '/v1/models/hot/predict'}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(batch ? { records: idx.map((i) => records[i]) } : records[idx[0]!]),
        });
        const body = (await res.json()) as { model?: { version: string }; predictions?: Prediction[] } & Prediction;
        answers.push({
          kind: batch ? 'batch' : 'single',
          sent,
          done: performance.now(),
          status: res.status,
          version: body.model?.version,
          header: res.headers.get('mlpipe-model'),
          predictions: batch ? (body.predictions ?? []) : [body],
          records: idx,
        });
      }
    };
    const clients = [0, 1, 2].map(client);

    try {
      // Five moves of the alias: the corrupt 1.0.4 goes in third, by a direct change of aliases.json
      // (promote verifies first and would refuse it, as it should).
      const moves: { to: string; at: number }[] = [];
      const moveTo = async (version: string) => {
        moves.push({ to: version, at: performance.now() });
        if (version === '1.0.4') await updateAliases(artifacts, 'hot', (a) => ({ ...a, production: version }));
        else await promoteBundle(artifacts, `hot@${version}`, 'production');
      };
      await sleep(300);
      for (const version of ['1.0.1', '1.0.2', '1.0.4', '1.0.3', '1.0.0']) {
        await moveTo(version);
        if (version === '1.0.4') {
          await until('the corrupt version to be refused', () => failureLines().length === 1);
          // Several more checks of the store: the failed version is not tried (or logged) again.
          await sleep(600);
          expect(served()).to.equal('1.0.2');
          const detail = (await (await fetch(`${running.url}/v1/models/hot`)).json()) as Record<string, any>;
          expect(detail.followed).to.equal('hot@production');
          expect(detail.follow.lastFailure.version).to.equal('1.0.4');
          expect(detail.follow.lastFailure.reason).to.match(/input-schema\.json/);
          expect(detail.follow.watching).to.equal(true);
        } else {
          await until(`hot@${version} to be served`, () => served() === version);
          await sleep(300);
        }
      }
      stop = true;
      await Promise.all(clients);
      // The alias history, read from the swaps the server logged, matches the moves.
      for (const { at, line } of lines) {
        const m = swapRe.exec(line);
        if (m) live.push({ version: m[1]!, from: at });
      }
      expect(live.map((l) => l.version)).to.deep.equal(['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.0']);
      const validMoves = moves.filter((m) => m.to !== '1.0.4');
      live.slice(1).forEach((l, i) => expect(l.from, `swap to ${l.version} after its promotion`).to.be.greaterThan(validMoves[i]!.at));

      // No request failed; every answer names one version (body and header agree), never the corrupt one.
      expect(answers.length).to.be.greaterThan(100);
      expect(answers.filter((a) => a.status !== 200).map((a) => `${a.kind} ${a.status}`)).to.deep.equal([]);
      for (const a of answers) {
        expect(a.header).to.equal(`hot@${a.version}`);
        expect(a.version).to.not.equal('1.0.4');
        // Live at some moment between the request being sent and its answer arriving.
        const overlaps = live.some((l, i) => l.version === a.version && l.from <= a.done && (live[i + 1]?.from ?? Infinity) >= a.sent);
        expect(overlaps, `${a.kind} answered by ${a.version} between ${a.sent.toFixed(1)} and ${a.done.toFixed(1)} ms; live: ${JSON.stringify(live)}`).to.equal(true);
        // Every prediction of the answer is that version's own: a batch is never split across versions.
        expect(a.predictions.map(strip)).to.deep.equal(a.records.map((i) => expected.get(a.version!)![i]));
      }
      // Each version served some of the traffic, batches and single records alike.
      for (const v of ['1.0.0', '1.0.1', '1.0.2', '1.0.3']) {
        expect(answers.filter((a) => a.version === v && a.kind === 'batch').length, `batches on ${v}`).to.be.greaterThan(0);
        expect(answers.filter((a) => a.version === v && a.kind === 'single').length, `singles on ${v}`).to.be.greaterThan(0);
      }
      // The corrupt version: one log line naming the file, one telemetry report; the swaps reported too.
      const refused = failureLines();
      expect(refused).to.have.length(1);
      expect(refused[0]!.line).to.match(/^hot@production: hot@1\.0\.4 failed to load, still serving hot@1\.0\.2: .*input-schema\.json: .*the file was changed after the bundle was written$/);
      expect(failed).to.have.length(1);
      expect(failed[0]!.name).to.equal('hot');
      expect(loaded).to.deep.equal(['hot@1.0.0', 'hot@1.0.1', 'hot@1.0.2', 'hot@1.0.3', 'hot@1.0.0']);
    } finally {
      stop = true;
      await Promise.allSettled(clients);
      await running.close();
    }
  });

  it('retries a failed version once the alias has moved away and back (it may have been fixed meanwhile)', async () => {
    const lines: string[] = [];
    const running = await startServer({ refs: ['hot@production'], artifacts, port: 0, host: '127.0.0.1', pollIntervalMs: 60_000, log: (l) => lines.push(l) });
    try {
      expect(running.registry.get('hot')!.version).to.equal('1.0.0');
      await updateAliases(artifacts, 'hot', (a) => ({ ...a, production: '1.0.4' }));
      await running.follower.checkNow();
      await running.follower.checkNow();
      expect(lines.filter((l) => l.includes('hot@1.0.4 failed to load'))).to.have.length(1);
      await promoteBundle(artifacts, 'hot@1.0.3', 'production');
      await running.follower.checkNow();
      expect(running.registry.get('hot')!.version).to.equal('1.0.3');
      await updateAliases(artifacts, 'hot', (a) => ({ ...a, production: '1.0.4' }));
      await running.follower.checkNow();
      expect(lines.filter((l) => l.includes('hot@1.0.4 failed to load'))).to.have.length(2);
      expect(running.registry.get('hot')!.version).to.equal('1.0.3');
    } finally {
      await running.close();
      await promoteBundle(artifacts, 'hot@1.0.0', 'production');
    }
  });

  it('a fixed version (name@1.0.0) never moves, whatever the store does', async () => {
    const lines: string[] = [];
    const running = await startServer({ refs: ['hot@1.0.0'], artifacts, port: 0, host: '127.0.0.1', pollIntervalMs: 50, log: (l) => lines.push(l) });
    try {
      expect(running.follower.refs).to.deep.equal([]);
      await promoteBundle(artifacts, 'hot@1.0.3', 'production');
      await sleep(500);
      const res = await fetch(`${running.url}/v1/models/hot/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records[0]) });
      expect(res.status).to.equal(200);
      expect(res.headers.get('mlpipe-model')).to.equal('hot@1.0.0');
      const list = (await (await fetch(`${running.url}/v1/models`)).json()) as { models: Record<string, unknown>[] };
      expect(list.models[0]).to.include({ name: 'hot', version: '1.0.0' });
      expect(list.models[0]).to.not.have.property('followed');
      expect(lines).to.deep.equal([]);
    } finally {
      await running.close();
      await promoteBundle(artifacts, 'hot@1.0.0', 'production');
    }
  });

  it('a bare name follows the newest version as soon as it is published (the watch), and --poll-interval 0 follows nothing', async () => {
    await packageVersion(artifacts, 'fresh', 1);
    const still = await startServer({ refs: ['fresh'], artifacts, port: 0, host: '127.0.0.1', pollIntervalMs: 0 });
    // A poll interval far beyond the test: the swap can only come from the watch on the name's folder.
    const lines: string[] = [];
    const running = await startServer({ refs: ['fresh'], artifacts, port: 0, host: '127.0.0.1', pollIntervalMs: 600_000, log: (l) => lines.push(l) });
    try {
      expect(still.follower.refs).to.deep.equal([]);
      expect(running.follower.refs).to.deep.equal(['fresh']);
      expect(running.registry.get('fresh')!.version).to.equal('1.0.0');
      expect(await packageVersion(artifacts, 'fresh', 2)).to.equal('1.0.1');
      await until('fresh@1.0.1 to be served', () => running.registry.get('fresh')!.version === '1.0.1');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^fresh: now serving fresh@1\.0\.1 \(was 1\.0\.0; verified and loaded in \d+\.\d\d s\)$/);
      const detail = (await (await fetch(`${running.url}/v1/models/fresh`)).json()) as Record<string, any>;
      expect(detail).to.include({ version: '1.0.1', followed: 'fresh' });
      expect(detail.follow).to.include({ ref: 'fresh', pollIntervalMs: 600_000, watching: true, lastFailure: null });
      expect(Date.parse(detail.follow.lastChangeAt)).to.be.closeTo(Date.now(), 60_000);
      expect(still.registry.get('fresh')!.version).to.equal('1.0.0');
    } finally {
      await running.close();
      await still.close();
    }
  });
});

describe('serve follows a remote store by polling (s3://, https://)', function () {
  this.timeout(120_000);
  let s3: S3Server;
  let modelDir: string;
  let records: Record<string, unknown>[];
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    s3 = await startS3Server();
    for (const [k, v] of Object.entries({ ...s3.env, MLPIPE_CACHE: await tempDir() })) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    ({ modelDir } = await packagedExample('remote'));
    records = (await exampleRecords('penguins')).slice(0, 3);
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    await s3.close();
    await cleanupTempDirs();
  });

  it('s3://: `mlpipe serve remote@production --poll-interval 200` (a real process) swaps in the version promoted in the bucket', async () => {
    const store = 's3://models/follow';
    await packageModel({ modelDir, name: 'remote', artifacts: store });
    await promoteBundle(store, 'remote@1.0.0', 'production');
    const serve = startServeProcess(['remote@production', '--artifacts', store, '--port', '0', '--poll-interval', '200', '--rate-limit', '0']);
    try {
      const port = await serve.port();
      await serve.waitFor('stderr', /following remote@production \(checked every 0\.2 s\)/);
      await packageModel({ modelDir, name: 'remote', artifacts: store });
      await promoteBundle(store, 'remote@1.0.1', 'production');
      await serve.waitFor('stderr', /remote@production: now serving remote@1\.0\.1 \(was 1\.0\.0; verified and loaded in \d+\.\d\d s\)/);
      const res = await fetch(`http://127.0.0.1:${port}/v1/models/remote/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records[0]) });
      expect(res.status).to.equal(200);
      expect(res.headers.get('mlpipe-model')).to.equal('remote@1.0.1');
      expect(((await res.json()) as { model: unknown }).model).to.deep.equal({ name: 'remote', version: '1.0.1' });
      const list = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { models: Record<string, unknown>[] };
      expect(list.models[0]).to.include({ name: 'remote', version: '1.0.1', followed: 'remote@production' });
    } finally {
      serve.child.kill('SIGTERM');
      const exit = await serve.exited;
      expect(exit.code, serve.stderr).to.equal(0);
    }
  });

  it('https://: a bare name follows the newest version in the index.json of a static store (read again at every check)', async () => {
    // A folder store served read-only by a static file server, as a CDN would.
    const root = await tempDir();
    let broken = false;
    const files = createServer((req, res) => {
      if (broken) {
        res.statusCode = 500;
        res.end();
        return;
      }
      readFile(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))).then(
        (bytes) => res.end(bytes),
        () => {
          res.statusCode = 404;
          res.end();
        },
      );
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    const location = `http://127.0.0.1:${(files.address() as AddressInfo).port}/`;
    const writeIndex = async () => {
      const store = await openStore(root);
      await store.writeIndex({ format: 'mlpipe.store-index', bundles: { web: { versions: await store.listVersions('web') } } });
    };
    await packageModel({ modelDir, name: 'web', artifacts: root });
    await writeIndex();
    const lines: string[] = [];
    const running = await startServer({ refs: ['web'], artifacts: location, port: 0, host: '127.0.0.1', pollIntervalMs: 100, log: (l) => lines.push(l) });
    try {
      expect(running.registry.get('web')!.version).to.equal('1.0.0');
      // Published but not yet in the index: not seen (the index is what an http store lists).
      await packageModel({ modelDir, name: 'web', artifacts: root });
      await sleep(300);
      expect(running.registry.get('web')!.version).to.equal('1.0.0');
      await writeIndex();
      await until('web@1.0.1 to be served', () => running.registry.get('web')!.version === '1.0.1');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^web: now serving web@1\.0\.1 \(was 1\.0\.0;/);
      let detail = (await (await fetch(`${running.url}/v1/models/web`)).json()) as Record<string, any>;
      expect(detail.follow).to.include({ ref: 'web', watching: false, lastFailure: null });
      // The store goes away for a while: one line when it does (however many checks fail), one when it is back.
      broken = true;
      await until('the store failure to be logged', () => lines.length === 2);
      await sleep(500);
      expect(lines[1]).to.equal(`web: cannot check the store, still serving web@1.0.1: ${location}index.json: the store answered 500 Internal Server Error`);
      detail = (await (await fetch(`${running.url}/v1/models/web`)).json()) as Record<string, any>;
      expect(detail.follow.lastFailure).to.include({ version: null, reason: `${location}index.json: the store answered 500 Internal Server Error` });
      const res = await fetch(`${running.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records[0]) });
      expect(res.status).to.equal(200);
      broken = false;
      await until('the store to be back', () => lines.length === 3);
      expect(lines[2]).to.equal('web: the store answers again (web → web@1.0.1)');
    } finally {
      await running.close();
      await new Promise((resolve) => files.close(resolve));
    }
  });
});

describe('a new version passes the gate of the start: signature, custom featurizer modules', function () {
  this.timeout(120_000);
  after(cleanupTempDirs);
  const NAME = 'zp-follow';
  after(() => unregisterCustomKind(NAME));

  it('--require-signature: an unsigned new version is refused (the signed one keeps serving); a signed one is swapped in', async () => {
    const { artifacts, modelDir } = await packagedExample('signed');
    const keys = await tempDir();
    const release = await generateKeyPair(join(keys, 'release'));
    const key = await readSigningKey(release.privateKeyFile);
    expect((await packageModel({ modelDir, name: 'signed', artifacts, sign: key })).version).to.equal('1.0.1');
    await promoteBundle(artifacts, 'signed@1.0.1', 'production');
    const lines: string[] = [];
    const running = await startServer({
      refs: ['signed@production'],
      artifacts,
      port: 0,
      host: '127.0.0.1',
      pollIntervalMs: 600_000,
      requireSignature: await readTrustedKeys([release.publicKeyFile]),
      log: (l) => lines.push(l),
    });
    try {
      await promoteBundle(artifacts, 'signed@1.0.0', 'production');
      await running.follower.checkNow();
      expect(running.registry.get('signed')!.version).to.equal('1.0.1');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/^signed@production: signed@1\.0\.0 failed to load, still serving signed@1\.0\.1: .*signature\.json/);
      expect((await packageModel({ modelDir, name: 'signed', artifacts, sign: key })).version).to.equal('1.0.2');
      await promoteBundle(artifacts, 'signed@1.0.2', 'production');
      await running.follower.checkNow();
      expect(running.registry.get('signed')!.version).to.equal('1.0.2');
      expect(running.registry.get('signed')!.signature?.keyId).to.equal(release.keyId);
    } finally {
      await running.close();
    }
  });

  it('--featurizer-module applies to new versions; a new version needing a module not given is refused', async () => {
    const dir = await tempDir();
    const artifacts = join(dir, 'store');
    const module = join(dir, 'lib', 'zip-prefix.ts');
    await mkdir(join(dir, 'lib'));
    await copyFile(join(ROOT, 'test', 'fixtures', 'zip-prefix.ts'), module);
    const penguins = join(EXAMPLES, 'penguins', 'penguins.csv');
    await writeFile(join(dir, 'plain.yaml'), `name: zp\nsource: ${penguins}\ntarget: Species\nmodel: {trees: 3}\n`);
    await writeFile(join(dir, 'custom.yaml'), `name: zp\nsource: ${penguins}\ntarget: Species\nmodel: {trees: 3}\nfeatures:\n  custom:\n    ${NAME}: lib/zip-prefix.ts\n  columns:\n    Island: {kind: ${NAME}, digits: 1}\n`);
    for (const file of ['plain.yaml', 'custom.yaml']) await runPipeline({ config: await readPipelineConfig(join(dir, file)), seed: 1, artifacts, defaultArtifacts: artifacts, workDir: await tempDir() });
    await promoteBundle(artifacts, 'zp@1.0.0', 'production');
    const start = async (featurizers: { name: string; path: string }[]) => {
      const lines: string[] = [];
      const running = await startServer({ refs: ['zp@production'], artifacts, port: 0, host: '127.0.0.1', pollIntervalMs: 600_000, featurizers, log: (l) => lines.push(l) });
      return { running, lines };
    };
    const without = await start([]);
    // 1.0.0 uses no custom featurizer: the module is kept for the versions to come, with a note.
    const given = await start([{ name: NAME, path: module }]);
    try {
      expect(without.lines).to.deep.equal([]);
      expect(given.lines).to.have.length(1);
      expect(given.lines[0]).to.match(new RegExp(`^note: .*no custom featurizer "${NAME}" is used by zp@1\\.0\\.0.*; kept for new versions of zp@production$`));
      await promoteBundle(artifacts, 'zp@1.0.1', 'production');
      await without.running.follower.checkNow();
      await given.running.follower.checkNow();
      expect(without.running.registry.get('zp')!.version).to.equal('1.0.0');
      expect(without.lines).to.have.length(1);
      expect(without.lines[0]).to.match(new RegExp(`^zp@production: zp@1\\.0\\.1 failed to load, still serving zp@1\\.0\\.0: .*give the module with --featurizer-module ${NAME}=<path to zip-prefix\\.ts>$`));
      expect(given.running.registry.get('zp')!.version).to.equal('1.0.1');
      const record = (await exampleRecords('penguins'))[0];
      const res = await fetch(`${given.running.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(record) });
      expect(res.status).to.equal(200);
      expect(res.headers.get('mlpipe-model')).to.equal('zp@1.0.1');
    } finally {
      await without.running.close();
      await given.running.close();
    }
  });
});
