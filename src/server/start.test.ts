import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type Socket } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { NotFoundError, VerificationError } from '../core/errors.js';
import { buildExampleBundle, cleanupTempDirs, exampleRecords, runCli, tempDir } from '../test-helpers/fixtures.js';
import { type RunningServer, startServer } from './start.js';
import { type ServeProcess, startServeProcess } from '../test-helpers/serve.js';

/** A raw HTTP/1.1 response read off a socket. */
interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Parses the first final (non-1xx) response in `buf`; undefined until it has fully arrived. The
 * server answers with Content-Length (res.json), so no chunked decoding is needed.
 */
function parseResponse(buf: Buffer): RawResponse | undefined {
  let start = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', start);
    if (end < 0) return undefined;
    const [statusLine = '', ...lines] = buf.subarray(start, end).toString('latin1').split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    if (status >= 100 && status < 200) {
      start = end + 4;
      continue;
    }
    const length = Number(headers['content-length']);
    if (!Number.isInteger(length)) throw new Error(`response without a Content-Length: ${statusLine}`);
    if (buf.length < end + 4 + length) return undefined;
    return { status, headers, body: buf.subarray(end + 4, end + 4 + length).toString('utf8') };
  }
}

const openConnections: RawConnection[] = [];

/** A TCP connection to write HTTP by hand and wait for what comes back. */
class RawConnection {
  private data = Buffer.alloc(0);
  private closed = false;
  private waiters: (() => boolean)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.data = Buffer.concat([this.data, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    // A reset shows up as 'close' too; the waiters report it.
    socket.on('error', () => {});
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        const conn = new RawConnection(s);
        openConnections.push(conn);
        resolve(conn);
      });
      s.once('error', reject);
    });
  }

  private wake(): void {
    this.waiters = this.waiters.filter((check) => !check());
  }

  get text(): string {
    return this.data.toString('latin1');
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Resolves with `read()`'s value once it is defined; rejects if the connection closes first. */
  until<T>(read: (data: Buffer) => T | undefined, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        let value: T | undefined;
        try {
          value = read(this.data);
        } catch (err) {
          reject(err as Error);
          return true;
        }
        if (value !== undefined) {
          resolve(value);
          return true;
        }
        if (this.closed) {
          reject(new Error(`the connection closed before ${what}; received: ${JSON.stringify(this.text)}`));
          return true;
        }
        return false;
      };
      if (!check()) this.waiters.push(check);
    });
  }

  /** Waits for the server's `100 Continue`: proof that it has parsed the request head. */
  continued(): Promise<true> {
    return this.until((d) => (/^HTTP\/1\.1 100 Continue\r\n\r\n/.test(d.toString('latin1')) ? true : undefined), '100 Continue');
  }

  response(): Promise<RawResponse> {
    return this.until(parseResponse, 'a complete response');
  }

  end(): void {
    this.socket.destroy();
  }
}

/**
 * Opens a connection and starts a POST whose body is only partly sent: the head (with
 * `Expect: 100-continue`, so the test knows when the server has parsed it, without sleeping), then
 * the first bytes of the body. `finish()` sends the rest.
 */
async function startPartialPost(port: number, path: string, body: string): Promise<{ conn: RawConnection; finish: () => void }> {
  const conn = await RawConnection.open(port);
  conn.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  await conn.continued();
  const cut = Math.floor(body.length / 2);
  conn.write(body.slice(0, cut));
  return { conn, finish: () => conn.write(body.slice(cut)) };
}

interface AgentReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A POST through a keep-alive `agent`. With `slow`, the head goes with `Expect: 100-continue` and
 * `started` resolves once the server has parsed it (the request is then in flight); `finish()`
 * sends the body.
 */
