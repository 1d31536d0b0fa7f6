import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { LoadedModel, Prediction } from '../core/bundle/load.js';
import { type ErrorDetail, ValidationError } from '../core/errors.js';
import { MAX_REPORTED_ERRORS, invalid } from '../core/features/input-schema.js';
import type { ModelRegistry } from '../core/bundle/registry.js';
import { HttpError, errorHandler, sendError } from './errors.js';
import { jsonBody } from './json-body.js';

/** Server limits and settings (all have defaults; see DESIGN.md's `serve`). */
export interface AppOptions {
  /** Requests per minute per client on single-record predict routes; 0 turns the limit off. */
  rateLimit: number;
  /** Requests per minute per client on batch routes; 0 turns the limit off. */
  batchRateLimit: number;
  /** Most records accepted in one batch. */
  maxBatchRows: number;
  /** Largest request body, as a byte count or a size like `10mb`. */
  bodyLimit: string | number;
  /**
   * The most fields (keys) one record, or any object in a request body, may have, and the most distinct
   * field names one request may use; checked on the raw bytes before parsing. Default: the larger of
   * 1,000 and 10 × the model's input fields.
   */
  maxFields?: number;
  /** Proxy hops to trust for the client address (`X-Forwarded-For`); 0 = none, the socket address is used. */
  trustProxy: number;
  /** Rate-limit window in milliseconds (default one minute). */
  windowMs?: number;
  /** Where server-side problems are reported (never the client). */
  log?: (message: string) => void;
}

export const DEFAULT_APP_OPTIONS: AppOptions = {
  rateLimit: 600,
  batchRateLimit: 60,
  maxBatchRows: 10_000,
  bodyLimit: '10mb',
  trustProxy: 0,
};

function summary(model: LoadedModel, isDefault: boolean) {
  const m = model.manifest;
  const holdout = m.metrics.holdout;
  const headline =
    holdout === null
      ? null
      : 'accuracy' in holdout.model
        ? { accuracy: holdout.model.accuracy, macroF1: holdout.model.macroF1 }
        : { r2: holdout.model.r2, rmse: holdout.model.rmse, mae: holdout.model.mae };
  return {
    name: m.name,
    version: m.version,
    default: isDefault,
    task: m.task,
    target: m.target.name,
    ...(m.classes ? { classes: m.classes } : {}),
    createdAt: m.createdAt,
    metrics: headline,
    links: {
      self: `/v1/models/${m.name}`,
      predict: `/v1/models/${m.name}/predict`,
      batch: `/v1/models/${m.name}/predict/batch`,
      ...(m.files['report.html'] ? { report: `/v1/models/${m.name}/report` } : {}),
    },
  };
}

function detail(model: LoadedModel, isDefault: boolean) {
  const m = model.manifest;
  return {
    ...summary(model, isDefault),
    inputSchema: m.inputSchema,
    model: m.model,
    featurizer: m.featurizer,
    ...(m.customFeaturizers ? { customFeaturizers: m.customFeaturizers } : {}),
    evaluation: m.metrics,
    lineage: m.lineage,
  };
}

/** A batch is validated and predicted this many records at a time, with a turn of the event loop between. */
export const BATCH_SLICE_ROWS = 250;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * {@link LoadedModel.predictMany} a slice at a time, yielding between slices so that single
 * predictions sent during a 10,000-record batch are answered between its slices, not after it. Every
 * slice is validated (problems of all of them reported together, at most {@link MAX_REPORTED_ERRORS},
 * at `/records/<i>`) and predicts exactly as one predictMany call would.
 */
async function predictInSlices(model: LoadedModel, records: readonly unknown[]): Promise<Prediction[]> {
  if (records.length <= BATCH_SLICE_ROWS) return model.predictMany(records);
  const out: Prediction[] = [];
  const details: ErrorDetail[] = [];
  for (let start = 0; start < records.length && details.length < MAX_REPORTED_ERRORS; start += BATCH_SLICE_ROWS) {
    if (start > 0) await yieldToEventLoop();
    try {
      const predictions = model.predictMany(records.slice(start, start + BATCH_SLICE_ROWS), (i) => `/records/${start + i}`);
      if (details.length === 0) for (const p of predictions) out.push(p);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      details.push(...err.details);
    }
  }
  if (details.length > 0) throw invalid(details.slice(0, MAX_REPORTED_ERRORS));
  return out;
}

/**
 * Builds the Express app for a registry of loaded models. No side effects, no `listen`: the start
 * file owns the socket. Every predict route validates its input with the bundle's schema (ajv),
 * featurizes with the same core code training used, and is rate-limited per client address.
 */
