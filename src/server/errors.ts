import type { ErrorRequestHandler, Response } from 'express';
import { type ErrorDetail, MlpipeError } from '../core/errors.js';

/** An error with an HTTP status, thrown by routes and middleware. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

/** One error as every protocol's error body is made from it. */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  details: ErrorDetail[];
}

/**
 * An error body in a protocol's own form. A router of a standard protocol (Open Inference Protocol,
 * MLflow) sets one with {@link useErrorFormat}; everything else answers mlpipe's form.
 */
export type ErrorFormat = (error: ErrorAnswer) => unknown;

/** mlpipe's own error body: `{"error": {"code", "message", "details"}}`. */
const MLPIPE_ERROR_FORMAT: ErrorFormat = ({ code, message, details }) => ({ error: { code, message, details } });

/** Makes every error answered for this request (by any handler or middleware after it) use `format`. */
export function useErrorFormat(format: ErrorFormat) {
  return (_req: unknown, res: Response, next: () => void): void => {
    res.locals.errorFormat = format;
    next();
  };
}

/**
 * Writes an error answer in the request's protocol form (mlpipe's by default). `res.locals.errorCode`
 * keeps the code, so that whatever observes responses (metrics, logs) can tell rejections apart.
 */
export function sendError(res: Response, status: number, code: string, message: string, details: ErrorDetail[] = []): void {
  res.locals.errorCode = code;
  const format = (res.locals.errorFormat as ErrorFormat | undefined) ?? MLPIPE_ERROR_FORMAT;
  res.status(status).json(format({ status, code, message, details }));
}

const STATUS_OF_CODE: Record<string, number> = {
  invalid_input: 400,
  invalid_config: 400,
  data_error: 400,
  usage: 400,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_ready: 503,
  verification_failed: 500,
};

/**
 * The single error middleware: maps typed errors and body-parser failures to JSON bodies with the
 * right status. A 500 never shows a stack; the error is passed to `log` instead.
 */
export function errorHandler(log: (message: string) => void): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      // Answered 503 by the request deadline (overload.ts): what fails later is abandoned work.
      if (res.locals.errorCode === 'timeout') return;
      next(err);
      return;
    }
    if (err instanceof HttpError) {
      sendError(res, err.status, err.code, err.message, err.details);
      return;
    }
    if (err instanceof MlpipeError) {
      const status = STATUS_OF_CODE[err.code] ?? 500;
      if (status >= 500) log(`error: ${err.stack ?? err.message}`);
      sendError(res, status, err.code, status >= 500 ? 'internal error' : err.message, status >= 500 ? [] : err.details);
      return;
    }
    // body-parser (express.json) errors carry `type` and `status`.
    const e = err as { type?: string; status?: number; message?: string; limit?: number; length?: number; code?: unknown };
    switch (e.type) {
      case 'entity.too.large':
        sendError(res, 413, 'payload_too_large', `request body is larger than the limit of ${e.limit} bytes (--body-limit)`);
        return;
      case 'entity.parse.failed':
        sendError(res, 400, 'invalid_json', `request body is not valid JSON: ${(e.message ?? '').replace(/^Unexpected/, 'unexpected')}`);
        return;
      case 'encoding.unsupported':
        sendError(res, 415, 'unsupported_media_type', `Content-Encoding ${JSON.stringify(String(req.headers['content-encoding'] ?? '').slice(0, 40))} is not supported: send the body as it is, or with gzip, deflate or br`);
        return;
      case 'charset.unsupported':
        sendError(res, 415, 'unsupported_media_type', e.message ?? 'unsupported encoding');
        return;
      case 'request.aborted':
        return;
      default:
        // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR; brotli's ERR_*): a body that does not decompress.
        if (typeof e.code === 'string' && /^(Z_|ERR__)/.test(e.code)) {
          sendError(res, 400, 'invalid_input', `the body could not be decompressed as Content-Encoding ${JSON.stringify(String(req.headers['content-encoding'] ?? '').slice(0, 40))} (${e.message ?? e.code}); send it as it is, or compressed whole`);
          return;
        }
        if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
          sendError(res, e.status, 'bad_request', e.message ?? 'bad request');
          return;
        }
        log(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        sendError(res, 500, 'internal', 'internal error');
    }
  };
}
