import { type Request, Router } from 'express';
import { DOCS_CSP, renderDocsPage } from '../../core/http-api/docs-page.js';
import { goldenExample } from '../../core/http-api/examples.js';
import { type OpenApiDocument, buildOpenApi } from '../../core/http-api/openapi.js';
import type { Predictor } from '../../core/predictor/predictor.js';
import type { ServerContext } from '../context.js';
import { allowOnly } from './allow.js';

/** A Host header fit to show in the page's curl commands (a name or address, and a port); anything else is not echoed. */
const SHOWABLE_HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** Options of {@link docsRoutes}. */
export interface DocsRoutesOptions {
  /** Whether the document marks API keys `required` or `optional`; default: required when the server has keys (`--api-keys`). */
  apiKeys?: 'optional' | 'required';
}

/**
 * `GET /openapi.json` (the OpenAPI 3.1 document of the models served now) and `GET /docs` (that
 * document as one self-contained HTML page under a strict Content-Security-Policy). The document is
 * built once per set of served versions and default model, so a hot-swapped version shows at once.
 */
export function docsRoutes(ctx: ServerContext, options: DocsRoutesOptions = {}): Router {
  const router = Router();
  let cached: { key: string; doc: OpenApiDocument; json: string } | undefined;
  // A bundle is immutable: its example record is read once per loaded version.
  const examples = new WeakMap<Predictor, Promise<Record<string, unknown> | undefined>>();
  const exampleOf = (m: Predictor) => {
    let e = examples.get(m);
    if (!e) examples.set(m, (e = goldenExample(m.dir, m.manifest)));
    return e;
  };

  const current = async () => {
    const models = ctx.models.list();
    const def = ctx.models.default;
    const key = `${models.map((m) => m.ref).join(' ')}|${def?.name ?? ''}`;
    if (cached?.key === key) return cached;
    const found = new Map<string, Record<string, unknown>>();
    for (const m of models) {
      const e = await exampleOf(m);
      if (e) found.set(m.name, e);
    }
    const publicRoutes = ctx.options.publicRoutes;
    const doc = buildOpenApi(
      models.map((m) => m.manifest),
      {
        serverUrl: '/',
        maxBatchRows: ctx.options.maxBatchRows,
        examples: found,
        apiKeys: options.apiKeys ?? (ctx.apiKeys ? 'required' : 'optional'),
        ...(publicRoutes ? { publicRoutes } : {}),
        ...(def ? { defaultModel: def.name } : {}),
      },
    );
    cached = { key, doc, json: JSON.stringify(doc) };
    return cached;
  };

  router.get('/openapi.json', async (_req, res) => {
    const { json } = await current();
    res.type('application/json').send(json);
  });
  router.get('/docs', async (req: Request, res) => {
    const { doc } = await current();
    const host = req.get('host');
    const baseUrl = host !== undefined && SHOWABLE_HOST.test(host) ? `${req.protocol}://${host}` : undefined;
    res.setHeader('Content-Security-Policy', DOCS_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('html').send(renderDocsPage(doc, baseUrl ? { baseUrl } : {}));
  });
  allowOnly(router, 'GET, HEAD', ['/openapi.json', '/docs']);
  return router;
}
