/**
 * `make bench-image`: the container image's size and cold start, against `mlpipe serve` started as a
 * host process in the same run (the baseline). Targets (issue 14): ≤ 200 MB uncompressed, cold start
 * (container start → first answered prediction) ≤ 1.5 s.
 * A benchmark, not a test: a missed target prints TARGET MISSED and still exits 0.
 *
 *   node --import tsx bench/image.ts [--rounds 7] [--json]
 *
 * The penguins example (100 trees, as the README's demo) is baked into an image built from a context of
 * core/deploy/context.ts (what mlpipe containerize builds). Size: `podman image inspect` .Size, with the
 * layers from `podman history` and the runtime node_modules against the full install. Cold start: the
 * time from spawning `podman run -d --read-only` (or `node bin/mlpipe serve` for the baseline) until
 * POST /predict answers 200, polled every 10 ms; rounds interleaved, best and median reported.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readPipelineConfig } from '../src/core/pipeline/config.js';
import { runPipeline } from '../src/core/pipeline/run.js';
import { imageCacheDir, runtimeModules } from '../src/core/deploy/context.js';
import { BIN, EXAMPLES, ROOT, cleanupTempDirs, du, tempDir } from '../src/test-helpers/fixtures.js';
import { buildImage, podmanEnv, podmanOk, podmanUnusable, removeAll, uniqueName } from '../src/test-helpers/podman.js';

const TARGET_BYTES = 200e6;
const TARGET_COLD_MS = 1500;
const RECORD = { Island: 'Biscoe', 'Beak Length (mm)': 47.5, 'Beak Depth (mm)': 15.0, 'Flipper Length (mm)': 218, 'Body Mass (g)': 4950, Sex: 'FEMALE' };

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, json: { type: 'boolean', default: false } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected an integer ≥ 1, got "${values.rounds}"`);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** Polls POST /predict until it answers 200; the ms since `started`. */
async function firstPrediction(url: () => string | undefined, started: number, alive: () => boolean): Promise<number> {
  const body = JSON.stringify(RECORD);
  for (;;) {
    const u = url();
    if (u) {
      const status = await fetch(`${u}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.status, () => 0);
      if (status === 200) return performance.now() - started;
    }
    if (!alive()) throw new Error('the server exited before it answered');
    if (performance.now() - started > 120_000) throw new Error('no prediction within 120 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One cold start of the image: `podman run -d` to the first prediction. */
async function coldContainer(env: NodeJS.ProcessEnv, image: string): Promise<number> {
  const name = uniqueName('mlpipe-bench');
  const started = performance.now();
  try {
    await podmanOk(env, ['run', '-d', '--read-only', '--name', name, '-p', '127.0.0.1::8080', image]);
    const port = /:(\d+)\s*$/.exec(await podmanOk(env, ['port', name, '8080/tcp']))?.[1];
    return await firstPrediction(() => `http://127.0.0.1:${port}`, started, () => true);
  } finally {
    await removeAll(env, [name]);
  }
}

/** One cold start of the baseline: `node bin/mlpipe serve` on the host to the first prediction. */
async function coldHost(ref: string, artifacts: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'serve', ref, '--artifacts', artifacts, '--host', '127.0.0.1', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  try {
    return await firstPrediction(() => /listening on (\S+)/.exec(out)?.[1], started, () => child.exitCode === null);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
}

async function main(): Promise<void> {
  const env = await podmanEnv();
  const unusable = await podmanUnusable(env);
  if (unusable) {
    console.log(`bench/image: skipped: ${unusable}`);
    return;
  }
  const artifacts = await tempDir();
  const config = await readPipelineConfig(join(EXAMPLES, 'penguins', 'pipeline.yaml'));
  const run = await runPipeline({ config, seed: 42, artifacts, defaultArtifacts: artifacts });
  const ref = run.package.ref;
  const image = `localhost/${uniqueName('mlpipe-bench-image')}:1`;
  try {
    const build = await buildImage(env, image, { bundle: { ref, artifacts } });
    const size = Number(await podmanOk(env, ['image', 'inspect', image, '--format', '{{.Size}}']));
    const baseSize = Number(await podmanOk(env, ['image', 'inspect', 'localhost/mlpipe-base:bookworm-node20', '--format', '{{.Size}}']));
    const history = (await podmanOk(env, ['history', '--no-trunc', '--format', '{{.Size}}\t{{.CreatedBy}}', image]))
      .split('\n')
      .map((l) => l.split('\t'))
      .filter(([s]) => s !== '0B' && s !== '0 B')
      .map(([s, by]) => ({ size: s as string, step: (by ?? '').replace(/^\/bin\/sh -c (#\(nop\) )?/, '').slice(0, 70) }));
    const runtime = await du(await runtimeModules({ cacheDir: imageCacheDir(env), env }));
    const full = await du(join(ROOT, 'node_modules'));

    const container: number[] = [];
    const host: number[] = [];
    await coldContainer(env, image); // warm the page cache: every round starts from the same state
    await coldHost(ref, artifacts);
    for (let i = 0; i < rounds; i++) {
      container.push(await coldContainer(env, image));
      host.push(await coldHost(ref, artifacts));
    }
    const result = {
      image: { bytes: size, baseBytes: baseSize, appBytes: size - baseSize, targetBytes: TARGET_BYTES, layers: history },
      nodeModules: { runtimeBytes: runtime, fullBytes: full },
      buildMs: Math.round(build.ms),
      coldStartMs: {
        container: { best: Math.round(Math.min(...container)), median: Math.round(median(container)), runs: container.map(Math.round) },
        host: { best: Math.round(Math.min(...host)), median: Math.round(median(host)), runs: host.map(Math.round) },
        ratio: Number((median(container) / median(host)).toFixed(2)),
        targetMs: TARGET_COLD_MS,
      },
      rounds,
    };
    if (values.json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      console.log(`image ${ref} baked in (${rounds} rounds; built in ${(build.ms / 1000).toFixed(1)} s)`);
      console.log(`  size:        ${mb(size)} uncompressed (base ${mb(baseSize)} = Debian + node; mlpipe ${mb(size - baseSize)})  target ≤ ${mb(TARGET_BYTES)}${size > TARGET_BYTES ? '  TARGET MISSED' : ''}`);
      for (const l of history) console.log(`    ${l.size.padStart(9)}  ${l.step}`);
      console.log(`  node_modules: runtime ${mb(runtime)} (pruned) against the full install's ${mb(full)}`);
      const c = result.coldStartMs;
      console.log(`  cold start to the first prediction: container best ${c.container.best} ms, median ${c.container.median} ms; host process (baseline) best ${c.host.best} ms, median ${c.host.median} ms; ${c.ratio}× the baseline  target ≤ ${TARGET_COLD_MS} ms${c.container.median > TARGET_COLD_MS ? '  TARGET MISSED' : ''}`);
    }
  } finally {
    await removeAll(env, [], [image]);
    await cleanupTempDirs();
  }
}

await main();
