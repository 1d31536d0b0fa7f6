/**
 * An HTTP JSON API as a record source: GET or POST, records found at a path in each response, pages
 * followed by page number, offset, cursor or `Link: rel="next"`, retries with backoff on 429/5xx and
 * network errors. Pages are fetched one at a time as the consumer iterates; only the current page is
 * in memory.
 *
 * Secrets: every value read from the environment (`${NAME}` in the URL, header values, the bearer
 * token), the bearer token itself, secret-looking header values and the password of a URL with
 * credentials are scrubbed from every message; `name` and `lineage()` hold only the URL as written,
 * redacted, with `${NAME}` references left unexpanded.
 */
import { createHash } from 'node:crypto';
import { ConfigError, DataError, type ErrorDetail } from '../../errors.js';
import { SourceError } from './errors.js';
import { DEFAULT_MAX_RETRY_WAIT_MS, DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS, NO_CONTENT, type RequestSettings, realSleep, request } from './http-request.js';
import { readOnce } from './once.js';
import { RecordCollector } from './records.js';
import { expandEnv, redactUrl, scrubSecrets } from './redact.js';
import type { HttpSourceSpec, RawChunk, RecordSource, SourceLineage } from './types.js';

/** A runaway paginator (an API that ignores the page parameter and never runs dry) stops here. */
const MAX_PAGES = 100_000;
/** Header names whose literal values are treated as secrets too. */
const SECRET_HEADER = /(auth|token|key|secret|pass|cookie|session|signature|credential)/i;
const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * `redactUrl` of the URL as written, keeping `${NAME}` references readable: they are swapped for
 * placeholders the URL parser leaves alone (no lowercasing of a `${HOST}`, no `%7B` escapes), then put back.
 */
function redactWritten(url: string): string {
  const refs: string[] = [];
  const swapped = url.replace(ENV_REF, (ref) => {
    refs.push(ref);
    return `zzmlpipeenv${refs.length - 1}zz`;
  });
  return redactUrl(swapped).replace(/zzmlpipeenv(\d+)zz/g, (m, i: string) => refs[Number(i)] ?? m);
}

/** `an object with keys "a", "b"`, `an array`, `a string` … for messages about a response's shape. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return 'an empty object';
    const shown = keys.slice(0, 10).map((k) => JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k));
    const more = keys.length > 10 ? ` and ${keys.length - 10} more` : '';
    return `an object with keys ${shown.join(', ')}${more}`;
  }
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? `a ${typeof value}` : typeof value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Resolves a dotted path (`data.items`, `$.data.items`, `items.0`) or a JSON Pointer (`/data/items`). */
function resolvePath(body: unknown, path: string): { found: boolean; value: unknown } {
  let segments: string[];
  if (path === '' || path === '$') segments = [];
  else if (path.startsWith('/')) segments = path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  else segments = path.replace(/^\$\.?/, '').split('.');
  let value = body;
  for (const seg of segments) {
    if (Array.isArray(value) && /^\d+$/.test(seg)) {
      const i = Number(seg);
      if (i >= value.length) return { found: false, value: undefined };
      value = value[i];
    } else if (isRecord(value) && Object.prototype.hasOwnProperty.call(value, seg)) {
      value = value[seg];
    } else {
      return { found: false, value: undefined };
    }
  }
  return { found: true, value };
}

/** The `rel="next"` target of a Link header, as written (possibly relative). */
function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const m of header.matchAll(/<([^>]*)>([^<]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))/i.exec(m[2] ?? '');
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return m[1];
  }
  return undefined;
}

/**
 * Reads records from an HTTP JSON API, page by page. Throws a ConfigError at once when the spec is
 * invalid or refers to an unset environment variable; HTTP and network failures surface while iterating
 * as SourceErrors, unexpected response contents as DataErrors.
 */
