import { type Request, type RequestHandler, type Response, Router } from 'express';
import type { Predictor } from '../../core/predictor/predictor.js';
import type { ServerContext } from '../context.js';
import type { FollowState } from '../follow.js';
import { HttpError } from '../errors.js';
import { jsonBody } from '../json-body.js';
import { modelFor, predictBatch, predictOne, requireReady } from '../predict.js';
import { allowOnly } from './allow.js';

function summary(model: Predictor, isDefault: boolean, follow: FollowState | undefined) {
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
    // The reference this name follows (`penguins@production`): its version may change while serving.
    ...(follow ? { followed: follow.ref } : {}),
    metrics: headline,
    links: {
      self: `/v1/models/${m.name}`,
      predict: `/v1/models/${m.name}/predict`,
      batch: `/v1/models/${m.name}/predict/batch`,
      ...(m.files['report.html'] ? { report: `/v1/models/${m.name}/report` } : {}),
    },
  };
}

function detail(model: Predictor, isDefault: boolean, follow: FollowState | undefined) {
  const m = model.manifest;
  return {
    ...summary(model, isDefault, follow),
    ...(follow ? { follow } : {}),
    inputSchema: m.inputSchema,
    model: m.model,
    featurizer: m.featurizer,
    ...(m.customFeaturizers ? { customFeaturizers: m.customFeaturizers } : {}),
    evaluation: m.metrics,
    lineage: m.lineage,
  };
}

/**
 * mlpipe's own REST routes: the models served, their reports, and single and batch predictions
 * (`/v1/models/:name/…`, and `/predict`, `/predict/batch` for the default model). Every predict route
 * is throttled, validates its input with the bundle's schema (ajv), featurizes with the same core
 * code training used, and names the version that answered.
 */
export function v1Routes(ctx: ServerContext): Router {
  const router = Router();
  const opts = ctx.options;
  const name = (req: Request) => req.params.name as string | undefined;
  /** Fields one record may have (and distinct names one request may use): see `maxFields`. */
  const maxFieldsFor = (req: Request): number => opts.maxFields ?? Math.max(1000, 10 * modelFor(ctx, name(req)).transformer.pipeline.inputs.length);
  const ready = requireReady(ctx);
  const singleGuard: RequestHandler[] = [...ctx.limits.single, ready, ...jsonBody({ limit: opts.bodyLimit, maxFields: maxFieldsFor, expected: 'one record as a JSON object' })];
  const batchGuard: RequestHandler[] = [
    ...ctx.limits.batch,
    ready,
    ...jsonBody({ limit: opts.bodyLimit, maxFields: maxFieldsFor, expected: '{"records": [ … ]} with one JSON object per record' }),
  ];

  const single = (req: Request, res: Response) => {
    const model = modelFor(ctx, name(req));
    const body: unknown = req.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new HttpError(400, 'invalid_input', 'the body must be one record: a JSON object of column → value (use /predict/batch for many)', [
        { path: '', message: 'must be a JSON object' },
      ]);
    }
    res.json({ ...predictOne(ctx, res, model, body), model: { name: model.name, version: model.version } });
  };

  const batch = async (req: Request, res: Response) => {
    const model = modelFor(ctx, name(req));
    const body = req.body as { records?: unknown } | null;
    if (body === null || typeof body !== 'object' || Array.isArray(body) || !Array.isArray(body.records)) {
      throw new HttpError(400, 'invalid_input', 'the body must be {"records": [ … ]}', [{ path: '/records', message: 'must be an array of records' }]);
    }
    if (body.records.length > opts.maxBatchRows) {
      throw new HttpError(413, 'payload_too_large', `the batch has ${body.records.length} records; the limit is ${opts.maxBatchRows} (--max-batch-rows)`);
    }
    await ctx.limits.chargeRows(req, res, body.records.length);
    const predictions = await predictBatch(ctx, res, model, body.records);
    res.json({ predictions, model: { name: model.name, version: model.version } });
  };

  router.get('/v1/models', (_req, res) => {
    const def = ctx.models.default;
    res.json({ models: ctx.models.list().map((m) => summary(m, m === def, ctx.follow?.state(m.name))) });
  });
  router.get('/v1/models/:name', (req, res) => {
    const model = modelFor(ctx, name(req));
    res.json(detail(model, model === ctx.models.default, ctx.follow?.state(model.name)));
  });
  // The training report: a static page with no script; the CSP keeps it so even if a bundle lied.
  router.get('/v1/models/:name/report', async (req, res) => {
    const model = modelFor(ctx, name(req));
    const html = await model.reportHtml();
    if (!html) throw new HttpError(404, 'not_found', `${model.name}@${model.version} has no report (packaged by an mlpipe without reports)`);
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    res.type('html').send(html);
  });
  router.post('/v1/models/:name/predict', ...singleGuard, single);
  router.post('/v1/models/:name/predict/batch', ...batchGuard, batch);
  router.post('/predict', ...singleGuard, single);
  router.post('/predict/batch', ...batchGuard, batch);

  allowOnly(router, 'POST', ['/predict', '/predict/batch', '/v1/models/:name/predict', '/v1/models/:name/predict/batch']);
  allowOnly(router, 'GET, HEAD', ['/v1/models', '/v1/models/:name', '/v1/models/:name/report']);
  return router;
}
