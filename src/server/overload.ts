import type { RequestHandler, Response } from 'express';
import { HttpError, sendError } from './errors.js';

/**
 * The concurrency cap of the predict routes (`--max-inflight`): past `max` requests in progress, a
 * new one is answered 503 `overloaded` with Retry-After at once, before its body is read. A request
 * stops counting when its response closes (answered, or the client went away). One counter for every
 * route the handler is put in front of.
 */
export function inflightCap(max: number): RequestHandler {
  let inflight = 0;
  return (_req, res, next) => {
    if (inflight >= max) {
      res.setHeader('Retry-After', '1');
      throw new HttpError(503, 'overloaded', `the server is answering ${max} prediction requests already (--max-inflight); retry after the time in Retry-After`);
    }
    inflight++;
    res.once('close', () => inflight--);
    next();
  };
}

/** What a route reads of its request's deadline (`res.locals.deadline`). */
export interface Deadline {
  /** True once the deadline has passed (and the 503 is sent). */
  readonly expired: boolean;
}

/**
 * The per-request deadline (`--request-deadline`): a prediction request not answered `ms` after it
 * arrived is answered 503 `timeout` (with Connection: close, as its body may still be arriving), and
 * its work is abandoned where it can be: a batch stops between slices ({@link checkDeadline}).
 * `res.locals.deadline` ({@link Deadline}) tells routes that do long work of their own.
 *
 * One timer for every request, not one each: all share the same length, so the open requests, kept
 * in arrival order, expire oldest first, and a sweep every tenth of the deadline (5–250 ms) answers
 * those whose time is up. A request is answered at most that tick late.
 */
export function requestDeadline(ms: number): RequestHandler {
  const open = new Map<Response, { at: number; state: { expired: boolean } }>();
  const tick = Math.min(250, Math.max(5, Math.round(ms / 10)));
  let timer: NodeJS.Timeout | undefined;
  const expire = (res: Response) => {
    if (res.headersSent) return;
    res.setHeader('Retry-After', '1');
    res.setHeader('Connection', 'close');
    sendError(res, 503, 'timeout', `the request was not answered within ${ms} ms (--request-deadline); its work was abandoned. Send fewer records, or retry later`);
  };
  const sweep = () => {
    const now = performance.now();
    for (const [res, entry] of open) {
      if (now - entry.at < ms) break;
      open.delete(res);
      entry.state.expired = true;
      expire(res);
    }
    if (open.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  return (_req, res, next) => {
    const state = { expired: false };
    res.locals.deadline = state satisfies Deadline;
    open.set(res, { at: performance.now(), state });
    res.once('close', () => open.delete(res));
    if (!timer) {
      timer = setInterval(sweep, tick);
      timer.unref();
    }
    next();
  };
}

/** The deadline of a request, when it has one. */
function deadlineOf(res: Response): Deadline | undefined {
  return res.locals.deadline as Deadline | undefined;
}

/**
 * Throws when the request's deadline has passed (its 503 is already sent): called between pieces of
 * work, so that nothing more is done for a client that has had its answer. The error handler drops
 * the throw (the answer is out).
 */
export function checkDeadline(res: Response): void {
  if (deadlineOf(res)?.expired) throw new HttpError(503, 'timeout', 'the request deadline passed; its work was abandoned');
}