function agentPost(agent: http.Agent, port: number, body: string, options: { slow?: boolean; path?: string } = {}) {
  let finish = () => {};
  let started!: Promise<void>;
  const done = new Promise<AgentReply>((resolve, reject) => {
    const req = http.request(
      { agent, port, host: '127.0.0.1', method: 'POST', path: options.path ?? '/predict', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(options.slow ? { expect: '100-continue' } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.slow) {
      started = new Promise((resolveStarted) => req.once('continue', () => resolveStarted()));
      req.flushHeaders();
      finish = () => req.end(body);
    } else {
      started = Promise.resolve();
      req.end(body);
    }
  });
  return { started, finish: () => finish(), done };
}

/** Resolves with the error code of a refused (or otherwise failed) TCP connection attempt. */
function connectError(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const children: ChildProcessWithoutNullStreams[] = [];

function spawnServe(args: string[]): ServeProcess {
  const serve = startServeProcess(args);
  children.push(serve.child);
  return serve;
}

/** Flips one bit of one byte in the middle of a file. */
async function flipOneByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  const i = Math.floor(bytes.length / 2);
  bytes[i] = (bytes[i] as number) ^ 0x01;
  await writeFile(path, bytes);
}

/** Counts `listen` calls on every net/http server while `fn` runs. */
async function countListens(fn: () => Promise<unknown>): Promise<number> {
  const original = net.Server.prototype.listen;
  let calls = 0;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    calls++;
    return (original as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof original;
  try {
    await fn();
  } finally {
    net.Server.prototype.listen = original;
  }
  return calls;
}

describe('server start file and the serve process', function () {
  this.timeout(120_000);

  let artifacts: string;
  let tampered: string;
  let ref: string;
  let record: Record<string, unknown>;
  let body: string;
  const running: RunningServer[] = [];

  before(async () => {
    artifacts = await tempDir();
    const built = await buildExampleBundle({ artifacts, example: 'penguins' });
    ref = built.package.ref;
    // A second store holding a copy of the bundle with one byte of model.json changed.
    tampered = await tempDir();
    await cp(built.package.dir, join(tampered, built.package.name, built.package.version), { recursive: true });
    await flipOneByte(join(tampered, built.package.name, built.package.version, 'model.json'));
    const { Species: _target, ...rest } = (await exampleRecords('penguins'))[0] as Record<string, unknown>;
    record = rest;
    body = JSON.stringify(record);
  });

  after(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // After a failed test a half-sent request may still be open: do not wait out the drain timeout.
    for (const conn of openConnections.splice(0)) conn.end();
    await Promise.all(
      running.splice(0).map((r) => {
        const closing = r.close();
        r.server.closeAllConnections();
        return closing;
      }),
    );
    await cleanupTempDirs();
  });

  describe('startServer', () => {
    it('serves the bundles, then close() resolves and the port is closed', async () => {
      const server = await startServer({ refs: [ref], artifacts, port: 0, host: '127.0.0.1' });
      running.push(server);
      expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.registry.ready).to.equal(true);

      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.equal({ status: 'ready', models: [ref] });
      const predicted = await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(predicted.status).to.equal(200);
      const out = (await predicted.json()) as { prediction: string; model: { name: string } };
      expect(out.prediction).to.equal('Adelie');
      expect(out.model.name).to.equal('penguins');

      // fetch keeps its connection alive: close() must still resolve.
      await server.close();
      expect(server.registry.ready).to.equal(false);
      expect(server.server.listening).to.equal(false);
      const port = Number(new URL(server.url).port);
      expect(await connectError(port)).to.equal('ECONNREFUSED');
    });

    it('close() stops accepting connections at once but lets an in-flight request finish', async () => {
      const server = await startServer({ refs: [ref], artifacts, port: 0, host: '127.0.0.1', shutdownTimeoutMs: 120_000 });
      running.push(server);
      const port = Number(new URL(server.url).port);
      const { conn, finish } = await startPartialPost(port, '/predict', body);

      let closed = false;
      const closing = server.close().then(() => (closed = true));
      expect(server.registry.ready).to.equal(false);
      expect(await connectError(port)).to.equal('ECONNREFUSED');
      expect(closed).to.equal(false);

      finish();
      const res = await conn.response();
      expect(res.status, res.body).to.equal(200);
      expect((JSON.parse(res.body) as { prediction: string }).prediction).to.equal('Adelie');
      await closing;
      expect(closed).to.equal(true);
      conn.end();
    });

    it('a body dribbled a byte at a time is answered 408 (or closed) within the request timeout', async () => {
      const server = await startServer({ refs: [ref], artifacts, port: 0, host: '127.0.0.1', timeouts: { requestTimeout: 1500, headersTimeout: 1000, keepAliveTimeout: 500 } });
      running.push(server);
      const port = Number(new URL(server.url).port);
      const conn = await RawConnection.open(port);
      const t0 = performance.now();
      conn.write(`POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      let sent = 0;
      const dribble = setInterval(() => {
        if (sent < body.length && !conn.socket.destroyed) conn.write(body.charAt(sent++));
      }, 100);
      try {
        const outcome = await conn.response().then(
          (r) => `status ${r.status}`,
          () => 'closed',
        );
        const ms = performance.now() - t0;
        console.log(`      dribbling client: ${outcome} after ${ms.toFixed(0)} ms (${sent} of ${body.length} bytes sent; request timeout 1500 ms)`);
        expect(outcome).to.be.oneOf(['status 408', 'closed']);
        expect(sent).to.be.below(body.length);
        // The timeout plus the checking interval, with room for a slow machine; Node's defaults took minutes.
        expect(ms).to.be.below(15_000);
      } finally {
        clearInterval(dribble);
        conn.end();
      }
    });

    it('refuses timeouts in the wrong order (keep-alive < headers ≤ request), naming the flags', async () => {
      let error: unknown;
      try {
        running.push(await startServer({ refs: [ref], artifacts, port: 0, host: '127.0.0.1', timeouts: { keepAliveTimeout: 70_000 } }));
      } catch (err) {
        error = err;
      }
      expect((error as Error).message).to.contain('--keep-alive-timeout (70000 ms) must be below --headers-timeout (66000 ms)');
    });

    it('drain: in-flight requests complete with Connection: close; the next request on an idle keep-alive socket gets 503 not_ready, not ECONNRESET', async () => {
      const server = await startServer({ refs: [ref], artifacts, port: 0, host: '127.0.0.1', shutdownTimeoutMs: 120_000 });
      running.push(server);
      const port = Number(new URL(server.url).port);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
      try {
        // Two requests at once: the agent opens two sockets and keeps both.
        const warm = await Promise.all([agentPost(agent, port, body).done, agentPost(agent, port, body).done]);
        for (const r of warm) {
          expect(r.status).to.equal(200);
          expect(r.headers.connection).to.equal('keep-alive');
        }
        const inFlight = [agentPost(agent, port, body, { slow: true }), agentPost(agent, port, body, { slow: true })];
        await Promise.all(inFlight.map((p) => p.started));
        const closing = server.close();
        for (const p of inFlight) p.finish();
        for (const r of await Promise.all(inFlight.map((p) => p.done))) {
          expect(r.status, r.body).to.equal(200);
          expect(r.headers.connection).to.equal('close');
          expect((JSON.parse(r.body) as { prediction: string }).prediction).to.equal('Adelie');
        }
        await closing;
      } finally {
        agent.destroy();
      }
    });

    it('drain: a request on an idle keep-alive socket while another is in flight gets 503 not_ready with Connection: close', async () => {
      const server = await startServer({ refs: [ref], artifacts, port: 0, host: '127.0.0.1', shutdownTimeoutMs: 120_000 });
      running.push(server);
      const port = Number(new URL(server.url).port);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await agentPost(agent, port, body).done;
        expect(first.status).to.equal(200);
        const { conn, finish } = await startPartialPost(port, '/predict', body);
        const closing = server.close();
        // The agent reuses its idle socket: answered, not reset.
        const again = await agentPost(agent, port, body).done;
        expect(again.status, again.body).to.equal(503);
        expect(again.headers.connection).to.equal('close');
        expect((JSON.parse(again.body) as { error: { code: string } }).error.code).to.equal('not_ready');
        finish();
        const res = await conn.response();
        expect(res.status, res.body).to.equal(200);
        expect(res.headers.connection).to.equal('close');
        await closing;
        conn.end();
      } finally {
        agent.destroy();
      }
    });

    it('rejects a tampered bundle with a VerificationError naming the file, before listening', async () => {
      let error: unknown;
      const listens = await countListens(async () => {
        try {
          running.push(await startServer({ refs: [ref], artifacts: tampered, port: 0, host: '127.0.0.1' }));
        } catch (err) {
          error = err;
        }
      });
      expect(error).to.be.instanceOf(VerificationError);
      const e = error as VerificationError;
      expect(e.file).to.equal('model.json');
      expect(e.message).to.contain(join(tampered, 'penguins', '1.0.0', 'model.json'));
      expect(e.message).to.match(/checksum mismatch/);
      expect(listens).to.equal(0);
    });

    it('rejects before listening when only a later bundle is bad', async () => {
      let error: unknown;
      const listens = await countListens(async () => {
        try {
          running.push(await startServer({ refs: [ref, join(tampered, 'penguins', '1.0.0')], artifacts, port: 0, host: '127.0.0.1' }));
        } catch (err) {
          error = err;
        }
      });
      expect(error).to.be.instanceOf(VerificationError);
      expect((error as VerificationError).file).to.equal('model.json');
      expect(listens).to.equal(0);
    });

    it('rejects an unknown bundle reference with a NotFoundError, before listening', async () => {
      let error: unknown;
      const listens = await countListens(async () => {
        try {
          running.push(await startServer({ refs: ['no-such-model'], artifacts, port: 0, host: '127.0.0.1' }));
        } catch (err) {
          error = err;
        }
      });
      expect(error).to.be.instanceOf(NotFoundError);
      expect((error as Error).message).to.contain('no-such-model');
      expect(listens).to.equal(0);
    });
  });

  describe('mlpipe serve (a real process)', () => {
    it('exits 1 with one stderr line naming the file when a bundle is tampered with', async () => {
      const run = await runCli(['serve', ref, '--port', '0', '--artifacts', tampered], { timeoutMs: 60_000 });
      expect(run.code, run.stderr).to.equal(1);
      expect(run.signal).to.equal(null);
      const lines = run.stderr.split('\n').filter((l) => l !== '');
      expect(lines, run.stderr).to.have.length(1);
      expect(lines[0]).to.match(/^mlpipe: /);
      expect(lines[0]).to.contain(join(tampered, 'penguins', '1.0.0', 'model.json'));
      expect(run.stderr).to.not.match(/\n\s+at /);
      expect(run.stdout).to.not.contain('listening');
    });

    it('serves, and on SIGTERM drains an in-flight request, then exits 0', async () => {
      const serve = spawnServe([ref, '--port', '0', '--artifacts', artifacts, '--shutdown-timeout', '120000']);
      const port = await serve.port();
      expect(serve.stdout).to.match(/^listening on http:\/\/127\.0\.0\.1:\d+\n$/);

      const { conn, finish } = await startPartialPost(port, '/predict', body);
      expect(serve.child.kill('SIGTERM')).to.equal(true);
      // The server has handled the signal (and stopped listening) before the rest of the body is sent.
      await serve.waitFor('stderr', /SIGTERM: draining/);
      expect(parseResponse(Buffer.from(conn.text, 'latin1'))).to.equal(undefined);
      finish();

      const res = await conn.response();
      expect(res.status, res.body).to.equal(200);
      const out = JSON.parse(res.body) as { prediction: string; probabilities: Record<string, number>; model: { name: string; version: string } };
      expect(out.prediction).to.equal('Adelie');
      expect(out.model).to.deep.equal({ name: 'penguins', version: '1.0.0' });
      expect(Object.values(out.probabilities).reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-9);

      const exit = await serve.exited;
      expect(exit, serve.stderr).to.deep.equal({ code: 0, signal: null });
      expect(serve.stderr).to.contain('stopped');
      conn.end();
    });

    it('on SIGTERM, a keep-alive client reusing its socket gets 503 not_ready (Connection: close), not ECONNRESET', async () => {
      const serve = spawnServe([ref, '--port', '0', '--artifacts', artifacts, '--shutdown-timeout', '120000']);
      const port = await serve.port();
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        expect((await agentPost(agent, port, body).done).status).to.equal(200);
        const { conn, finish } = await startPartialPost(port, '/predict', body);
        serve.child.kill('SIGTERM');
        await serve.waitFor('stderr', /SIGTERM: draining/);
        const again = await agentPost(agent, port, body).done;
        expect(again.status, again.body).to.equal(503);
        expect(again.headers.connection).to.equal('close');
        expect((JSON.parse(again.body) as { error: { code: string } }).error.code).to.equal('not_ready');
        finish();
        const res = await conn.response();
        expect(res.status, res.body).to.equal(200);
        expect(res.headers.connection).to.equal('close');
        expect(await serve.exited, serve.stderr).to.deep.equal({ code: 0, signal: null });
        conn.end();
      } finally {
        agent.destroy();
      }
    });

    it('refuses new connections after SIGTERM while in-flight requests finish', async () => {
      const serve = spawnServe([ref, '--port', '0', '--artifacts', artifacts, '--shutdown-timeout', '120000']);
      const port = await serve.port();
      const first = await startPartialPost(port, '/predict', body);
      const second = await startPartialPost(port, '/v1/models/penguins/predict', body);

      serve.child.kill('SIGTERM');
      await serve.waitFor('stderr', /SIGTERM: draining/);
      // Answering the first request proves the signal was handled (server.close() ran in that
      // handler); the second, still open, keeps the process alive while a new connection is tried.
      first.finish();
      const res1 = await first.conn.response();
      expect(res1.status, res1.body).to.equal(200);
      expect(serve.running).to.equal(true);

      expect(await connectError(port)).to.equal('ECONNREFUSED');

      second.finish();
      const res2 = await second.conn.response();
      expect(res2.status, res2.body).to.equal(200);
      expect((JSON.parse(res2.body) as { prediction: string }).prediction).to.equal('Adelie');

      expect(await serve.exited, serve.stderr).to.deep.equal({ code: 0, signal: null });
      first.conn.end();
      second.conn.end();
    });
  });
});
