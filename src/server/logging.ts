import { type Logger, type LevelWithSilent, destination, pino, stdTimeFunctions } from 'pino';
import pinoPretty from 'pino-pretty';
import type { RequestObserver } from './request-info.js';

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
  // pino flushes an asynchronous destination when the process exits.
  return pino(base, options.stream ?? destination({ dest: 2, sync: false }));
}

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
function clientOf(address: string | undefined, client: unknown): string | undefined {
  if (typeof client === 'string') return client;
  if (client !== null && typeof client === 'object' && typeof (client as { name?: unknown }).name === 'string') return (client as { name: string }).name;
  return address;
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
      client: clientOf(req.ip, res.locals.client),
      ...(info.errorCode ? { error: info.errorCode } : {}),
    };
    if (info.status >= 500) logger.error(line, 'request');
    else logger.info(line, 'request');
  };
}
