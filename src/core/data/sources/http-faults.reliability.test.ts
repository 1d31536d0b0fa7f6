/**
 * Issue 11, faults of loading: `mlpipe load <url>` (a real process) against a local server that drops
 * the connection in the middle of the body, stalls (sends nothing for longer than --timeout) and
 * answers 500. A fault that clears within the retries is retried and the dataset is whole; one that
 * does not ends in a one-line message naming the URL and the problem, exit 1, no dataset and no
 * temporary file, in bounded time (never a hang, never a partial dataset).
 */
import { type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir } from 'node:fs/promises';
import { expect } from 'chai';
import { cleanupTempDirs, runCli, tempDir } from '../../../test-helpers/fixtures.js';
import { byScale, countReliability } from '../../../test-helpers/reliability.js';

const RECORDS = Array.from({ length: 300 }, (_, i) => ({ id: i, x: (i * 7) % 13, kind: ['a', 'b', 'c'][i % 3] }));
const BODY = JSON.stringify(RECORDS);
const TIMEOUT_MS = 1000;
const RETRIES = 2;

type Fault = 'drop' | 'stall' | 'error500';

/** A server whose path `/<fault>/<n>` fails the first n requests with that fault (n = always: every one). */
function faultyServer(): Promise<{ server: Server; url: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res: ServerResponse) => {
    const [, fault, times] = (req.url ?? '').split('/') as [string, Fault, string];
    const hit = (hits.get(req.url ?? '') ?? 0) + 1;
    hits.set(req.url ?? '', hit);
    const failing = times === 'always' || hit <= Number(times);
    if (!failing) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(BODY);
      return;
    }
    if (fault === 'error500') {
      res.writeHead(500, { 'content-type': 'text/plain', 'retry-after': '0' }).end('upstream database unavailable');
    } else if (fault === 'drop') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(BODY)) });
      res.write(BODY.slice(0, BODY.length / 2), () => res.socket?.destroy());
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(BODY.slice(0, 100)); // then nothing, until the client gives up
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits }));
  });
}

describe('reliability: an HTTP source that drops, stalls and answers 500', function () {
  this.timeout(byScale(240_000, 600_000));
  let server: Server;
  let url: string;
  let hits: Map<string, number>;
  before(async () => ({ server, url, hits } = await faultyServer()));
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await cleanupTempDirs();
  });

  const load = async (path: string) => {
    const dir = await tempDir('mlpipe-http-fault-');
    const started = Date.now();
    const run = await runCli(['load', `${url}${path}`, '--out', 'data.arrow', '--json', '--retries', String(RETRIES), '--timeout', String(TIMEOUT_MS)], { cwd: dir, env: { MLPIPE_DEV: '1' }, timeoutMs: 120_000 });
    return { run, dir, ms: Date.now() - started, files: await readdir(dir) };
  };

  const faults: Fault[] = ['drop', 'stall', 'error500'];
  for (const fault of faults) {
    it(`${fault}: retried, the dataset is whole when the fault clears within the retries`, async () => {
      const { run, files } = await load(`/${fault}/${RETRIES}`);
      expect(run.code, run.stderr).to.equal(0);
      expect((JSON.parse(run.stdout) as { rows: number }).rows).to.equal(RECORDS.length);
      expect(hits.get(`/${fault}/${RETRIES}`)).to.equal(RETRIES + 1);
      expect(files).to.deep.equal(['data.arrow']);
      countReliability('http source faults', { cases: 1, passed: 1, restarts: RETRIES });
    });

    it(`${fault}: when it never clears, one line naming the URL and the problem, exit 1, nothing written, no hang`, async () => {
      const { run, files, ms } = await load(`/${fault}/always`);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.signal).to.equal(null);
      const message = run.stderr.trim().split('\n').filter((l) => !/Warning|DeprecationWarning|trace-warnings/.test(l));
      expect(message, run.stderr).to.have.length(1);
      expect(message[0]).to.contain(`${url}/${fault}/always`);
      expect(message[0]).to.match(fault === 'error500' ? /HTTP 500/ : fault === 'stall' ? new RegExp(`timed out after ${TIMEOUT_MS} ms`) : /network error|terminated|closed|reset|socket/i);
      expect(message[0]).to.not.match(/\n\s+at /);
      expect(hits.get(`/${fault}/always`)).to.equal(RETRIES + 1);
      expect(files, 'a partial dataset or temporary file').to.deep.equal([]);
      // Bounded: the tries, their timeouts and backoff (0.5 s, 1 s), with room for a slow machine.
      expect(ms).to.be.below(60_000);
      countReliability('http source faults', { cases: 1, passed: 1, restarts: RETRIES });
    });
  }
});
