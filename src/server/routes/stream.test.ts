import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { predictFile } from '../../core/pipeline/predict.js';
import { loadPredictor } from '../../core/predictor/from-bundle.js';
import type { Predictor } from '../../core/predictor/predictor.js';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { mulberry32 } from '../../test-helpers/random.js';
import { buildScoringBundles, scoringCsv, scoringRow } from '../../test-helpers/scoring.js';
import { createApp } from '../app.js';
import { ServedModels } from '../models.js';
import { STREAM_CHUNK_ROWS } from './stream.js';
import type { AppOptions } from '../options.js';

const servers: Server[] = [];

async function serve(models: ServedModels, options: Partial<AppOptions> = {}): Promise<string> {
  const app = createApp(models, { rateLimit: 0, batchRateLimit: 0, ...options });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Reply {
  status: number;
  type: string | null;
  text: string;
}

async function postText(url: string, body: string | Buffer | ReadableStream<Uint8Array>, headers: Record<string, string>): Promise<Reply> {
  const res = await fetch(url, { method: 'POST', headers, body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

function errorOf(r: Reply): { code: string; message: string; details: { path: string; message: string }[] } {
  expect(r.type, r.text).to.match(/^application\/json/);
  return (JSON.parse(r.text) as { error: { code: string; message: string; details: { path: string; message: string }[] } }).error;
}

/** A full garbage collection (V8's gc, exposed at run time: mocha is not started with --expose-gc). */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '');

describe('POST /predict/stream (NDJSON and CSV streamed in and out)', function () {
  this.timeout(60_000);

  let dir: string;
  let artifacts: string;
  let scoring: Predictor;
  let url: string;

  before(async () => {
    dir = await tempDir();
    artifacts = await buildScoringBundles(dir, { trees: 10 });
    scoring = await loadPredictor('scoring', artifacts);
    const models = new ServedModels();
    models.add(scoring);
    models.add(await loadPredictor('scoring-strict', artifacts));
    models.ready = true;
    url = await serve(models, { streamStallTimeoutMs: 500 });
  });

  after(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
    await cleanupTempDirs();
  });

  it('CSV in, CSV out: byte for byte what mlpipe predict writes for the same file, bad rows included (error column), ?id= copied', async () => {
    const rand = mulberry32(5);
    const rows = Array.from({ length: 2500 }, () => scoringRow(rand));
    rows[7] = ['2024-13-45', '3.5', 'red', 'true']; // an impossible date: a bad value
    rows[1200] = ['2024-02-03', 'lots', 'blue', 'false']; // a number column that is not a number
    let csv = scoringCsv(rows);
    // A row with a missing field: the reader refuses it (line 2002 of the file = data row 2001).
    const split = csv.split('\n');
    split[2001] = '2024-01-01,1.5';
    csv = split.join('\n');
    await writeFile(join(dir, 'score.csv'), csv);
    await predictFile({ ref: 'scoring', artifacts, input: join(dir, 'score.csv'), out: join(dir, 'score-out.csv'), id: 'area', model: scoring });
    const expected = await readFile(join(dir, 'score-out.csv'), 'utf8');

    const r = await postText(`${url}/v1/models/scoring/predict/stream?id=area`, csv, { 'content-type': 'text/csv' });
    expect(r.status, r.text).to.equal(200);
    expect(r.type).to.equal('text/csv; charset=utf-8');
    expect(r.text).to.equal(expected);
    const out = lines(r.text);
    expect(out[0]).to.equal('area,prediction,proba_high,proba_low,error');
    expect(out).to.have.length(2501);
    expect(out[8]).to.match(/^3\.5,,,,"?\/date: /);
    expect(out[1201]).to.match(/^lots,,,,"?\/area: /);
    expect(out[2001]).to.contain('line 2002: expected 4 fields');
  });

  it('NDJSON in, NDJSON out: good rows answer as /predict/batch does, a bad row is an error line {"row": n, "error": {…}}', async () => {
    const records = [
      { date: '2024-03-01', area: 7.5, color: 'red', ok: true },
      { date: '2024-03-02', area: 'x', color: 'blue', ok: false },
      { date: '2024-03-03', area: 1.25, color: 'green', ok: false },
    ];
    const body = `${JSON.stringify(records[0])}\nnot json\n${JSON.stringify(records[1])}\n\n${JSON.stringify(records[2])}\n`;
    const r = await postText(`${url}/predict/stream`, body, { 'content-type': 'application/x-ndjson' });
    expect(r.status, r.text).to.equal(200);
    expect(r.type).to.equal('application/x-ndjson; charset=utf-8');
    const out = lines(r.text).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out).to.have.length(4);
    const expected = JSON.parse(JSON.stringify(scoring.predictMany([records[0], records[2]])));
    expect(out[0]).to.deep.equal(expected[0]);
    expect(out[3]).to.deep.equal(expected[1]);
    expect(out[1]).to.deep.include({ row: 2 });
    expect((out[1] as { error: { code: string; message: string } }).error.message).to.match(/^line 2: invalid JSON/);
    const bad = out[2] as { row: number; error: { code: string; details: { path: string }[] } };
    expect(bad.row).to.equal(3);
    expect(bad.error.code).to.equal('invalid_input');
    expect(bad.error.details.map((d) => d.path)).to.deep.equal(['/area']);
  });

  it('answers as Accept asks (CSV in, NDJSON out; jsonl in, CSV out); 406 when Accept allows neither; a gzip body is read', async () => {
    const csv = scoringCsv([['2024-03-01', '7.5', 'red', 'true']]);
    const nd = await postText(`${url}/predict/stream`, csv, { 'content-type': 'text/csv', accept: 'application/x-ndjson' });
    expect(nd.status).to.equal(200);
    expect(nd.type).to.match(/^application\/x-ndjson/);
    expect(JSON.parse(lines(nd.text)[0] as string)).to.deep.equal(JSON.parse(JSON.stringify(scoring.predictOne({ date: '2024-03-01', area: 7.5, color: 'red', ok: true }))));
    const toCsv = await postText(`${url}/predict/stream`, '{"date":"2024-03-01","area":7.5,"color":"red","ok":true}\n', { 'content-type': 'application/jsonl', accept: 'text/csv' });
    expect(toCsv.status).to.equal(200);
    expect(lines(toCsv.text)[0]).to.equal('prediction,proba_high,proba_low,error');
    const none = await postText(`${url}/predict/stream`, csv, { 'content-type': 'text/csv', accept: 'application/xml' });
    expect(none.status).to.equal(406);
    expect(errorOf(none).code).to.equal('not_acceptable');
    const gz = await postText(`${url}/predict/stream`, zlib.gzipSync(csv), { 'content-type': 'text/csv', 'content-encoding': 'gzip' });
    expect(gz.status, gz.text).to.equal(200);
    expect(gz.text).to.equal(nd.text === '' ? '' : (await postText(`${url}/predict/stream`, csv, { 'content-type': 'text/csv' })).text);
  });

  it('errors before the first byte are JSON: 415 type, 404 model, 405 method, 400 CSV header naming the column', async () => {
    const csv = scoringCsv([['2024-03-01', '7.5', 'red', 'true']]);
    const type = await postText(`${url}/predict/stream`, csv, { 'content-type': 'application/json' });
    expect(type.status).to.equal(415);
    expect(errorOf(type).message).to.contain('text/csv');
    for (const odd of ['constructor', '__proto__', 'toString', 'text/csv; charset=latin1']) {
      const r = await postText(`${url}/predict/stream`, csv, { 'content-type': odd });
      expect(r.status, odd).to.equal(415);
      expect(errorOf(r).code).to.equal('unsupported_media_type');
    }
    const encoding = await postText(`${url}/predict/stream`, csv, { 'content-type': 'text/csv', 'content-encoding': 'zstd' });
    expect(encoding.status).to.equal(415);
    expect(errorOf(encoding).message).to.contain('"zstd"');
    const model = await postText(`${url}/v1/models/nope/predict/stream`, csv, { 'content-type': 'text/csv' });
    expect(model.status).to.equal(404);
    expect(errorOf(model).message).to.contain('served: scoring, scoring-strict');
    const get = await fetch(`${url}/predict/stream`);
    expect(get.status).to.equal(405);
    expect(get.headers.get('allow')).to.equal('POST');

    const dup = await postText(`${url}/predict/stream`, 'date,area,area,color\n2024-01-01,1,2,red\n', { 'content-type': 'text/csv' });
    expect(dup.status).to.equal(400);
    expect(errorOf(dup).details).to.deep.equal([{ path: '/area', message: errorOf(dup).message.replace(/^the CSV header /, '') }]);
    expect(errorOf(dup).message).to.contain('"area" more than once');
    const id = await postText(`${url}/predict/stream?id=key`, csv, { 'content-type': 'text/csv' });
    expect(id.status).to.equal(400);
    expect(errorOf(id).details[0]?.path).to.equal('/key');
    const required = await postText(`${url}/v1/models/scoring-strict/predict/stream`, 'date,color\n2024-01-01,red\n', { 'content-type': 'text/csv' });
    expect(required.status).to.equal(400);
    expect(errorOf(required).message).to.contain('"area" that scoring-strict@1.0.0 requires');
    const delimiter = await postText(`${url}/predict/stream`, 'a:b\n1:2\n', { 'content-type': 'text/csv' });
    expect(delimiter.status).to.equal(400);
    expect(errorOf(delimiter).message).to.contain('names none of the columns');
    const empty = await postText(`${url}/predict/stream`, '', { 'content-type': 'text/csv' });
    expect(empty.status).to.equal(400);
    expect(errorOf(empty).message).to.contain('empty');
    // The server answers on.
    expect((await fetch(`${url}/healthz`)).status).to.equal(200);
  });

  it('an unclosed quote after the first chunk: the answer so far, then a last error line (status already 200)', async () => {
    const rand = mulberry32(9);
    const csv = `${scoringCsv(Array.from({ length: STREAM_CHUNK_ROWS + 500 }, () => scoringRow(rand)))}2024-01-01,"1.5,red,true\n2024-01-02,2,red,true\n`;
    const r = await postText(`${url}/predict/stream`, csv, { 'content-type': 'text/csv' });
    expect(r.status).to.equal(200);
    const out = lines(r.text);
    expect(out.length).to.be.greaterThan(STREAM_CHUNK_ROWS);
    expect(out.at(-1)).to.match(/the stream stopped at row \d+: .*a quoted value is never closed/);
  });

  it('rows are charged to the row budget as they arrive: a 429 before the first byte, or a last error line once the stream has begun', async () => {
    const models = new ServedModels();
    models.add(scoring);
    models.ready = true;
    // A budget of one and a half chunks: the first chunk fits, the second does not.
    const limited = await serve(models, { rowsPerMinute: STREAM_CHUNK_ROWS + STREAM_CHUNK_ROWS / 2 });
    const rand = mulberry32(13);
    const csv = scoringCsv(Array.from({ length: 2 * STREAM_CHUNK_ROWS }, () => scoringRow(rand)));
    const first = await postText(`${limited}/predict/stream`, csv, { 'content-type': 'text/csv' });
    expect(first.status).to.equal(200);
    const out = lines(first.text);
    expect(out).to.have.length(STREAM_CHUNK_ROWS + 2); // the header, the first chunk, the error line
    expect(out.at(-1), out.at(-1)).to.match(new RegExp(`the stream stopped at row ${STREAM_CHUNK_ROWS + 1}: .*rows`));
    // The budget is spent: the next stream is refused before its first byte, as JSON with Retry-After.
    const second = await postText(`${limited}/predict/stream`, csv, { 'content-type': 'text/csv' });
    expect(second.status).to.equal(429);
    expect(JSON.parse(second.text).error.code).to.equal('rate_limited');
  });

  it('a client that stops reading: the server stops reading too, and cuts it off after streamStallTimeoutMs', async () => {
    const { port } = new URL(url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    // Never read the answer: pause, so the server's writes fill the socket buffers.
    socket.pause();
    socket.write('POST /predict/stream HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nAccept: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n');
    const rand = mulberry32(3);
    let sent = 0;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    let open = true;
    void closed.then(() => {
      open = false;
    });
    // Send rows until the server stops taking them (the socket's buffer fills) or closes the connection.
    const header = scoringCsv([]).trimEnd();
    const first = `${header}\n`;
    socket.write(`${first.length.toString(16)}\r\n${first}\r\n`);
    const started = Date.now();
    const text = `${Array.from({ length: 2000 }, () => scoringRow(rand).join(',')).join('\n')}\n`;
    const piece = `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    while (open && Date.now() - started < 20_000) {
      const ok = socket.write(piece);
      sent += 2000;
      if (!ok) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed, new Promise((resolve) => setTimeout(resolve, 3000))]);
    }
    expect(open, `the server kept the connection of a client that reads nothing (${sent} rows sent)`).to.equal(false);
    // It stopped reading long before the client stopped sending: far fewer rows than 20 s of sending would be.
    expect(sent).to.be.greaterThan(0);
    expect((await fetch(`${url}/healthz`)).status).to.equal(200);
  });

  it('a client that goes away mid-stream: the server stops, frees the connection, and answers on', async () => {
    const rand = mulberry32(4);
    const block = `${Array.from({ length: 2000 }, () => scoringRow(rand).join(',')).join('\n')}\n`;
    const { port } = new URL(url);
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: Number(port), method: 'POST', path: '/predict/stream', agent: false, headers: { 'content-type': 'text/csv' } }, (res) => {
        expect(res.statusCode).to.equal(200);
        let got = 0;
        res.on('data', (d: Buffer) => {
          got += d.length;
          // Gone after the first 100 KB of answers, in the middle of sending.
          if (got > 100_000 && !req.destroyed) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', () => {});
      req.write('date,area,color,ok\n');
      let sent = 0;
      const pump = () => {
        while (sent < 500 && !req.destroyed) {
          sent++;
          if (!req.write(block)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!req.destroyed) req.end();
      };
      pump();
      setTimeout(() => reject(new Error('no 100 KB of answers within 20 s')), 20_000).unref();
    });
    const server = servers[0] as Server;
    // Connections still open once the idle keep-alive ones (of the other tests) are closed: a request in progress keeps its own.
    const open = () => {
      server.closeIdleConnections();
      return new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    };
    const until = Date.now() + 5000;
    while ((await open()) > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await open(), 'the server kept the connection of a client that went away').to.equal(0);
    expect((await fetch(`${url}/healthz`)).status).to.equal(200);
    const again = await postText(`${url}/predict/stream`, scoringCsv([['2024-03-01', '7.5', 'red', 'true']]), { 'content-type': 'text/csv' });
    expect(again.status).to.equal(200);
  });

  it('memory does not grow with the body: 220,000 rows (≈ 40 MB) through one request, heap bounded', async function () {
    // ~10 s alone; over a minute inside a full run on a shared 2-core machine (it forces full GCs while it streams).
    this.timeout(300_000);
    const rows = 220_000;
    const pad = 'x'.repeat(150);
    const rand = mulberry32(21);
    // 2,000 different rows, sent over and over (making each row anew would make the client the slow part).
    const block = Array.from({ length: 2000 }, () => `${scoringRow(rand).join(',')},${pad}\n`);
    let made = 0;
    let bytesSent = 0;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (made === 0) controller.enqueue(encoder.encode('date,area,color,ok,note\n'));
        if (made >= rows) {
          controller.close();
          return;
        }
        const n = Math.min(2000, rows - made);
        const text = block.slice(0, n).join('');
        made += n;
        const bytes = encoder.encode(text);
        bytesSent += bytes.length;
        controller.enqueue(bytes);
      },
    });
    // Live memory, not garbage waiting for a collection: a full GC before each sample.
    const gc = collector();
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    let samples = 0;
    const sampler = setInterval(() => {
      gc();
      samples++;
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 250);
    try {
      const res = await fetch(`${url}/predict/stream`, { method: 'POST', headers: { 'content-type': 'text/csv', accept: 'application/x-ndjson' }, body, duplex: 'half' } as RequestInit);
      expect(res.status).to.equal(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let newlines = 0;
      let errors = 0;
      let tail = '';
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const text = tail + decoder.decode(value, { stream: true });
        const parts = text.split('\n');
        tail = parts.pop() as string;
        newlines += parts.length;
        for (const p of parts) if (p.includes('"error"')) errors++;
      }
      expect(newlines).to.equal(rows);
      expect(errors).to.equal(0);
    } finally {
      clearInterval(sampler);
    }
    const grew = (peak - base) / 1e6;
    this.test!.title += ` [sent ${(bytesSent / 1e6).toFixed(0)} MB; live heap grew at most ${grew.toFixed(1)} MB over ${samples} samples]`;
    expect(bytesSent).to.be.greaterThan(35e6);
    expect(samples).to.be.greaterThan(2);
    // Holding the body alone would take more than the bound; its records and answers several times it.
    expect(grew, `live heap grew ${grew.toFixed(0)} MB`).to.be.lessThan(24);
  });
});
