import { STATUS_CODES } from 'node:http';
import { DataError, MlpipeError, messageOf } from '../../errors.js';
import { SourceError } from './errors.js';

// One request of the HTTP source (http.ts): sent, retried with backoff on 429/5xx, timeouts and
// network errors, and its JSON body parsed.

/** Statuses worth retrying: rate limited, or a server/gateway that may recover. */
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
export const DEFAULT_RETRIES = 4;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRY_WAIT_MS = 60_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
const EXCERPT_CHARS = 200;
/** The body of a 204 No Content response: a page without records, wherever recordsPath points. */
export const NO_CONTENT: unique symbol = Symbol('no content');

/** What a request returned: the parsed JSON body, the raw text (for repeat detection) and headers. */
export interface Page {
  body: unknown;
  text: string;
  headers: Headers;
}

/** Something that went wrong in one attempt and may go right in the next. */
interface Transient {
  problem: string;
  retryAfterMs?: number;
}

/** The wait between attempts (tests pass their own to httpSource). */
export function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Milliseconds a Retry-After header asks for (delta seconds or an HTTP date); undefined when absent or unreadable. */
function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || (err.cause instanceof Error && err.cause.name === 'TimeoutError'));
}

/** Network failures from fetch are `TypeError: fetch failed` with the socket error as cause. */
function networkProblem(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const cause = err.cause;
  if (err.message === 'fetch failed' || err.name === 'AbortError' || (err.name === 'TypeError' && cause instanceof Error)) {
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      const text = cause.message || (typeof code === 'string' ? code : '');
      return text ? `network error: ${text}` : 'network error';
    }
    return `network error: ${err.message}`;
  }
  // Errors while reading the body (connection reset, premature close) surface as plain errors with a code.
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return `network error: ${err.message || code}`;
  return undefined;
}

/** How every request of one HTTP source is sent: what {@link httpSource} settled from its spec. */
export interface RequestSettings {
  method: 'GET' | 'POST';
  /** The source's URL: headers in `secretHeaders` are sent only to its origin. */
  base: URL;
  headers: Headers;
  secretHeaders: ReadonlySet<string>;
  body: string | undefined;
  timeoutMs: number;
  retries: number;
  maxRetryWaitMs: number;
  sleep: (ms: number) => Promise<void>;
  /** Removes the source's secrets from a text. */
  scrub: (text: string) => string;
  /** How one request is named in messages. */
  label: (url: string) => string;
}

/** Sends one request, retrying transient failures; returns the parsed body of a 2xx response. */
export async function request(url: string, settings: RequestSettings): Promise<Page> {
  const { base, headers, secretHeaders, method, body, timeoutMs, retries, maxRetryWaitMs, sleep, scrub, label } = settings;
  const sameOrigin = new URL(url).origin === base.origin;
  const sent = new Headers(headers);
  if (!sameOrigin) for (const h of secretHeaders) sent.delete(h);
  for (let attempt = 0; ; attempt++) {
    let transient: Transient;
    try {
      const res = await fetch(url, { method, headers: sent, body, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      if (res.ok) return { ...parse(url, res, text, settings), text };
      const status = `HTTP ${res.status} ${res.statusText || STATUS_CODES[res.status] || ''}`.trim();
      const excerpt = scrub(text.replace(/\s+/g, ' ').trim());
      const problem = excerpt ? `${status}: ${excerpt.length > EXCERPT_CHARS ? `${excerpt.slice(0, EXCERPT_CHARS)}…` : excerpt}` : status;
      if (!RETRYABLE_STATUS.has(res.status)) throw new SourceError(label(url), problem);
      transient = { problem, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), Date.now()) };
    } catch (err) {
      if (err instanceof MlpipeError) throw err;
      if (isTimeout(err)) {
        transient = { problem: `timed out after ${timeoutMs} ms` };
      } else {
        const network = networkProblem(err);
        if (network === undefined) throw new SourceError(label(url), scrub(messageOf(err)));
        transient = { problem: scrub(network) };
      }
    }
    if (attempt >= retries) {
      const tries = attempt + 1;
      throw new SourceError(label(url), tries > 1 ? `${transient.problem} (gave up after ${tries} attempts)` : transient.problem);
    }
    let wait: number;
    if (transient.retryAfterMs !== undefined) {
      if (transient.retryAfterMs > maxRetryWaitMs) {
        throw new SourceError(
          label(url),
          `${transient.problem} (the server asks to retry after ${Math.ceil(transient.retryAfterMs / 1000)} s, longer than the ${Math.round(maxRetryWaitMs / 1000)} s mlpipe waits)`,
        );
      }
      wait = transient.retryAfterMs;
    } else {
      const ceiling = Math.min(BACKOFF_CAP_MS, maxRetryWaitMs, BACKOFF_BASE_MS * 2 ** attempt);
      wait = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    }
    await sleep(wait);
  }
}

/** The body of a 2xx response: its JSON, or NO_CONTENT for a 204; a DataError when it is not JSON. */
function parse(url: string, res: Response, text: string, { scrub, label }: RequestSettings): { body: unknown; headers: Headers } {
  // No content: a page without records.
  if (res.status === 204) return { body: NO_CONTENT, headers: res.headers };
  try {
    return { body: JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text), headers: res.headers };
  } catch {
    const type = res.headers.get('content-type') ?? 'no content-type';
    const excerpt = scrub(text.replace(/\s+/g, ' ').trim()).slice(0, 80);
    throw new DataError({ source: label(url) }, `the response is not JSON (${type})${excerpt ? `: ${excerpt}` : ': empty body'}`);
  }
}
