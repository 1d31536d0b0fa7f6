import { Router } from 'express';
import type { ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import { answeredBy, modelFor } from '../predict.js';
import { allowOnly } from './allow.js';

/**
 * `GET /v1/models/:name/drift`: the live statistics of the inputs the served version of a model was
 * asked to predict since it went live, beside its training profile, with a PSI per field (see
 * core/predictor/drift.ts). Aggregates only: no record is kept.
 */
export function driftRoutes(ctx: ServerContext, metrics: ServerMetrics): Router {
  const router = Router();
  router.get('/v1/models/:name/drift', (req, res) => {
    const model = modelFor(ctx, req.params.name as string);
    const drift = metrics.driftOf(model);
    if (!drift) throw new HttpError(503, 'not_ready', `${model.ref} is being replaced; ask again`);
    answeredBy(res, model);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ model: { name: model.name, version: model.version }, ...drift.report() });
  });
  allowOnly(router, 'GET, HEAD', ['/v1/models/:name/drift']);
  return router;
}
