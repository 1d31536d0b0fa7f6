/**
 * The HTTP fuzzer (issue 11): generated and mutated requests over every route of `mlpipe serve` —
 * bodies, headers, methods, paths, encodings — sent over raw sockets, so malformed requests reach the
 * server as a hostile client would send them (fetch refuses to send many of them). The promise:
 * not one answer is a 5xx, every answer is a well-formed HTTP response with a JSON error body when it
 * is an error, and the server is alive and predicting exactly as before at the end.
 * Seeded: a failure prints the seed and the request, and the same seed replays it.
 */
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { type Predictor } from '../../src/core/predictor/predictor.js';
import { loadPredictor } from '../../src/core/predictor/from-bundle.js';
import { type RunningServer, startServer } from '../../src/server/start.js';
import { buildExampleBundle, cleanupTempDirs, exampleRecords, tempDir } from '../../src/test-helpers/fixtures.js';
import { mulberry32, pick } from '../../src/test-helpers/random.js';
import { byScale, countReliability } from '../../src/test-helpers/reliability.js';

/** One raw exchange: what was sent and the status line that came back (0: no answer). */
interface Exchange {
  request: string;
  status: number;
  headers: string;
  body: string;
}

/** Sends raw bytes on a new connection and reads the whole answer (the request asks to close). */
function rawRequest(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = (why?: string) => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.split('\r\n\r\n', 1)[0] ?? '';
      // An interim `100 Continue` (the client sent Expect: 100-continue) precedes the real answer.
      const m = /^(?:HTTP\/1\.1 100 Continue\r\n\r\n)*HTTP\/1\.[01] (\d{3})/.exec(text);
      const preview = bytes.subarray(0, 300).toString('latin1');
      resolve({ request: why ? `${preview} [${why}]` : preview, status: m ? Number(m[1]) : 0, headers: head, body: text.slice(head.length + 4) });
    };
    const timer = setTimeout(() => done('no complete answer in time'), timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => done());
    socket.on('error', () => done());
    socket.on('connect', () => {
      // Not end(): a client that half-closes gets nothing back from Node for an answer that is not ready yet.
      socket.write(bytes);
    });
  });
}

const ROUTES_GET = [
  '/healthz',
  '/readyz',
  '/v1/models',
  '/v1/models/penguins',
  '/v1/models/cars-mpg',
  '/v1/models/penguins/report',
  '/v1/models/penguins/drift',
  '/metrics',
  '/openapi.json',
  '/docs',
  '/v2',
  '/v2/health/ready',
  '/v2/models/penguins',
  '/v2/models/penguins/versions/9.9.9/ready',
  '/ping',
  '/version',
];
const ROUTES_POST = [
  '/predict',
  '/predict/batch',
  '/v1/models/penguins/predict',
  '/v1/models/penguins/predict/batch',
  '/v1/models/cars-mpg/predict',
  '/v1/models/cars-mpg/predict/batch',
  // The standard protocols (issue 13): Open Inference Protocol V2 and MLflow's scoring server.
  '/v2/models/penguins/infer',
  '/v2/models/cars-mpg/versions/1.0.0/infer',
  '/invocations',
  '/v1/models/cars-mpg/invocations',
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'FOO', 'get', 'CONNECT'];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/json-patch+json',
  'text/plain',
  'text/csv',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '',
  ';;;',
  'application/json; charset=',
  'application/json; charset=bogus-123',
];
const ENCODINGS = ['gzip', 'deflate', 'br', 'identity', 'bogus', 'gzip, gzip', 'GZIP', ''];

/** Strange values a hostile record may carry in any field. */
function oddValue(rnd: () => number, depth = 0): unknown {
  const kinds = [
    () => null,
    () => '',
    () => 'NaN',
    () => 'Infinity',
    () => -0,
    () => 1e308,
    () => -1e-320,
    () => Number.MAX_SAFE_INTEGER + 2,
    () => true,
    () => 'x'.repeat(Math.floor(rnd() * 5000)),
    () => '\u0000\uFFFF\uD800',
    () => '🐧'.repeat(20),
    () => '2024-13-45',
    () => '31/02/2024',
    () => '<script>alert(1)</script>',
    () => '../../etc/passwd',
    () => ({ $date: '2024-01-01' }),
    () => ({ $oid: 'abc' }),
    () => ({ $numberLong: '99999999999999999999999' }),
    () => [1, 2, 3],
    () => (depth < 3 ? { nested: oddValue(rnd, depth + 1) } : 1),
    () => (depth < 3 ? [oddValue(rnd, depth + 1)] : 'deep'),
    () => Math.floor(rnd() * 1000) - 500,
    () => rnd() * 1e6,
  ];
  return pick(rnd, kinds)();
}

const KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', '.', 'a.b', '/', '~', '~1', 'island', 'species', 'x'.repeat(300)];

/** A record made from a valid one by a few random mutations. */
function mutateRecord(rnd: () => number, base: Record<string, unknown>): unknown {
  const r: Record<string, unknown> = { ...base };
  const n = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) {
    const keys = Object.keys(r);
    const op = rnd();
    if (op < 0.25 && keys.length > 0) delete r[pick(rnd, keys)];
    else if (op < 0.6 && keys.length > 0) r[pick(rnd, keys)] = oddValue(rnd);
    else if (op < 0.85) Object.defineProperty(r, pick(rnd, KEYS), { value: oddValue(rnd), enumerable: true, configurable: true, writable: true });
    else return oddValue(rnd);
  }
  return r;
}

function deepNest(depth: number, open: string, close: string, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** What a route reads: one record, `{"records": [...]}`, V2 tensors, or one of MLflow's forms. */
type BodyKind = 'single' | 'batch' | 'v2' | 'mlflow';

function bodyKind(path: string): BodyKind {
  if (path.includes('/infer')) return 'v2';
  if (path.includes('invocations')) return 'mlflow';
  return path.endsWith('batch') ? 'batch' : 'single';
}

/** A valid body of a protocol route for `rows`: V2 (a tensor per column, or one BYTES tensor of records) or an MLflow form. */
function protocolBody(rnd: () => number, kind: 'v2' | 'mlflow', rows: unknown[]): unknown {
  // Mutated rows may be anything (a number, null, an array): they go in as they are, the columns come from the objects.
  const isObject = (r: unknown): r is Record<string, unknown> => r !== null && typeof r === 'object' && !Array.isArray(r);
  const columns = [...new Set(rows.flatMap((r) => (isObject(r) ? Object.keys(r) : [])))];
  const cell = (r: unknown, c: string) => (isObject(r) ? (r[c] ?? null) : r);
  if (kind === 'v2') {
    if (rnd() < 0.3) return { inputs: [{ name: 'records', datatype: 'BYTES', shape: [rows.length], data: rows.map((r) => JSON.stringify(r)) }] };
    return {
      id: 'fuzz',
      inputs: columns.map((c) => {
        const data = rows.map((r) => cell(r, c));
        const datatype = data.every((v) => typeof v === 'number') ? 'FP64' : 'BYTES';
        return { name: c, datatype, shape: [rows.length], data };
      }),
    };
  }
  const form = pick(rnd, ['dataframe_split', 'dataframe_records', 'instances', 'inputs']);
  if (form === 'dataframe_split') return { dataframe_split: { columns, data: rows.map((r) => columns.map((c) => cell(r, c))) } };
  return { [form]: rows };
}

/** A body: valid, mutated, or broken at the byte level. */
function body(rnd: () => number, records: Record<string, unknown>[], kind: BodyKind): Buffer {
  const base = pick(rnd, records);
  const batch = kind !== 'single';
  const wrap = (rows: unknown[]): unknown => (kind === 'v2' || kind === 'mlflow' ? protocolBody(rnd, kind, rows) : { records: rows });
  const choice = rnd();
  let text: string;
  if (choice < 0.2) text = JSON.stringify(batch ? wrap(records.slice(0, 1 + Math.floor(rnd() * 20))) : base);
  else if (choice < 0.55) {
    const many = Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => mutateRecord(rnd, pick(rnd, records)));
    const broken = kind === 'v2' ? [{ inputs: 'x' }, { inputs: [{ name: 'Island', datatype: 'FP64', shape: [2, 2], data: [1] }] }, { inputs: [{ name: 'Island' }] }] : kind === 'mlflow' ? [{ dataframe_split: { columns: 'x', data: [[1]] } }, { instances: 'x' }, { unknown_form: many }] : [{ records: 'x' }, { records: null }, { rows: many }];
    text = JSON.stringify(batch ? (rnd() < 0.8 ? wrap(many) : pick(rnd, [many, ...broken])) : many[0]);
  } else if (choice < 0.65) {
    const depth = pick(rnd, [100, 1000, 5000, 20_000]);
    const nest = rnd() < 0.5 ? deepNest(depth, '[', ']') : deepNest(depth, '{"a":', '}');
    text = kind === 'v2' ? `{"inputs":[{"name":"Island","datatype":"BYTES","shape":[1],"data":[${nest}]}]}` : kind === 'mlflow' ? `{"instances":[${nest}]}` : batch ? `{"records":[${nest}]}` : rnd() < 0.5 ? nest : `{"island":${nest}}`;
  } else if (choice < 0.72) {
    const keys = pick(rnd, [10, 1000, 20_000]);
    const fields = Array.from({ length: keys }, (_, i) => `"k${i}":${i}`).join(',');
    text = batch ? `{"records":[{${fields}}]}` : `{${fields}}`;
  } else if (choice < 0.85) {
    // Truncated, or a byte changed, inserted or removed.
    const valid = JSON.stringify(batch ? wrap([base]) : base);
    const at = Math.floor(rnd() * valid.length);
    const kind = rnd();
    text = kind < 0.33 ? valid.slice(0, at) : kind < 0.66 ? valid.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 256)) + valid.slice(at + 1) : valid.slice(0, at) + valid.slice(at + 1);
  } else if (choice < 0.9) {
    text = pick(rnd, ['', ' ', 'null', 'true', '0', '"x"', '[]', '{}', '{"records":[]}', '{"records":{}}', '1e999', '{"a":1,"a":2}', '\uFEFF{}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}']);
  } else {
    return Buffer.from(Array.from({ length: Math.floor(rnd() * 512) }, () => Math.floor(rnd() * 256)));
  }
  return Buffer.from(text, 'utf8');
}

