import { Router } from 'express';
import type { ServerMetrics } from '../metrics.js';
import { allowOnly } from './allow.js';

/** `GET /metrics`: every metric of the server in Prometheus's text format (public: no API key). */
export function metricsRoutes(metrics: ServerMetrics): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    const text = await metrics.text();
    res.setHeader('Content-Type', metrics.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(text);
  });
  allowOnly(router, 'GET, HEAD', ['/metrics']);
  return router;
}