export function httpSource(
  spec: HttpSourceSpec,
  env: NodeJS.ProcessEnv,
  options: { sleep?: (ms: number) => Promise<void>; maxRetryWaitMs?: number } = {},
): RecordSource {
  const name = redactWritten(spec.url);
  const method = spec.method ?? 'GET';
  const retries = spec.retries ?? DEFAULT_RETRIES;
  const timeoutMs = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRecords = spec.maxRecords ?? Infinity;
  const sleep = options.sleep ?? realSleep;
  const maxRetryWaitMs = options.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS;
  const pagination = spec.pagination;

  // --- Validation of the spec's numbers -------------------------------------------------------------
  const invalid: ErrorDetail[] = [];
  const requireInt = (value: number | undefined, path: string, min: number): void => {
    if (value !== undefined && (!Number.isInteger(value) || value < min)) {
      invalid.push({ path, message: `must be an integer ≥ ${min}, got ${String(value)}` });
    }
  };
  if (method !== 'GET' && method !== 'POST') invalid.push({ path: 'source.method', message: `must be GET or POST, got ${String(method)}` });
  requireInt(spec.retries, 'source.retries', 0);
  requireInt(spec.timeoutMs, 'source.timeoutMs', 1);
  requireInt(spec.maxRecords, 'source.maxRecords', 0);
  if (pagination?.type === 'page') {
    requireInt(pagination.start, 'source.pagination.start', 0);
    requireInt(pagination.size, 'source.pagination.size', 1);
  } else if (pagination?.type === 'offset') {
    requireInt(pagination.limit, 'source.pagination.limit', 1);
    if (pagination.limit === undefined) invalid.push({ path: 'source.pagination.limit', message: 'is required for offset pagination' });
  } else if (pagination?.type === 'cursor') {
    if (!pagination.cursorPath) invalid.push({ path: 'source.pagination.cursorPath', message: 'is required for cursor pagination' });
    if (!pagination.param) invalid.push({ path: 'source.pagination.param', message: 'is required for cursor pagination' });
  } else if (pagination !== undefined && pagination.type !== 'link') {
    invalid.push({ path: 'source.pagination.type', message: `must be page, offset, cursor or link, got ${String((pagination as { type?: unknown }).type)}` });
  }

  // --- Environment expansion; everything expanded is a secret ---------------------------------------
  const secretSet = new Set<string>();
  const addSecret = (s: string | undefined): void => {
    if (!s) return;
    secretSet.add(s);
    secretSet.add(encodeURIComponent(s));
    secretSet.add(new URLSearchParams({ s }).toString().slice(2));
  };
  const missing: ErrorDetail[] = [];
  const expand = (text: string, path: string): string => {
    const r = expandEnv(text, env);
    for (const s of r.secrets) addSecret(s);
    for (const m of r.missing) missing.push({ path, message: `environment variable ${m} is not set` });
    return r.value;
  };

  const expandedUrl = expand(spec.url, 'source.url');
  const userHeaders: [string, string, boolean][] = [];
  for (const [key, value] of Object.entries(spec.headers ?? {})) {
    const expanded = expand(String(value), `source.headers.${key}`);
    const secret = expanded !== String(value) || SECRET_HEADER.test(key);
    if (secret) addSecret(expanded);
    userHeaders.push([key, expanded, secret]);
  }
  const token = spec.bearerToken === undefined ? undefined : expand(spec.bearerToken, 'source.bearerToken');
  addSecret(token);

  const problems = [...missing, ...invalid];
  if (problems.length > 0) {
    throw new ConfigError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
  }

  let base: URL;
  try {
    base = new URL(expandedUrl);
  } catch {
    throw new ConfigError(`source.url: not a valid URL: ${name}`, [{ path: 'source.url', message: 'not a valid URL' }]);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new ConfigError(`source.url: only http:// and https:// URLs can be read, got ${name}`, [{ path: 'source.url', message: 'not http(s)' }]);
  }
  // fetch refuses URLs with credentials: they become a Basic Authorization header.
  let basicAuth: string | undefined;
  if (base.username || base.password) {
    const user = decodeURIComponent(base.username);
    const password = decodeURIComponent(base.password);
    addSecret(password);
    addSecret(base.password);
    basicAuth = Buffer.from(`${user}:${password}`).toString('base64');
    addSecret(basicAuth);
    base.username = '';
    base.password = '';
  }
  // Longest first, so a secret containing another is replaced whole.
  const secrets = [...secretSet].sort((a, b) => b.length - a.length);
  const scrub = (text: string): string => scrubSecrets(text, secrets);

  const headers = new Headers({ accept: 'application/json' });
  const secretHeaders = new Set<string>();
  for (const [key, value, secret] of userHeaders) {
    try {
      headers.set(key, value);
    } catch {
      throw new ConfigError(`source.headers.${key}: not a valid HTTP header name or value`, [{ path: `source.headers.${key}`, message: 'invalid header' }]);
    }
    if (secret) secretHeaders.add(key.toLowerCase());
  }
  if (token !== undefined) {
    try {
      headers.set('authorization', `Bearer ${token}`);
    } catch {
      throw new ConfigError('source.bearerToken: not a valid token (control characters or line breaks?)', [{ path: 'source.bearerToken', message: 'invalid token' }]);
    }
    secretHeaders.add('authorization');
  } else if (basicAuth !== undefined && !headers.has('authorization')) {
    headers.set('authorization', `Basic ${basicAuth}`);
    secretHeaders.add('authorization');
  }
  let body: string | undefined;
  if (method === 'POST' && spec.body !== undefined) {
    body = JSON.stringify(spec.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }

  const warnings: string[] = [];
  let pages = 0;
  let rowCount = 0;

  /** `GET https://api.example.com/items?page=2`, redacted and scrubbed: how one request is named in messages. */
  const label = (url: string): string => scrub(`${method} ${redactUrl(url)}`);
  const send: RequestSettings = { method, base, headers, secretHeaders, body, timeoutMs, retries, maxRetryWaitMs, sleep, scrub, label };

  function findRecords(url: string, page: unknown): unknown[] {
    if (page === NO_CONTENT) return [];
    const path = spec.recordsPath;
    if (path !== undefined) {
      const r = resolvePath(page, path);
      if (!r.found) throw new DataError({ source: label(url) }, scrub(`no "${path}" (recordsPath) in the response, which is ${describe(page)}`));
      if (r.value === null) return [];
      if (!Array.isArray(r.value)) throw new DataError({ source: label(url) }, scrub(`recordsPath "${path}" is ${describe(r.value)}, not an array of records`));
      return r.value;
    }
    if (Array.isArray(page)) return page;
    if (isRecord(page)) {
      const arrays = Object.keys(page).filter((k) => Array.isArray(page[k]));
      if (arrays.length === 1) return page[arrays[0] as string] as unknown[];
      const why = arrays.length === 0 ? 'no array property' : `${arrays.length} array properties (${arrays.map((k) => JSON.stringify(k)).join(', ')})`;
      throw new DataError({ source: label(url) }, scrub(`cannot tell where the records are: the response is ${describe(page)}, with ${why}; set recordsPath`));
    }
    throw new DataError({ source: label(url) }, `cannot tell where the records are: the response is ${describe(page)}, not an array or object; set recordsPath`);
  }

  function withParams(params: Record<string, string>): string {
    const u = new URL(base);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.toString();
  }

  const chunks = readOnce(name, async function* (size: number): AsyncGenerator<RawChunk> {
    // Records become rows (flattened: dotted names, Extended JSON unwrapped) as from a JSON file; it
    // warns about arrays in `warnings` too, so the other-server warning keeps its own flag.
    const collector = new RecordCollector(name, false, warnings);
    let warnedOtherServer = false;

    // Pagination state.
    const pageParam = pagination?.type === 'page' ? (pagination.param ?? 'page') : 'page';
    let pageNumber = pagination?.type === 'page' ? (pagination.start ?? 1) : 1;
    let offset = 0;
    const seen = new Set<string>();
    let previousHash: string | undefined;

    const pageUrl = (): string => {
      if (pagination?.type === 'page') {
        const params: Record<string, string> = { [pageParam]: String(pageNumber) };
        if (pagination.size !== undefined) params[pagination.sizeParam ?? 'per_page'] = String(pagination.size);
        return withParams(params);
      }
      if (pagination?.type === 'offset') {
        return withParams({ [pagination.param ?? 'offset']: String(offset), [pagination.limitParam ?? 'limit']: String(pagination.limit) });
      }
      return base.toString();
    };

    let url: string | undefined = pageUrl();
    seen.add(url);
    while (url !== undefined && rowCount < maxRecords) {
      if (pages >= MAX_PAGES) throw new SourceError(name, `stopped after ${MAX_PAGES} pages; does the API ever run out of pages?`);
      const page = await request(url, send);
      pages++;
      const records = findRecords(url, page.body);
      const take = Math.min(records.length, maxRecords - rowCount);
      for (let i = 0; i < take; i += size) {
        const end = Math.min(take, i + size);
        for (let j = i; j < end; j++) {
          const record = records[j];
          const row = rowCount + (j - i) + 1;
          if (!isRecord(record)) throw new DataError({ source: name, row }, `record is ${describe(record)}, not an object`);
          collector.add(record, row);
        }
        const chunk = collector.take();
        rowCount += chunk.rows.length;
        yield chunk;
      }
      if (rowCount >= maxRecords) break;

      // The next page, if any.
      const current: string = url;
      url = undefined;
      if (pagination?.type === 'page' || pagination?.type === 'offset') {
        const full = pagination.type === 'page' ? records.length > 0 && (pagination.size === undefined || records.length >= pagination.size) : records.length >= pagination.limit;
        if (full) {
          const hash = createHash('sha256').update(page.text).digest('hex');
          if (hash === previousHash) {
            const param = pagination.type === 'page' ? pageParam : (pagination.param ?? 'offset');
            throw new SourceError(label(current), `returned the same response as the previous page; does the API support the "${param}" parameter?`);
          }
          previousHash = hash;
          if (pagination.type === 'page') pageNumber++;
          else offset += pagination.limit;
          url = pageUrl();
        }
      } else if (pagination?.type === 'cursor') {
        const r = resolvePath(page.body, pagination.cursorPath);
        const cursor = r.value;
        if (r.found && cursor !== null && cursor !== undefined && cursor !== '') {
          if (typeof cursor === 'object') {
            throw new DataError({ source: label(current) }, `the cursor at "${pagination.cursorPath}" is ${describe(cursor)}, not a string or number`);
          }
          const text = String(cursor);
          if (seen.has(`cursor:${text}`)) {
            throw new SourceError(label(current), scrub(`returned the cursor ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)} again; stopping instead of looping`));
          }
          seen.add(`cursor:${text}`);
          url = withParams({ [pagination.param]: text });
        }
      } else if (pagination?.type === 'link') {
        const link = nextLink(page.headers.get('link'));
        if (link !== undefined && link !== '') {
          let next: URL;
          try {
            next = new URL(link, current);
          } catch {
            throw new DataError({ source: label(current) }, scrub(`the Link header's rel="next" is not a valid URL: ${link.slice(0, 100)}`));
          }
          if (next.protocol !== 'http:' && next.protocol !== 'https:') {
            throw new DataError({ source: label(current) }, `the Link header's rel="next" is not an http(s) URL`);
          }
          if (seen.has(next.toString())) {
            throw new SourceError(label(current), `its Link rel="next" points back to ${scrub(redactUrl(next.toString()))}, already fetched; stopping instead of looping`);
          }
          if (next.origin !== base.origin && secretHeaders.size > 0 && !warnedOtherServer) {
            warnedOtherServer = true;
            warnings.push(`${name}: the next page is on another server (${next.origin}); credentials are not sent there`);
          }
          seen.add(next.toString());
          url = next.toString();
        }
      }
    }
  });

  return {
    name,
    warnings,
    declaredTypes: () => ({}),
    chunks,
    lineage: (): SourceLineage => ({ kind: 'http', url: name, method, pages, rows: rowCount }),
  };
}

