import { Router } from 'express';
import type { ServerContext } from '../context.js';
import { sendError } from '../errors.js';
import { allowOnly } from './allow.js';

/** `GET /healthz` (the process answers) and `GET /readyz` (503 until the models are loaded, and while draining). */
export function healthRoutes(ctx: ServerContext): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    if (!ctx.models.ready) {
      res.setHeader('Retry-After', '5');
      sendError(res, 503, 'not_ready', 'not ready: models are loading or the server is shutting down');
      return;
    }
    res.json({ status: 'ready', models: ctx.models.list().map((m) => m.ref) });
  });
  allowOnly(router, 'GET, HEAD', ['/healthz', '/readyz']);
  return router;
}
