import type { Request, Response, Router } from 'express';
import { sendError } from '../errors.js';

/** A known path with the wrong method: 405 with `Allow`, not a misleading 404. Register after the path's real routes. */
export function allowOnly(router: Router, methods: string, paths: readonly string[]): void {
  const answer = (_req: Request, res: Response) => {
    res.setHeader('Allow', methods);
    sendError(res, 405, 'method_not_allowed', `use ${methods} on this path`);
  };
  for (const path of paths) router.all(path, answer);
}