export function createApp(registry: ModelRegistry, options: Partial<AppOptions> = {}): Express {
  const opts: AppOptions = { ...DEFAULT_APP_OPTIONS, ...options };
  const log = opts.log ?? (() => {});
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // Never `true`: with IP-keyed limits a client could pick its own address via X-Forwarded-For.
  app.set('trust proxy', opts.trustProxy > 0 ? opts.trustProxy : false);

  const limiter = (limit: number, what: string): RequestHandler =>
    rateLimit({
      windowMs: opts.windowMs ?? 60_000,
      limit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      // With trust proxy off, X-Forwarded-For is ignored on purpose; the library would print a stack
      // trace to stderr the first time a client sends one. We log one plain line instead (below).
      validate: { xForwardedForHeader: false },
      handler: (_req, res) =>
        sendError(res, 429, 'rate_limited', `too many ${what} requests: the limit is ${limit} per ${Math.round((opts.windowMs ?? 60_000) / 1000)} s per client; retry after the time in Retry-After`),
    });
  let warnedForwarded = false;
  const noteForwarded: RequestHandler = (req, _res, next) => {
    if (!warnedForwarded && opts.trustProxy === 0 && req.headers['x-forwarded-for'] !== undefined) {
      warnedForwarded = true;
      log('note: a request came with X-Forwarded-For but --trust-proxy is 0, so clients are told apart by socket address; behind a proxy, set --trust-proxy to its number of hops');
    }
    next();
  };
  const requireReady: RequestHandler = (_req, res, next) => {
    if (!registry.ready) {
      res.setHeader('Retry-After', '5');
      throw new HttpError(503, 'not_ready', 'the server is not ready (models loading or shutting down)');
    }
    next();
  };
  /** Fields one record may have (and distinct names one request may use): see `maxFields`. */
  const maxFieldsFor = (req: Request): number => opts.maxFields ?? Math.max(1000, 10 * modelFor(req).transformer.pipeline.inputs.length);
  const singleBody = jsonBody({ limit: opts.bodyLimit, maxFields: maxFieldsFor, expected: 'one record as a JSON object' });
  const batchBody = jsonBody({ limit: opts.bodyLimit, maxFields: maxFieldsFor, expected: '{"records": [ … ]} with one JSON object per record' });
  /** The handlers in front of a predict route: rate limit (when on, with its proxy note), ready, the JSON body. */
  const guard = (limit: number, what: string, body: RequestHandler[]): RequestHandler[] =>
    limit > 0
      ? [...(opts.trustProxy === 0 ? [noteForwarded] : []), limiter(limit, what), requireReady, ...body]
      : [requireReady, ...body];
  const singleGuard = guard(opts.rateLimit, 'predict', singleBody);
  const batchGuard = guard(opts.batchRateLimit, 'batch', batchBody);

  const modelFor = (req: Request): LoadedModel => {
    const name = req.params.name as string | undefined;
    if (name === undefined) {
      const m = registry.default;
      if (!m) throw new HttpError(404, 'not_found', 'no model is served');
      return m;
    }
    const m = registry.get(name);
    if (!m) throw new HttpError(404, 'not_found', `no model named "${name}" (served: ${registry.list().map((x) => x.name).join(', ') || 'none'})`);
    return m;
  };

  const predictOne = (req: Request, res: Response) => {
    const model = modelFor(req);
    const body: unknown = req.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new HttpError(400, 'invalid_input', 'the body must be one record: a JSON object of column → value (use /predict/batch for many)', [
        { path: '', message: 'must be a JSON object' },
      ]);
    }
    res.json({ ...model.predictOne(body), model: { name: model.name, version: model.version } });
  };

  const predictBatch = async (req: Request, res: Response) => {
    const model = modelFor(req);
    const body = req.body as { records?: unknown } | null;
    if (body === null || typeof body !== 'object' || Array.isArray(body) || !Array.isArray(body.records)) {
      throw new HttpError(400, 'invalid_input', 'the body must be {"records": [ … ]}', [{ path: '/records', message: 'must be an array of records' }]);
    }
    if (body.records.length > opts.maxBatchRows) {
      throw new HttpError(413, 'payload_too_large', `the batch has ${body.records.length} records; the limit is ${opts.maxBatchRows} (--max-batch-rows)`);
    }
    res.json({ predictions: await predictInSlices(model, body.records), model: { name: model.name, version: model.version } });
  };

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    if (!registry.ready) {
      res.setHeader('Retry-After', '5');
      sendError(res, 503, 'not_ready', 'not ready: models are loading or the server is shutting down');
      return;
    }
    res.json({ status: 'ready', models: registry.list().map((m) => m.ref) });
  });
  app.get('/v1/models', (_req, res) => {
    const def = registry.default;
    res.json({ models: registry.list().map((m) => summary(m, m === def)) });
  });
  app.get('/v1/models/:name', (req, res) => {
    const model = modelFor(req);
    res.json(detail(model, model === registry.default));
  });

  // The training report: a static page with no script; the CSP keeps it so even if a bundle lied.
  app.get('/v1/models/:name/report', async (req, res) => {
    const model = modelFor(req);
    const html = await model.reportHtml();
    if (!html) throw new HttpError(404, 'not_found', `${model.name}@${model.version} has no report (packaged by an mlpipe without reports)`);
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    res.type('html').send(html);
  });
  app.post('/v1/models/:name/predict', ...singleGuard, predictOne);
  app.post('/v1/models/:name/predict/batch', ...batchGuard, predictBatch);
  app.post('/predict', ...singleGuard, predictOne);
  app.post('/predict/batch', ...batchGuard, predictBatch);

  // A known path with the wrong method: 405 with Allow, not a misleading 404.
  const allow = (methods: string) => (_req: Request, res: Response) => {
    res.setHeader('Allow', methods);
    sendError(res, 405, 'method_not_allowed', `use ${methods} on this path`);
  };
  for (const path of ['/predict', '/predict/batch', '/v1/models/:name/predict', '/v1/models/:name/predict/batch']) app.all(path, allow('POST'));
  for (const path of ['/healthz', '/readyz', '/v1/models', '/v1/models/:name', '/v1/models/:name/report']) app.all(path, allow('GET, HEAD'));

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`));
  });
  app.use(errorHandler(log));
  return app;
}
