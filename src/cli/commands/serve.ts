import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_PUBLIC_ROUTES } from '../../core/http-api/public-routes.js';
import type { CliContext } from '../context.js';
import { DEFAULT_POLL_INTERVAL_MS } from '../../server/options.js';
import { DEFAULT_TIMEOUTS } from '../../server/timeouts.js';
import { DEFAULT_STREAM_STALL_MS } from '../../server/options.js';
import { ConfigError, MlpipeError } from '../../core/errors.js';
import { ARTIFACTS_OPTION, type FeaturizerModuleFlag, featurizerModule, integer, oneOf, size } from '../parse.js';
import { keyFiles, readTrusted } from './keys.js';
import { isRemoteLocation } from '../../core/bundle/stores/location.js';

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
  logFormat: 'json' | 'pretty';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  pollInterval: number;
  apiKeys?: string;
  publicRoutes?: string[];
  rowsPerMinute: number;
  redis?: string;
  redisPrefix: string;
  redisFailure: 'open' | 'closed';
  maxInflight: number;
  requestDeadline: number;
  workers: number;
  streamStallTimeout: number;
}

/** The standard protocols `serve` answers besides mlpipe's own routes (server/routes/v2.ts, mlflow.ts). */
const PROTOCOLS_HELP = `
Standard protocols, besides mlpipe's own /v1 and /predict routes (README: "Standard protocols"):
  Open Inference Protocol V2 (KServe, Triton and MLServer clients):
    GET  /v2, /v2/health/live, /v2/health/ready, /v2/models/<name>[/versions/<v>][/ready]
    POST /v2/models/<name>[/versions/<v>]/infer
  MLflow scoring server (clients of \`mlflow models serve\`):
    GET  /ping, /health, /version
    POST /invocations (the default model), /v1/models/<name>/invocations
         application/json (dataframe_split, dataframe_records, instances, inputs) or text/csv`;

