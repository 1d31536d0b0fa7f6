import express, { type Request, type RequestHandler } from 'express';
import { HttpError } from './errors.js';
import { JsonScanError, type JsonScan, MAX_SCAN_DEPTH, scanJson } from './json-scan.js';

/** Options of {@link jsonBody}. */
export interface JsonBodyOptions {
  /** Largest body (after `Content-Encoding` is undone), as bytes or a size like `10mb`. */
  limit: string | number;
  /** The most fields one object of the body may have, and the most distinct names the body may use. */
  maxFields: (req: Request) => number;
  /** What to send, for the "body is empty" message: `one record as a JSON object`. */
  expected: string;
}

/** Above this many bytes a batch's records are parsed in slices, yielding to other requests between them. */
const SLICE_BYTES = 256 * 1024;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** True when the request head announces a body (as type-is's `hasBody` decides); `Content-Length: 0` does not. */
function announcesBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0' && !Number.isNaN(Number(length));
}

function isBlank(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return false;
  }
  return true;
}

/**
 * The JSON body of a predict route, as handlers before it: refuses a wrong Content-Type (415), a
 * charset other than UTF-8 (415, JSON is UTF-8 by RFC 8259) and an empty body (400 that says so)
 * before reading; reads with the size limit (413) and undoes gzip / deflate / br; scans the bytes
 * ({@link scanJson}: syntax errors by line and column, too many fields or names refused before any
 * parsing); then parses. A big batch is parsed a slice of records at a time, yielding between
 * slices, so one 10 MB body never holds the event loop for the whole parse.
 */
export function jsonBody(options: JsonBodyOptions): RequestHandler[] {
  const empty = `the request body is empty; send ${options.expected}`;
  const head: RequestHandler = (req, _res, next) => {
    const type = req.headers['content-type'];
    if (!announcesBody(req)) throw new HttpError(400, 'invalid_input', empty);
    const [media = '', ...params] = (type ?? '').split(';');
    if (media.trim().toLowerCase() !== 'application/json') {
      throw new HttpError(415, 'unsupported_media_type', `send the body as JSON with "Content-Type: application/json" (got ${type ?? 'no content type'})`);
    }
    for (const p of params) {
      const [name = '', value = ''] = p.split('=');
      if (name.trim().toLowerCase() !== 'charset') continue;
      const charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
      if (charset !== 'utf-8' && charset !== 'utf8') {
        throw new HttpError(415, 'unsupported_media_type', `the body's charset is ${JSON.stringify(charset.slice(0, 40))}; send JSON as UTF-8 (RFC 8259), e.g. "Content-Type: application/json; charset=utf-8"`);
      }
    }
    next();
  };
  const read = express.raw({ type: () => true, limit: options.limit });
  const parse: RequestHandler = async (req, _res, next) => {
    let buf = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    // A UTF-8 byte order mark is allowed before JSON text (RFC 8259 §8.1 lets a parser ignore it).
    if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    if (isBlank(buf)) throw new HttpError(400, 'invalid_input', empty);
    const maxFields = options.maxFields(req);
    // A body too small to break a limit of the scan is parsed at once; the scan runs only when it
    // turns out not to be JSON, to say where (V8's message does not).
    if (buf.length < scanNeededFrom(maxFields)) {
      const parsed = parseOrUndefined(buf);
      if (parsed.ok) {
        req.body = parsed.value;
        next();
        return;
      }
    }
    let scan: JsonScan;
    try {
      scan = scanJson(buf, maxFields);
    } catch (err) {
      if (!(err instanceof JsonScanError)) throw err;
      if (err.kind === 'syntax') throw new HttpError(400, 'invalid_json', err.message);
      const where = err.pointer || '(the body)';
      throw new HttpError(400, 'invalid_input', `invalid input: ${where} ${err.message}`, [{ path: err.pointer, message: err.message }]);
    }
    req.body = buf.length > SLICE_BYTES && scan.records ? await parseInSlices(buf, scan.records) : JSON.parse(buf.toString('utf8'));
    next();
  };
  return [head, read, parse];
}

/**
 * The smallest body that can break a limit of {@link scanJson}: more than `maxFields` fields or
 * names needs at least 4 bytes each (`"":0,`), deeper nesting than {@link MAX_SCAN_DEPTH} one byte per
 * level opened and one closed. Smaller bodies need no scan before `JSON.parse`.
 */
export function scanNeededFrom(maxFields: number): number {
  return Math.min(4 * (maxFields + 1), 2 * (MAX_SCAN_DEPTH + 1));
}

function parseOrUndefined(buf: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * `{"records": [...]}` parsed a slice of records at a time (about {@link SLICE_BYTES} each), with a
 * turn of the event loop between slices. Only `records` is kept: the routes read nothing else.
 */
async function parseInSlices(buf: Buffer, ranges: readonly { start: number; end: number }[]): Promise<{ records: unknown[] }> {
  const records: unknown[] = [];
  let first = 0;
  while (first < ranges.length) {
    let last = first;
    const start = (ranges[first] as { start: number }).start;
    while (last + 1 < ranges.length && (ranges[last + 1] as { end: number }).end - start <= SLICE_BYTES) last++;
    // The bytes from the first element's start to the last one's end are "e1 , e2 , …": an array's inside.
    const slice = JSON.parse(`[${buf.toString('utf8', start, (ranges[last] as { end: number }).end)}]`) as unknown[];
    for (const r of slice) records.push(r);
    first = last + 1;
    if (first < ranges.length) await yieldToEventLoop();
  }
  return { records };
}
