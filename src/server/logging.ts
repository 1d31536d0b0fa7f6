import { type Logger, type LevelWithSilent, destination, pino, stdTimeFunctions } from 'pino';
import pinoPretty from 'pino-pretty';
import type { Request } from 'express';
import { type RequestObserver, clientAddress } from './request-info.js';

/** `--log-format`: one JSON object a line (for collectors), or pino-pretty's colored lines (for a terminal). */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `--log-level`: pino's levels; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const satisfies readonly LevelWithSilent[];
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Default json. */
  format?: LogFormat;
  /** Default info. */
  level?: LogLevel;
  /** Where lines go; default stderr (stdout is kept for the `listening on` line scripts read). */
  stream?: NodeJS.WritableStream;
}

/**
 * The server's logger (pino): JSON lines on stderr by default, or pino-pretty's format. Every line
 * has `level` (pino's number), `time` (ISO 8601), `pid`, `hostname` and `msg`.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const base = { level, timestamp: stdTimeFunctions.isoTime };
  if (options.format === 'pretty') {
    const out = options.stream ?? process.stderr;
    const colorize = (out as { isTTY?: boolean }).isTTY === true;
    // Synchronous: a terminal's few lines, none lost when the process exits.
    return pino(base, pinoPretty({ destination: out, colorize, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  if (options.stream) return pino(base, options.stream);
  // Lines are written in blocks of LOG_BLOCK_BYTES (one system call for many request lines, not one
  // each: a write per line cost more CPU than the whole request it logged), and at the latest
  // LOG_FLUSH_MS after they were logged. pino flushes what is left when the process exits.
  const dest = destination({ dest: 2, sync: false, minLength: LOG_BLOCK_BYTES });
  let pending = false;
  const timer = setInterval(() => {
    if (!pending) return;
    pending = false;
    dest.flush();
  }, LOG_FLUSH_MS);
  timer.unref();
  return pino({ ...base, hooks: { streamWrite: (line) => ((pending = true), line) } }, dest);
}

/** Log lines are written to stderr in blocks of this many bytes… */
const LOG_BLOCK_BYTES = 4096;
/** …or this long after they were logged, whichever comes first. */
const LOG_FLUSH_MS = 200;

/**
 * The `log(message)` function of the server (ServerContext.log, startServer's `log`) over a logger:
 * a message starting with `error` is logged at error, with `warning`/`note` at warn, anything else at info.
 */
export function logFunction(logger: Logger): (message: string) => void {
  return (message) => {
    if (/^error\b/i.test(message)) logger.error(message);
    else if (/^(warning|warn|note)\b/i.test(message)) logger.warn(message);
    else logger.info(message);
  };
}

/** The client a request log names: the API key's NAME when the keys middleware set one (`res.locals.client`), else the address. */
function clientOf(req: Request, client: unknown): string | undefined {
  if (typeof client === 'string') return client;
  if (client !== null && typeof client === 'object') {
    const { name, address } = client as { name?: unknown; address?: unknown };
    if (typeof name === 'string') return name;
    if (typeof address === 'string') return address;
  }
  return clientAddress(req);
}

/**
 * One log line per request (`msg: "request"`): request id, method, route pattern, model, version,
 * status, duration in ms, client and, for a refused request, the error code. Never the URL (a query
 * string can hold a secret), a header, a key or a body. 5xx answers log at error, others at info.
 */
export function requestLogger(logger: Logger): RequestObserver {
  return (req, res, info) => {
    const line = {
      reqId: info.requestId,
      method: info.method,
      route: info.route,
      model: info.model || undefined,
      version: info.version || undefined,
      status: info.status,
      durationMs: Math.round(info.seconds * 1e6) / 1e3,
      client: clientOf(req, res.locals.client),
      ...(info.errorCode ? { error: info.errorCode } : {}),
    };
    if (info.status >= 500) logger.error(line, 'request');
    else logger.info(line, 'request');
  };
}