/** `mlpipe serve [<bundle-ref>...]`: verify and load bundles, then serve them over HTTP until SIGTERM. */
export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('serve bundles over HTTP (verified before listening); a name or name@alias follows the store to new versions without a restart; SIGTERM drains in-flight requests, then exits')
    .addHelpText('after', PROTOCOLS_HELP)
    .argument('[bundle-refs...]', 'bundles to serve, first = default model (default: $MLPIPE_MODEL, else every name in the store, its production alias or newest version)')
    .addHelpText('after', '\nThe server documents itself: GET /openapi.json (OpenAPI 3.1, every route and each model\'s schemas) and GET /docs (one self-contained page).\nA typed TypeScript client for it: mlpipe client <bundle-ref...> --out client.ts')
    .addOption(new Option('-p, --port <n>', 'port (0 = any free port); without --port and MLPIPE_PORT, $PORT (set by platforms that run a Procfile)').argParser(portNumber).default(8080).env('MLPIPE_PORT'))
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
      new Option('--featurizer-module <name=path>', "a custom featurizer's module, for every bundle that uses it (repeatable); refused unless its sha256 is the one the bundle recorded; also for new versions of a followed reference").argParser(featurizerModule),
    )
    .addOption(
      new Option('--require-signature <pub.pem[,other.pem]>', 'serve only bundles signed by one of these public keys (comma-separated): an unsigned bundle, one signed by another key or changed after signing stops the start')
        .argParser(keyFiles)
        .env('MLPIPE_REQUIRE_SIGNATURE'),
    )
    .addOption(
      new Option('--log-format <format>', 'logs (one line per request, and server messages) on stderr: json (one JSON object a line) or pretty (for a terminal); stdout has only the "listening on" line')
        .choices(['json', 'pretty'])
        .default('json')
        .env('MLPIPE_LOG_FORMAT'),
    )
    .addOption(new Option('--log-level <level>', 'least level logged (request lines are info; 5xx answers error)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').env('MLPIPE_LOG_LEVEL'))
    .addHelpText('after', '\nWhat operators see: GET /metrics (Prometheus text, no key), GET /v1/models/<name>/drift (live inputs against the training profile, PSI per field), X-Request-Id on every answer and in its log line.')
    .addHelpText('after', '\nBulk: POST /v1/models/<name>/predict/stream (and /predict/stream): NDJSON or CSV streamed in, predictions streamed out (NDJSON or CSV, as Accept asks), a bad row an error line; rows charged to --rows-per-minute as they arrive.')
    .addOption(
      new Option(
        '--poll-interval <ms>',
        'how often a reference without a fixed version (name, name@production) is checked for a new version, which is verified and swapped in without dropping a request (folder stores are also watched); 0 = never, serve what was loaded at start',
      )
        .argParser(integer(0))
        .default(DEFAULT_POLL_INTERVAL_MS)
        .env('MLPIPE_POLL_INTERVAL'),
    )
    .addOption(new Option('--api-keys <file>', 'require an API key (Authorization: Bearer <key> or X-API-Key) from this key file (mlpipe keys api-key); reloaded when it changes').env('MLPIPE_API_KEYS_FILE'))
    .addOption(
      new Option('--public-routes <paths>', `routes answered without a key when --api-keys is set: comma-separated paths, a trailing * for a prefix, or "none" (default: ${DEFAULT_PUBLIC_ROUTES.join(',')})`)
        .argParser(publicRoutes)
        .env('MLPIPE_PUBLIC_ROUTES'),
    )
    .addOption(new Option('--rows-per-minute <n>', 'records per minute per client on batch routes, so a 10,000-record batch costs 10,000 (0 = off; a key may have its own)').argParser(integer(0)).default(600_000).env('MLPIPE_ROWS_PER_MINUTE'))
    .addOption(new Option('--redis <url>', 'keep every limit in Redis (redis://host:6379), shared by all replicas').env('MLPIPE_REDIS_URL'))
    .addOption(new Option('--redis-prefix <prefix>', 'prefix of the keys the limits write to Redis').default('mlpipe:').env('MLPIPE_REDIS_PREFIX'))
    .addOption(
      new Option('--redis-failure <open|closed>', 'when Redis fails mid-traffic: open lets predictions through unthrottled (one log line per outage), closed answers them 503 limits_unavailable')
        .argParser(oneOf(['open', 'closed'] as const))
        .default('open')
        .env('MLPIPE_REDIS_FAILURE'),
    )
    .addOption(new Option('--max-inflight <n>', 'most prediction requests in progress at once; past it 503 overloaded with Retry-After (0 = no cap)').argParser(integer(0)).default(256).env('MLPIPE_MAX_INFLIGHT'))
    .addOption(new Option('--request-deadline <ms>', 'a prediction request not answered within this is answered 503 timeout and its work abandoned (0 = none)').argParser(integer(0)).default(30_000).env('MLPIPE_REQUEST_DEADLINE'))
    .addOption(
      new Option('--workers <n>', 'server processes sharing the port (node:cluster), for single-record throughput on every core; a worker that dies is restarted; SIGTERM drains them all; limits are shared by the workers (and by replicas with --redis)')
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
    .addHelpText('after', `\nAlso read from the environment:\n${SERVE_ENVIRONMENT.map((v) => `  ${v.name.padEnd(20)}${v.what}`).join('\n')}`)
    // --port > MLPIPE_PORT (commander's own env) > PORT > 8080: PORT is the platforms' name (Heroku,
    // Dokku, Cloud Run), a fallback below mlpipe's own, so one option has two variables.
    .hook('preAction', (cmd) => {
      const platformPort = ctx.io.env.PORT;
      if (cmd.getOptionValueSource('port') !== 'default' || platformPort === undefined || platformPort === '') return;
      try {
        cmd.setOptionValueWithSource('port', portNumber(platformPort), 'env');
      } catch (err) {
        cmd.error(`error: option '-p, --port <n>' value '${platformPort}' from env 'PORT' is invalid. ${(err as Error).message}`, { code: 'commander.invalidArgument' });
      }
    })
    .action(async (refs: string[], opts: ServeFlags) => {
      const clustered = await import('../../server/cluster.js');
      if (opts.workers > 1 && !clustered.isServeWorker()) {
        const code = await clustered.runPrimary({
          workers: opts.workers,
          out: (line) => ctx.out(line),
          note: (line) => ctx.note(line),
          shutdownTimeoutMs: opts.shutdownTimeout + 5000,
        });
        if (code !== 0) throw new MlpipeError('data_error', 'the server stopped: a worker failed (its reason is above)');
        ctx.note('stopped');
        return;
      }
      // A worker of a cluster (slot 1..N) runs the server as a lone process would, reporting to the primary.
      const slot = clustered.workerSlot();
      const { closeOnSignals, createLogger, startServer } = await import('../../server/start.js');
      const logger = createLogger({ format: opts.logFormat, level: opts.logLevel });
      const artifacts = ctx.artifacts(opts.artifacts);
      // Keys first: a wrong key file is one line naming it, before any bundle is read.
      const requireSignature = opts.requireSignature ? await readTrusted(ctx, opts.requireSignature) : undefined;
      // Positional references win over MLPIPE_MODEL; with neither, every name in the store.
      const targets = refs.length > 0 ? checkedRefs(refs, 'serve') : (modelRefsFromEnv(ctx.io.env.MLPIPE_MODEL) ?? (await defaultRefs(artifacts)));
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
        apiKeysFile: opts.apiKeys,
        ...(opts.publicRoutes ? { publicRoutes: opts.publicRoutes } : {}),
        rowsPerMinute: opts.rowsPerMinute,
        redisUrl: opts.redis,
        redisPrefix: opts.redisPrefix,
        redisFailure: opts.redisFailure,
        maxInflight: opts.maxInflight,
        requestDeadlineMs: opts.requestDeadline,
        streamStallTimeoutMs: opts.streamStallTimeout,
        ...(slot !== undefined ? { workerId: clustered.workerId() } : {}),
        ...(requireSignature ? { requireSignature } : {}),
        logger,
        pollIntervalMs: opts.pollInterval,
      });
      // In a cluster the first worker says what is served, and the primary prints `listening on` once.
      if (slot === undefined || slot === 1) {
        for (const m of running.registry.list()) logger.info(`serving ${m.ref} (${m.manifest.task}, predicts ${m.manifest.target.name}${m.signature ? `; signed by key ${m.signature.keyId}` : ''})`);
        if (running.follower.refs.length > 0) logger.info(`following ${running.follower.refs.join(', ')} (checked every ${opts.pollInterval / 1000} s${isRemoteLocation(artifacts) ? '' : ' and on every change in the store folder'})`);
      }
      // The log goes out in blocks (server/logging.ts): what is served is written before the
      // `listening on` line that scripts and tests wait for.
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
      if (slot === undefined) {
        ctx.out(`listening on ${running.url}`);
        await closeOnSignals(running, (m) => logger.info(m));
      } else {
        clustered.announceListening(running.url);
        await Promise.race([closeOnSignals(running, (m) => logger.info(m)), clustered.closeWhenPrimaryAsks(running)]);
      }
      logger.info('stopped');
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    });
}

