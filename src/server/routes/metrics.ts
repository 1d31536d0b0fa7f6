import { Router } from 'express';
import { clusterMetricsText } from '../cluster-metrics.js';
import type { ServerMetrics } from '../metrics.js';
import { allowOnly } from './allow.js';

/**
 * `GET /metrics`: every metric of the server in Prometheus's text format (public: no API key). In a
 * worker of `serve --workers N` (`clustered`), the whole server's, gathered by the primary.
 */
export function metricsRoutes(metrics: ServerMetrics, clustered = false): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    const text = clustered ? await clusterMetricsText() : await metrics.text();
    res.setHeader('Content-Type', metrics.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(text);
  });
  allowOnly(router, 'GET, HEAD', ['/metrics']);
  return router;
}
