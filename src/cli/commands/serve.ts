import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { DEFAULT_TIMEOUTS } from '../../server/timeouts.js';
import { DEFAULT_STREAM_STALL_MS } from '../../server/options.js';
import { MlpipeError } from '../../core/errors.js';
import { ARTIFACTS_OPTION, type FeaturizerModuleFlag, featurizerModule, integer, size } from '../parse.js';
import { keyFiles, readTrusted } from './keys.js';

interface ServeFlags {
  port: number;
  host: string;
  artifacts?: string;
  rateLimit: number;
  batchRateLimit: number;
  maxBatchRows: number;
  bodyLimit: string;
  trustProxy: number;
  shutdownTimeout: number;
  requestTimeout: number;
  headersTimeout: number;
  keepAliveTimeout: number;
  maxFields?: number;
  featurizerModule?: FeaturizerModuleFlag[];
  requireSignature?: string[];
  workers: number;
  streamStallTimeout: number;
}

/** `mlpipe serve [<bundle-ref>...]`: verify and load bundles, then serve them over HTTP until SIGTERM. */
export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('serve bundles over HTTP (verified before listening); SIGTERM drains in-flight requests, then exits')
    .argument('[bundle-refs...]', 'bundles to serve, first = default model (default: every name in the store, its production alias or newest version)')
    .addOption(new Option('-p, --port <n>', 'port (0 = any free port)').argParser(integer(0, 65535)).default(8080).env('MLPIPE_PORT'))
    .addOption(new Option('--host <host>', 'address to listen on (0.0.0.0 in a container)').default('127.0.0.1').env('MLPIPE_HOST'))
    .option(...ARTIFACTS_OPTION)
    .addOption(new Option('--rate-limit <n>', 'single-record predict requests per minute per client (0 = off)').argParser(integer(0)).default(600).env('MLPIPE_RATE_LIMIT'))
    .addOption(new Option('--batch-rate-limit <n>', 'batch requests per minute per client (0 = off)').argParser(integer(0)).default(60).env('MLPIPE_BATCH_RATE_LIMIT'))
    .addOption(new Option('--max-batch-rows <n>', 'most records in one batch request').argParser(integer(1)).default(10_000).env('MLPIPE_MAX_BATCH_ROWS'))
    .addOption(new Option('--body-limit <size>', 'largest request body').argParser(size).default('10mb').env('MLPIPE_BODY_LIMIT'))
    .addOption(new Option('--trust-proxy <hops>', 'proxy hops whose X-Forwarded-For is trusted for the client address (0 = none)').argParser(integer(0, 32)).default(0).env('MLPIPE_TRUST_PROXY'))
    .addOption(
      new Option('--max-fields <n>', "most fields one record may have, and most distinct field names one request may use; checked before the body is parsed (default: the larger of 1000 and 10 × the model's inputs)")
        .argParser(integer(1))
        .env('MLPIPE_MAX_FIELDS'),
    )
    .addOption(new Option('--request-timeout <ms>', 'a whole request (head and body) must arrive within this; a slower one is answered 408 and closed').argParser(integer(1)).default(DEFAULT_TIMEOUTS.requestTimeout).env('MLPIPE_REQUEST_TIMEOUT'))
    .addOption(new Option('--headers-timeout <ms>', 'the request head must arrive within this (at most --request-timeout)').argParser(integer(1)).default(DEFAULT_TIMEOUTS.headersTimeout).env('MLPIPE_HEADERS_TIMEOUT'))
    .addOption(
      new Option('--keep-alive-timeout <ms>', "how long an idle keep-alive connection stays open; below --headers-timeout, and above a load balancer's idle timeout (60 s on AWS ALB and nginx) so it never reuses a connection the server has closed")
        .argParser(integer(1))
        .default(DEFAULT_TIMEOUTS.keepAliveTimeout)
        .env('MLPIPE_KEEP_ALIVE_TIMEOUT'),
    )
    .addOption(new Option('--shutdown-timeout <ms>', 'how long SIGTERM waits for in-flight requests').argParser(integer(0)).default(10_000).env('MLPIPE_SHUTDOWN_TIMEOUT'))
    .addOption(
      new Option('--featurizer-module <name=path>', "a custom featurizer's module, for every bundle that uses it (repeatable); refused unless its sha256 is the one the bundle recorded").argParser(featurizerModule),
    )
    .addOption(
      new Option('--require-signature <pub.pem[,other.pem]>', 'serve only bundles signed by one of these public keys (comma-separated): an unsigned bundle, one signed by another key or changed after signing stops the start')
        .argParser(keyFiles)
        .env('MLPIPE_REQUIRE_SIGNATURE'),
    )
    .addOption(
      new Option('--workers <n>', 'server processes sharing the port (node:cluster), for single-record throughput on every core; a worker that dies is restarted; SIGTERM drains them all')
        .argParser(integer(1, 256))
        .default(1)
        .env('MLPIPE_WORKERS'),
    )
    .addOption(
      new Option('--stream-stall-timeout <ms>', 'how long /predict/stream waits for a client that has stopped reading its answer before closing the connection')
        .argParser(integer(1))
        .default(DEFAULT_STREAM_STALL_MS)
        .env('MLPIPE_STREAM_STALL_TIMEOUT'),
    )
    .action(async (refs: string[], opts: ServeFlags) => {
      const clustered = await import('../../server/cluster.js');
      if (opts.workers > 1 && !clustered.isServeWorker()) {
        const code = await clustered.runPrimary({
          workers: opts.workers,
          out: (line) => ctx.out(line),
          note: (line) => ctx.note(line),
          shutdownTimeoutMs: opts.shutdownTimeout + 5000,
          // MERGE(limits): set up the limits the workers share here, once, in the primary (the cluster
          // memory store of express-rate-limit; Redis with --redis), e.g. `setup: () => setupSharedLimits(opts)`.
          setup: undefined,
        });
        if (code !== 0) throw new MlpipeError('data_error', 'the server stopped: a worker failed (its reason is above)');
        ctx.note('stopped');
        return;
      }
      // A worker of a cluster (slot 1..N) runs the server as a lone process would, reporting to the primary.
      const slot = clustered.workerSlot();
      const { closeOnSignals, startServer } = await import('../../server/start.js');
      const artifacts = ctx.artifacts(opts.artifacts);
      // Keys first: a wrong key file is one line naming it, before any bundle is read.
      const requireSignature = opts.requireSignature ? await readTrusted(ctx, opts.requireSignature) : undefined;
      const targets = refs.length > 0 ? refs : await defaultRefs(artifacts);
      const running = await startServer({
        refs: targets,
        artifacts,
        port: opts.port,
        host: opts.host,
        rateLimit: opts.rateLimit,
        batchRateLimit: opts.batchRateLimit,
        maxBatchRows: opts.maxBatchRows,
        bodyLimit: opts.bodyLimit,
        trustProxy: opts.trustProxy,
        shutdownTimeoutMs: opts.shutdownTimeout,
        maxFields: opts.maxFields,
        timeouts: { requestTimeout: opts.requestTimeout, headersTimeout: opts.headersTimeout, keepAliveTimeout: opts.keepAliveTimeout },
        featurizers: opts.featurizerModule,
        streamStallTimeoutMs: opts.streamStallTimeout,
        ...(slot !== undefined ? { workerId: clustered.workerId() } : {}),
        ...(requireSignature ? { requireSignature } : {}),
        log: (m) => ctx.note(m),
      });
      // In a cluster the first worker says what is served, and the primary prints `listening on` once.
      if (slot === undefined || slot === 1) {
        for (const m of running.registry.list()) ctx.note(`serving ${m.ref} (${m.manifest.task}, predicts ${m.manifest.target.name}${m.signature ? `; signed by key ${m.signature.keyId}` : ''})`);
      }
      if (slot === undefined) {
        ctx.out(`listening on ${running.url}`);
        await closeOnSignals(running, (m) => ctx.note(m));
        ctx.note('stopped');
        return;
      }
      clustered.announceListening(running.url);
      await Promise.race([closeOnSignals(running), clustered.closeWhenPrimaryAsks(running)]);
    });
}

/** Every bundle name in the store: its `production` alias when set, else its newest version. */
async function defaultRefs(artifacts: string): Promise<string[]> {
  const store = await import('../../core/bundle/store.js');
  const { NotFoundError } = await import('../../core/errors.js');
  const refs: string[] = [];
  for (const name of await store.listNames(artifacts)) {
    const versions = await store.listVersions(artifacts, name);
    if (versions.length === 0) continue;
    const aliases = await store.readAliases(artifacts, name);
    refs.push(aliases.production && versions.includes(aliases.production) ? `${name}@production` : name);
  }
  if (refs.length === 0) throw new NotFoundError(`no bundles to serve in ${artifacts}; package one first (mlpipe run …) or name a bundle`);
  return refs;
}