const portNumber = integer(0, 65535);

/**
 * The environment variables `serve` reads besides its options' own (each shown as `env:` in --help):
 * one list for --help and for the test that every `MLPIPE_*` variable deploy/ sets is one serve reads.
 */
export const SERVE_ENVIRONMENT: readonly { name: string; what: string }[] = [
  { name: 'MLPIPE_MODEL', what: 'bundle references to serve, comma-separated, when no argument names one (an argument wins)' },
  { name: 'MLPIPE_ARTIFACTS', what: 'the bundle store when --artifacts is not given (a folder, s3://bucket/prefix or https://host/path/)' },
  { name: 'PORT', what: 'the port when neither --port nor MLPIPE_PORT is set (platforms that run a Procfile set it)' },
  { name: 'MLPIPE_S3_ENDPOINT', what: 'an S3-compatible server for an s3:// store (MinIO, …); credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION' },
  { name: 'MLPIPE_CACHE', what: 'a writable folder for the verified copies of a remote store\'s bundles (default: $XDG_CACHE_HOME/mlpipe, else ~/.cache/mlpipe)' },
];

/**
 * The references in MLPIPE_MODEL (comma-separated, blanks ignored); undefined when it is unset or
 * empty (an empty value in a ConfigMap or .env file means "not set"). A store location where a
 * reference belongs is refused with the two settings that say it.
 */
function modelRefsFromEnv(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const refs = value.split(',').map((r) => r.trim()).filter((r) => r !== '');
  if (refs.length === 0) throw new ConfigError(`MLPIPE_MODEL: no bundle reference in ${JSON.stringify(value)} (expected name, name@1.2.0, name@alias, npm:@scope/package or a folder, comma-separated)`);
  return checkedRefs(refs, 'MLPIPE_MODEL');
}

/**
 * Refuses a store location given as a bundle reference (`s3://bucket/prefix/name@production`): the
 * stores take a location (MLPIPE_ARTIFACTS) and a reference in it (name, name@alias) apart.
 */
function checkedRefs(refs: string[], origin: string): string[] {
  for (const ref of refs) {
    if (!isRemoteLocation(ref)) continue;
    // `…/prefix/name@alias`: the last segment is the bundle; `…/prefix/` (or a bare bucket) is a store.
    const slash = ref.lastIndexOf('/');
    const store = ref.slice(0, slash);
    const bundle = ref.slice(slash + 1);
    const split = bundle !== '' && !store.endsWith('/') ? ` MLPIPE_ARTIFACTS=${store} and MLPIPE_MODEL=${bundle}` : ` MLPIPE_ARTIFACTS=${ref} and MLPIPE_MODEL=<name>[@alias]`;
    throw new ConfigError(`${origin}: ${JSON.stringify(ref)} is a store location, not a bundle reference; name the store and the bundle apart:${split} (or --artifacts and an argument)`);
  }
  return refs;
}

/** `--public-routes`: comma-separated paths (a trailing `*` for a prefix), or `none`. */
function publicRoutes(value: string): string[] {
  if (value.trim() === 'none') return [];
  const paths = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const bad = paths.find((p) => !p.startsWith('/') || p.slice(0, -1).includes('*'));
  if (paths.length === 0 || bad !== undefined) throw new InvalidArgumentError(`expected paths starting with "/" (a trailing * for a prefix), comma-separated, or "none"${bad ? `; got "${bad}"` : ''}`);
  return paths;
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
