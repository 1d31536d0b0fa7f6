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

/**
 * The per-request deadline (`--request-deadline`): a prediction request not answered `ms` after it
 * arrived is answered 503 `timeout` (with Connection: close, as its body may still be arriving), and
 * its work is abandoned where it can be: a batch stops between slices ({@link checkDeadline}). The
 * signal is `res.locals.deadline` (an AbortSignal) for routes that do long work of their own.
 */
export function requestDeadline(ms: number): RequestHandler {
  return (_req, res, next) => {
    const controller = new AbortController();
    res.locals.deadline = controller.signal;
    const timer = setTimeout(() => {
      controller.abort();
      if (res.headersSent) return;
      res.setHeader('Retry-After', '1');
      res.setHeader('Connection', 'close');
      sendError(res, 503, 'timeout', `the request was not answered within ${ms} ms (--request-deadline); its work was abandoned. Send fewer records, or retry later`);
    }, ms);
    res.once('close', () => clearTimeout(timer));
    next();
  };
}

/** The deadline's signal of a request, when it has one. */
export function deadlineOf(res: Response): AbortSignal | undefined {
  return res.locals.deadline as AbortSignal | undefined;
}

/**
 * Throws when the request's deadline has passed (its 503 is already sent): called between pieces of
 * work, so that nothing more is done for a client that has had its answer. The error handler drops
 * the throw (the answer is out).
 */
export function checkDeadline(res: Response): void {
  if (deadlineOf(res)?.aborted) throw new HttpError(503, 'timeout', 'the request deadline passed; its work was abandoned');
}
