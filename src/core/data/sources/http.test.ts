import { type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { ConfigError, DataError } from '../../errors.js';
import { SourceError } from './errors.js';
import { httpSource } from './http.js';
import type { HttpSourceSpec, RawChunk, RawValue, RecordSource } from './types.js';
import { chunksOf as collect } from '../../../test-helpers/async.js';

/** One request as the test server saw it. */
interface Seen {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

type Handler = (req: Seen, res: ServerResponse, n: number) => void;

interface TestServer {
  base: string;
  requests: Seen[];
}

const servers: Server[] = [];

/** Starts a server on 127.0.0.1, port 0; `handler` gets each request (with its body read) and its 1-based number. */
async function serve(handler: Handler): Promise<TestServer> {
  const requests: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const seen: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(parts).toString('utf8'),
      };
      requests.push(seen);
      handler(seen, res, requests.length);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, requests };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** All rows of all chunks, padded to the final column count. */
function rowsOf(chunks: RawChunk[]): { columns: string[]; rows: RawValue[][] } {
  const columns = chunks.at(-1)?.columns ?? [];
  const rows = chunks.flatMap((c) => c.rows).map((r) => columns.map((_, i) => r[i]));
  return { columns, rows };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

/** An injected sleep that records what it was asked to wait and returns at once. */
function sleepSpy(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

/** Records 1..n as `{ id }`. */
function ids(from: number, to: number): { id: number }[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => ({ id: from + i }));
}

const spec = (url: string, extra: Partial<HttpSourceSpec> = {}): HttpSourceSpec => ({ kind: 'http', url, ...extra });

describe('httpSource', () => {
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  describe('records', () => {
    it('reads the records at a dotted path or a JSON Pointer; missing keys leave rows short', async () => {
      const srv = await serve((_req, res) =>
        json(res, 200, { meta: { count: 2, tags: ['x'] }, data: { items: [{ a: 1, b: 'x' }, { a: 2, c: true }] } }),
      );
      for (const recordsPath of ['data.items', '/data/items', '$.data.items']) {
        const source = httpSource(spec(`${srv.base}/items`, { recordsPath }), {});
        const chunks = await collect(source);
        expect(chunks).to.have.length(1);
        expect(chunks[0]?.columns).to.deep.equal(['a', 'b', 'c']);
        expect(chunks[0]?.rows).to.deep.equal([
          [1, 'x'],
          [2, undefined, true],
        ]);
        expect(source.lineage()).to.deep.equal({ kind: 'http', url: `${srv.base}/items`, method: 'GET', pages: 1, rows: 2 });
        expect(source.declaredTypes()).to.deep.equal({});
      }
    });

    it('without recordsPath takes an array body, or the only array property of an object', async () => {
      const srv = await serve((req, res) =>
        req.path === '/array' ? json(res, 200, [{ id: 1 }, { id: 2 }]) : json(res, 200, { total: 1, results: [{ id: 3 }], next: null }),
      );
      expect(rowsOf(await collect(httpSource(spec(`${srv.base}/array`), {}))).rows).to.deep.equal([[1], [2]]);
      expect(rowsOf(await collect(httpSource(spec(`${srv.base}/object`), {}))).rows).to.deep.equal([[3]]);
    });

    it('names the URL and the keys of the body when it cannot tell where the records are', async () => {
      const srv = await serve((req, res) =>
        req.path === '/two' ? json(res, 200, { users: [], groups: [], total: 0 }) : json(res, 200, { status: 'ok', total: 0 }),
      );
      const two = await failure(collect(httpSource(spec(`${srv.base}/two`), {})));
      expect(two).to.be.instanceOf(DataError);
      expect(two.message).to.contain(`GET ${srv.base}/two`).and.contain('"users", "groups", "total"').and.contain('recordsPath');
      const none = await failure(collect(httpSource(spec(`${srv.base}/none`), {})));
      expect(none.message).to.contain('"status", "total"').and.contain('no array property');
      const wrongPath = await failure(collect(httpSource(spec(`${srv.base}/none`, { recordsPath: 'data.items' }), {})));
      expect(wrongPath).to.be.instanceOf(DataError);
      expect(wrongPath.message).to.contain('no "data.items"').and.contain('"status", "total"');
    });

    it('flattens nested objects into dotted columns, arrays as JSON text (with a warning), scalars and null as they are', async () => {
      const srv = await serve((_req, res) =>
        json(res, 200, [
          { id: 1, tags: ['a', 'b'], address: { city: 'Oslo', zip: null }, note: null, ok: false, score: 2.5 },
          { id: { $numberLong: '2' }, tags: [], address: { city: 'Bergen', geo: { lat: 60.4 } }, seen: { $date: '2024-01-02T03:04:05Z' } },
        ]),
      );
      const source = httpSource(spec(srv.base), {});
      const { columns, rows } = rowsOf(await collect(source));
      expect(columns).to.deep.equal(['id', 'tags', 'address.city', 'address.zip', 'note', 'ok', 'score', 'address.geo.lat', 'seen']);
      expect(rows).to.deep.equal([
        [1, '["a","b"]', 'Oslo', null, null, false, 2.5, undefined, undefined],
        [2, '[]', 'Bergen', undefined, undefined, undefined, undefined, 60.4, '2024-01-02T03:04:05.000Z'],
      ]);
      expect(source.warnings).to.deep.equal([`${srv.base}/: column "tags": arrays are kept as their JSON text (like ["a","b"]), a text or category column`]);
    });

    it('a record that is not an object is a DataError naming the source and its row, counted across pages', async () => {
      const srv = await serve((req, res) => {
        const page = Number(req.query.get('page'));
        json(res, 200, page === 1 ? [{ id: 1 }, { id: 2 }] : [{ id: 3 }, 42]);
      });
      const err = await failure(collect(httpSource(spec(`${srv.base}/items`, { pagination: { type: 'page' } }), {})));
      expect(err).to.be.instanceOf(DataError);
      expect((err as DataError).location).to.deep.include({ source: `${srv.base}/items`, row: 4 });
      expect(err.message).to.contain('row 4').and.contain('a number, not an object');
    });

    it('a body that is not JSON is a DataError naming the URL and the content-type', async () => {
      const srv = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<html><body>Please log in</body></html>');
      });
      const err = await failure(collect(httpSource(spec(`${srv.base}/items`), {})));
      expect(err).to.be.instanceOf(DataError);
      expect(err.message).to.contain(`GET ${srv.base}/items`).and.contain('not JSON').and.contain('text/html').and.contain('Please log in');
    });

    it('stops after maxRecords without fetching further pages', async () => {
      const srv = await serve((req, res) => {
        const page = Number(req.query.get('page'));
        json(res, 200, ids(page * 3 - 2, page * 3));
      });
      const five = httpSource(spec(srv.base, { pagination: { type: 'page' }, maxRecords: 5 }), {});
      expect(rowsOf(await collect(five)).rows).to.deep.equal([[1], [2], [3], [4], [5]]);
      expect(srv.requests).to.have.length(2);
      expect(five.lineage()).to.include({ pages: 2, rows: 5 });

      srv.requests.length = 0;
      const three = httpSource(spec(srv.base, { pagination: { type: 'page' }, maxRecords: 3 }), {});
      expect(rowsOf(await collect(three)).rows).to.have.length(3);
      expect(srv.requests).to.have.length(1);
    });

    it('streams: one chunk per page, split at chunkRows, yielded before the next page is fetched', async () => {
      const srv = await serve((req, res) => {
        const page = Number(req.query.get('page'));
        if (page === 1) json(res, 200, [{ a: 1 }, { a: 2 }, { a: 3, b: 'x' }, { a: 4 }, { a: 5 }]);
        else if (page === 2) json(res, 200, [{ c: true, a: 6 }]);
        else json(res, 200, []);
      });
      const source = httpSource(spec(srv.base, { pagination: { type: 'page' } }), {});
      const chunks: RawChunk[] = [];
      const requestsAtChunk: number[] = [];
      for await (const chunk of source.chunks(2)) {
        chunks.push(chunk);
        requestsAtChunk.push(srv.requests.length);
      }
      expect(chunks.map((c) => c.rows.length)).to.deep.equal([2, 2, 1, 1]);
      expect(chunks.map((c) => c.columns)).to.deep.equal([['a'], ['a', 'b'], ['a', 'b'], ['a', 'b', 'c']]);
      expect(chunks[3]?.rows).to.deep.equal([[6, undefined, true]]);
      expect(requestsAtChunk).to.deep.equal([1, 1, 1, 2]);
      expect(source.lineage()).to.include({ pages: 3, rows: 6 });
    });
  });

  describe('pagination', () => {
    it('page: page=1,2,… until an empty page', async () => {
      const srv = await serve((req, res) => {
        const page = Number(req.query.get('p'));
        json(res, 200, { items: page <= 3 ? ids(page * 2 - 1, page * 2) : [] });
      });
      const source = httpSource(spec(`${srv.base}/items?q=x`, { pagination: { type: 'page', param: 'p' } }), {});
      expect(rowsOf(await collect(source)).rows).to.deep.equal([[1], [2], [3], [4], [5], [6]]);
      expect(srv.requests.map((r) => r.url)).to.deep.equal(['/items?q=x&p=1', '/items?q=x&p=2', '/items?q=x&p=3', '/items?q=x&p=4']);
      expect(source.lineage().pages).to.equal(4);
    });

    it('page with a size: sends it and stops at a short page', async () => {
      const srv = await serve((req, res) => {
        const page = Number(req.query.get('page'));
        const size = Number(req.query.get('limit'));
        json(res, 200, ids((page - 1) * size + 1, Math.min(5, page * size)));
      });
      const source = httpSource(spec(srv.base, { pagination: { type: 'page', start: 1, sizeParam: 'limit', size: 2 } }), {});
      expect(rowsOf(await collect(source)).rows).to.deep.equal([[1], [2], [3], [4], [5]]);
      expect(srv.requests.map((r) => r.url)).to.deep.equal(['/?page=1&limit=2', '/?page=2&limit=2', '/?page=3&limit=2']);
    });

    it('offset: offset=0,n,2n,… with limit=n until a short page', async () => {
      const srv = await serve((req, res) => {
        const offset = Number(req.query.get('offset'));
        const limit = Number(req.query.get('limit'));
        json(res, 200, { data: ids(offset + 1, Math.min(5, offset + limit)) });
      });
      const source = httpSource(spec(`${srv.base}/rows`, { pagination: { type: 'offset', limit: 2 }, recordsPath: 'data' }), {});
      expect(rowsOf(await collect(source)).rows).to.deep.equal([[1], [2], [3], [4], [5]]);
      expect(srv.requests.map((r) => r.url)).to.deep.equal(['/rows?offset=0&limit=2', '/rows?offset=2&limit=2', '/rows?offset=4&limit=2']);
    });

    it('cursor: sends the cursor from the previous response until it is missing', async () => {
      const pages: Record<string, { records: { id: number }[]; next?: string | null }> = {
        '': { records: ids(1, 2), next: 'c2' },
        c2: { records: ids(3, 4), next: 'c3' },
        c3: { records: ids(5, 5), next: null },
      };
      const srv = await serve((req, res) => {
        const page = pages[req.query.get('after') ?? ''];
        json(res, 200, { records: page?.records, meta: { next: page?.next } });
      });
      const source = httpSource(spec(srv.base, { pagination: { type: 'cursor', cursorPath: '/meta/next', param: 'after' } }), {});
      expect(rowsOf(await collect(source)).rows).to.deep.equal([[1], [2], [3], [4], [5]]);
      expect(srv.requests.map((r) => r.url)).to.deep.equal(['/', '/?after=c2', '/?after=c3']);
    });

    it('cursor: a server that repeats a cursor is stopped with an error', async () => {
      const srv = await serve((_req, res) => json(res, 200, { records: ids(1, 1), next: 'same' }));
      const source = httpSource(spec(srv.base, { pagination: { type: 'cursor', cursorPath: 'next', param: 'cursor' } }), {});
      const err = await failure(collect(source));
      expect(err).to.be.instanceOf(SourceError);
      expect(err.message).to.contain('"same" again');
      expect(srv.requests).to.have.length(2);
    });

    it('link: follows Link rel="next", relative or absolute', async () => {
      const srv = await serve((req, res) => {
        const page = Number(req.query.get('p') ?? '1');
        const links: Record<number, string> = {
          1: '</api/items?p=2>; rel="next", </api/items?p=3>; rel="last"',
          2: `<${'http://127.0.0.1'}:${(req.headers.host ?? '').split(':')[1]}/api/items?p=3>; rel="prev next"`,
          3: '</api/items?p=1>; rel="first"',
        };
        json(res, 200, ids(page * 2 - 1, page * 2), { link: links[page] ?? '' });
      });
      const source = httpSource(spec(`${srv.base}/api/items`, { pagination: { type: 'link' } }), {});
      expect(rowsOf(await collect(source)).rows).to.deep.equal([[1], [2], [3], [4], [5], [6]]);
      expect(srv.requests.map((r) => r.url)).to.deep.equal(['/api/items', '/api/items?p=2', '/api/items?p=3']);
    });

    it('link to another server: its warning is given even after an array warning, and the token is not sent there', async () => {
      const other = await serve((_req, res) => json(res, 200, [{ id: 2, tags: ['b'] }]));
      const srv = await serve((_req, res) => json(res, 200, [{ id: 1, tags: ['a'] }], { link: `<${other.base.replace('127.0.0.1', 'localhost')}/more>; rel="next"` }));
      const source = httpSource(spec(`${srv.base}/items`, { pagination: { type: 'link' }, bearerToken: '${API_TOKEN}' }), { API_TOKEN: 's3cret' });
      expect(rowsOf(await collect(source)).rows).to.deep.equal([
        [1, '["a"]'],
        [2, '["b"]'],
      ]);
      expect(source.warnings).to.have.length(2);
      expect(source.warnings[0]).to.contain('column "tags": arrays are kept as their JSON text');
      expect(source.warnings[1]).to.contain('the next page is on another server').and.contain('credentials are not sent there');
      expect(other.requests[0]?.headers.authorization).to.equal(undefined);
    });

    it('link: a next link back to a fetched page is stopped with an error', async () => {
      const srv = await serve((req, res) => {
        const next = req.url === '/a' ? '</b>' : '</a>';
        json(res, 200, ids(1, 1), { link: `${next}; rel=next` });
      });
      const err = await failure(collect(httpSource(spec(`${srv.base}/a`, { pagination: { type: 'link' } }), {})));
      expect(err).to.be.instanceOf(SourceError);
      expect(err.message).to.contain('points back to').and.contain(`${srv.base}/a`);
      expect(srv.requests).to.have.length(2);
    });

    it('page: a server that ignores the page parameter is stopped with an error', async () => {
      const srv = await serve((_req, res) => json(res, 200, ids(1, 3)));
      const err = await failure(collect(httpSource(spec(srv.base, { pagination: { type: 'page' } }), {})));
      expect(err).to.be.instanceOf(SourceError);
      expect(err.message).to.contain('same response as the previous page').and.contain('"page"');
      expect(srv.requests).to.have.length(2);
    });
  });

  describe('errors and retries', () => {
    it('429 with Retry-After: 1 waits 1000 ms, then reads everything', async () => {
      const srv = await serve((req, res, n) => {
        if (n === 2) return json(res, 429, { error: 'slow down' }, { 'retry-after': '1' });
        const page = Number(req.query.get('page'));
        json(res, 200, page <= 2 ? ids(page * 2 - 1, page * 2) : []);
      });
      const { waits, sleep } = sleepSpy();
      const source = httpSource(spec(srv.base, { pagination: { type: 'page' } }), {}, { sleep });
      expect(rowsOf(await collect(source)).rows).to.deep.equal([[1], [2], [3], [4]]);
      expect(waits).to.deep.equal([1000]);
      expect(srv.requests.map((r) => r.url)).to.deep.equal(['/?page=1', '/?page=2', '/?page=2', '/?page=3']);
      expect(source.lineage()).to.include({ pages: 3, rows: 4 });
    });

    it('Retry-After as an HTTP date', async () => {
      const srv = await serve((_req, res, n) => {
        if (n === 1) return json(res, 503, {}, { 'retry-after': new Date(Date.now() + 3000).toUTCString() });
        json(res, 200, ids(1, 1));
      });
      const { waits, sleep } = sleepSpy();
      await collect(httpSource(spec(srv.base), {}, { sleep }));
      expect(waits).to.have.length(1);
      expect(waits[0]).to.be.within(1000, 3000);
    });

    it('a Retry-After longer than maxRetryWaitMs is an error, not a hang', async () => {
      const srv = await serve((_req, res) => json(res, 429, {}, { 'retry-after': '3600' }));
      const { waits, sleep } = sleepSpy();
      const err = await failure(collect(httpSource(spec(srv.base), {}, { sleep, maxRetryWaitMs: 5000 })));
      expect(err).to.be.instanceOf(SourceError);
      expect(err.message).to.contain('HTTP 429 Too Many Requests').and.contain('3600 s');
      expect(waits).to.deep.equal([]);
      expect(srv.requests).to.have.length(1);
    });

    it('500 then success: retried after a backoff of 250–500 ms', async () => {
      const srv = await serve((_req, res, n) => (n === 1 ? json(res, 500, { error: 'oops' }) : json(res, 200, ids(1, 2))));
      const { waits, sleep } = sleepSpy();
      expect(rowsOf(await collect(httpSource(spec(srv.base), {}, { sleep }))).rows).to.deep.equal([[1], [2]]);
      expect(waits).to.have.length(1);
      expect(waits[0]).to.be.within(250, 500);
      expect(srv.requests).to.have.length(2);
    });

    it('retries exhausted: a SourceError with the status, after 1 + retries attempts with growing waits', async () => {
      const srv = await serve((_req, res) => json(res, 503, { error: 'maintenance' }));
      const { waits, sleep } = sleepSpy();
      const err = await failure(collect(httpSource(spec(`${srv.base}/items`, { retries: 2 }), {}, { sleep })));
      expect(err).to.be.instanceOf(SourceError);
      expect(err.message).to.equal(`GET ${srv.base}/items: HTTP 503 Service Unavailable: {"error":"maintenance"} (gave up after 3 attempts)`);
      expect(srv.requests).to.have.length(3);
      expect(waits).to.have.length(2);
      expect(waits[0]).to.be.within(250, 500);
      expect(waits[1]).to.be.within(500, 1000);
    });

    it('404 fails at once, without retrying, naming method, URL and status', async () => {
      const srv = await serve((req, res) =>
        req.query.get('page') === '1' ? json(res, 200, ids(1, 2)) : json(res, 404, { error: 'no such page' }),
      );
      const { waits, sleep } = sleepSpy();
      const err = await failure(collect(httpSource(spec(`${srv.base}/items`, { pagination: { type: 'page' } }), {}, { sleep })));
      expect(err).to.be.instanceOf(SourceError);
      expect(err.message).to.equal(`GET ${srv.base}/items?page=2: HTTP 404 Not Found: {"error":"no such page"}`);
      expect(srv.requests).to.have.length(2);
      expect(waits).to.deep.equal([]);
    });

    it('quotes at most 200 characters of an error body', async () => {
      const srv = await serve((_req, res) => {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end('x'.repeat(5000));
      });
      const err = await failure(collect(httpSource(spec(srv.base), {})));
      expect(err.message).to.match(/HTTP 400 Bad Request: x{200}…$/);
    });

    it('a server that never answers times out after timeoutMs, retried, then a SourceError', async () => {
      const srv = await serve(() => {
        /* never answers */
      });
      const { waits, sleep } = sleepSpy();
      const started = Date.now();
      const err = await failure(collect(httpSource(spec(`${srv.base}/slow`, { timeoutMs: 200, retries: 1 }), {}, { sleep })));
      expect(err).to.be.instanceOf(SourceError);
      expect(err.message).to.equal(`GET ${srv.base}/slow: timed out after 200 ms (gave up after 2 attempts)`);
      expect(srv.requests).to.have.length(2);
      expect(waits).to.have.length(1);
      expect(Date.now() - started).to.be.below(3000);
    });

    it('a refused connection is a network error, retried, then a SourceError', async () => {
      const srv = await serve(() => undefined);
      for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
      const { waits, sleep } = sleepSpy();
      const err = await failure(collect(httpSource(spec(`${srv.base}/x`, { retries: 1 }), {}, { sleep })));
      expect(err).to.be.instanceOf(SourceError);
      expect(err.message).to.match(/^GET http:\/\/127\.0\.0\.1:\d+\/x: network error: .*ECONNREFUSED.*\(gave up after 2 attempts\)$/);
      expect(waits).to.have.length(1);
    });
  });

  describe('requests and secrets', () => {
    it('POST sends the JSON body', async () => {
      const srv = await serve((_req, res) => json(res, 200, { hits: ids(1, 2) }));
      const source = httpSource(spec(`${srv.base}/search`, { method: 'POST', body: { query: { term: 'penguin' }, size: 2 } }), {});
      expect(rowsOf(await collect(source)).rows).to.deep.equal([[1], [2]]);
      const [req] = srv.requests;
      expect(req?.method).to.equal('POST');
      expect(req?.headers['content-type']).to.equal('application/json');
      expect(JSON.parse(req?.body ?? '')).to.deep.equal({ query: { term: 'penguin' }, size: 2 });
      expect(source.lineage()).to.include({ method: 'POST' });
    });

    it('sends the bearer token and headers from env, and never shows them or a URL password', async () => {
      const env = { API_TOKEN: 'tok-s3cret-123', TENANT: 'acme-tenant-9', API_KEY: 'k3y-value-77' };
      const srv = await serve((req, res) => {
        // Page 2 echoes everything secret it received into an error body.
        if (req.query.get('page') === '2') {
          return json(res, 403, { error: `forbidden for ${req.headers.authorization} / ${req.headers['x-tenant']} at ${req.url}` });
        }
        json(res, 200, ids(1, 2));
      });
      const url = `${srv.base.replace('//', '//bob:hunter2pw@')}/items?api_key=\${API_KEY}`;
      const source = httpSource(
        spec(url, { bearerToken: '${API_TOKEN}', headers: { 'X-Tenant': '${TENANT}', Accept: 'application/json' }, pagination: { type: 'page' } }),
        env,
      );
      const err = await failure(collect(source));
      const [first] = srv.requests;
      expect(first?.headers.authorization).to.equal('Bearer tok-s3cret-123');
      expect(first?.headers['x-tenant']).to.equal('acme-tenant-9');
      expect(first?.query.get('api_key')).to.equal('k3y-value-77');

      expect(err).to.be.instanceOf(SourceError);
      expect(err.message).to.contain('HTTP 403 Forbidden').and.contain('forbidden for Bearer ***');
      expect(source.name).to.equal(`${srv.base.replace('//', '//bob:***@')}/items?api_key=***`);
      const shown = [err.message, source.name, JSON.stringify(source.lineage()), ...source.warnings].join('\n');
      for (const secret of ['tok-s3cret-123', 'acme-tenant-9', 'k3y-value-77', 'hunter2pw']) expect(shown).not.to.contain(secret);
    });

    it('a URL password becomes Basic auth, scrubbed from error bodies that echo it', async () => {
      const srv = await serve((req, res) => {
        const auth = req.headers.authorization ?? '';
        const decoded = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString();
        json(res, 401, { error: `bad credentials ${auth} (${decoded})` });
      });
      const source = httpSource(spec(`${srv.base.replace('//', '//bob:hunter2pw@')}/x`), {});
      const err = await failure(collect(source));
      expect(srv.requests[0]?.headers.authorization).to.equal(`Basic ${Buffer.from('bob:hunter2pw').toString('base64')}`);
      expect(err.message).to.contain('HTTP 401 Unauthorized').and.contain('bad credentials Basic ***');
      expect(err.message).not.to.contain('hunter2pw');
      expect(err.message).not.to.contain(Buffer.from('bob:hunter2pw').toString('base64'));
      expect(source.name).to.equal(`${srv.base.replace('//', '//bob:***@')}/x`);
    });

    it('an unset environment variable is a ConfigError naming it and the config field', () => {
      const make = (): RecordSource =>
        httpSource(spec('https://api.example.com/v1/items', { bearerToken: '${API_TOKEN}', headers: { 'X-Key': '${XKEY}' } }), { XKEY: 'v' });
      expect(make).to.throw(ConfigError, 'source.bearerToken: environment variable API_TOKEN is not set');
      const err = (() => {
        try {
          httpSource(spec('https://${API_HOST}/v1/items'), {});
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(err).to.be.instanceOf(ConfigError);
      expect(err?.message).to.equal('source.url: environment variable API_HOST is not set');
    });

    it('keeps ${NAME} references readable in name and lineage', () => {
      const source = httpSource(spec('https://${API_HOST}/${VERSION}/items?key=${KEY}&q=a'), { API_HOST: 'api.example.com', VERSION: 'v2', KEY: 'secret-key' });
      expect(source.name).to.equal('https://${API_HOST}/${VERSION}/items?key=***&q=a');
      expect(source.lineage()).to.deep.equal({ kind: 'http', url: source.name, method: 'GET', pages: 0, rows: 0 });
    });

    it('rejects invalid numbers and pagination in the spec', () => {
      expect(() => httpSource(spec('https://api.example.com', { pagination: { type: 'offset', limit: 0 } }), {})).to.throw(
        ConfigError,
        'source.pagination.limit',
      );
      expect(() => httpSource(spec('https://api.example.com', { retries: -1 }), {})).to.throw(ConfigError, 'source.retries');
      expect(() => httpSource(spec('ftp://example.com/x'), {})).to.throw(ConfigError, 'http');
    });
  });
});