/** A whole raw request: method, path, headers and body, each possibly hostile. */
function request(rnd: () => number, records: Record<string, unknown>[]): Buffer {
  const post = rnd() < 0.75;
  let path = post ? pick(rnd, ROUTES_POST) : pick(rnd, ROUTES_GET);
  const pathKind = rnd();
  if (pathKind < 0.05) path = `/v1/models/${encodeURIComponent(pick(rnd, KEYS))}/predict`;
  else if (pathKind < 0.08) path = pick(rnd, ['/v1/models/%E0%A4%A', '/v1/models/%', '/v1/models/..%2f..%2fetc', '//predict', '/predict?x=1&x=2', '/predict#frag', `/${'a'.repeat(9000)}`, '/v1/models/penguins/predict/batch/extra', '*']);
  const method = rnd() < 0.85 ? (post ? 'POST' : 'GET') : pick(rnd, METHODS);
  let payload = method === 'GET' || method === 'HEAD' ? (rnd() < 0.9 ? Buffer.alloc(0) : body(rnd, records, 'single')) : body(rnd, records, bodyKind(path));
  const headers: string[] = ['Host: 127.0.0.1', 'Connection: close'];
  let ct = rnd() < 0.7 ? 'application/json' : pick(rnd, CONTENT_TYPES);
  // MLflow also reads CSV: sometimes the records as CSV, sometimes the JSON body mislabelled as CSV.
  if (bodyKind(path) === 'mlflow' && method === 'POST' && rnd() < 0.2) {
    ct = 'text/csv';
    if (rnd() < 0.6) {
      const rows = records.slice(0, 1 + Math.floor(rnd() * 10));
      const columns = Object.keys(rows[0] ?? {});
      const cell = (v: unknown) => (v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
      let csv = [columns.map(cell).join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n');
      if (rnd() < 0.5) csv = csv.slice(0, Math.floor(rnd() * csv.length)) + pick(rnd, ['"', ',,,', '\n\n', '\u0000', 'x'.repeat(100)]) + csv.slice(Math.floor(rnd() * csv.length));
      payload = Buffer.from(csv, 'utf8');
    }
  }
  if (ct !== '' || rnd() < 0.5) headers.push(`Content-Type: ${ct}`);
  if (rnd() < 0.1) {
    const enc = pick(rnd, ENCODINGS);
    headers.push(`Content-Encoding: ${enc}`);
    if (enc.toLowerCase() === 'gzip' && rnd() < 0.6) payload = gzipSync(payload);
  }
  const lengthKind = rnd();
  if (lengthKind < 0.85) headers.push(`Content-Length: ${payload.length}`);
  else if (lengthKind < 0.9) headers.push(`Content-Length: ${Math.max(0, payload.length - 3)}`);
  else if (lengthKind < 0.93) headers.push('Content-Length: -1', `Content-Length: ${payload.length}`);
  else if (lengthKind < 0.96) {
    headers.push('Transfer-Encoding: chunked');
    payload = Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n0\r\n\r\n')]);
  } else headers.push('Content-Length: 99999999999999999999');
  if (rnd() < 0.05) headers.push(pick(rnd, ['X-Forwarded-For: 1.2.3.4, 5.6.7.8', 'Accept: text/html', 'Expect: 100-continue', 'Accept-Encoding: gzip', `X-Big: ${'b'.repeat(10_000)}`, 'Bad Header: x', 'X-Null: \u0000']));
  return Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}

describe('reliability: HTTP fuzzer over every route', function () {
  this.timeout(600_000);
  let running: RunningServer;
  let penguins: Predictor;
  let records: Record<string, unknown>[];

  before(async () => {
    const artifacts = await tempDir('mlpipe-fuzz-');
    await buildExampleBundle({ artifacts, example: 'penguins', trees: 5 });
    await buildExampleBundle({ artifacts, example: 'cars', trees: 5 });
    penguins = await loadPredictor('penguins', artifacts);
    records = (await exampleRecords('penguins')).slice(0, 50);
    running = await startServer({ refs: ['penguins', 'cars-mpg'], artifacts, port: 0, host: '127.0.0.1', rateLimit: 0, batchRateLimit: 0, bodyLimit: '1mb' });
  });

  after(async () => {
    await running?.close();
    await cleanupTempDirs();
  });

  it('answers every generated request with a well-formed non-5xx answer, then still predicts exactly', async () => {
    const seed = Number(process.env.MLPIPE_FUZZ_SEED ?? 20261207);
    const total = byScale(3_000, 10_000);
    const deadline = Date.now() + byScale(240_000, 540_000);
    const rnd = mulberry32(seed);
    const port = Number(new URL(running.url).port);
    const statuses = new Map<number, number>();
    const bad: Exchange[] = [];
    const concurrency = 8;
    let sent = 0;
    let next = 0;
    const worker = async () => {
      while (next < total && Date.now() < deadline) {
        next++;
        const ex = await rawRequest(port, request(rnd, records));
        sent++;
        statuses.set(ex.status, (statuses.get(ex.status) ?? 0) + 1);
        const isError = ex.status >= 400;
        const headOnly = ex.request.startsWith('HEAD ');
        // Every error has a JSON body: mlpipe's (also for requests Node's parser refused, and CONNECT), or
        // on the standard protocols' routes their own form: V2's {"error": "…"}, MLflow's {"error_code", "message"}
        // (and MLflow's plain-text 415, as MLflow answers it).
        const protocolError = /\{"error":"/.test(ex.body) || /\{"error_code":"/.test(ex.body) || (ex.status === 415 && /invocations/.test(ex.request.split(' ')[1] ?? ''));
        const jsonError = !isError || headOnly || /"error"\s*:\s*\{\s*"code"/.test(ex.body) || protocolError;
        if (ex.status === 0 || ex.status >= 500 || !jsonError) bad.push(ex);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const fiveXx = [...statuses].filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0);
    const summary = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ');
    console.log(`      fuzzer: seed ${seed}, ${sent} requests, statuses ${summary}`);

    // Alive and unchanged: the same predictions as the model loaded on its own.
    const batch = records.slice(0, 20);
    const res = await fetch(`${running.url}/v1/models/penguins/predict/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records: batch }) });
    expect(res.status).to.equal(200);
    const answer = (await res.json()) as { predictions: unknown };
    const alive = JSON.stringify(answer.predictions) === JSON.stringify(penguins.predictMany(batch));
    if (bad.length > 0 && process.env.MLPIPE_FUZZ_REPORT) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(process.env.MLPIPE_FUZZ_REPORT, JSON.stringify(bad, null, 1));
    }
    countReliability('http fuzzer', { cases: sent, passed: sent - bad.length, requests: sent + 1, fiveXx });
    expect(bad.map((b) => `${b.status} for ${JSON.stringify(b.request.slice(0, 200))}: ${b.body.slice(0, 200)}`), `seed ${seed}`).to.deep.equal([]);
    expect(alive, 'the server predicts as the bundle does after the fuzzing').to.equal(true);
    expect(sent).to.be.greaterThan(total / 10);
    // No connection may be left open by a hostile request: a graceful close must end (its own timeout is 10 s).
    const closed = await Promise.race([running.close().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
    expect(closed, 'the server closes after the fuzzing (a socket it could not close kept it open)').to.equal(true);
  });
});
