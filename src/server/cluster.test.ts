import http from 'node:http';
import { expect } from 'chai';
import { buildExampleBundle, cleanupTempDirs, exampleRecords, tempDir } from '../test-helpers/fixtures.js';
import { type ServeProcess, startServeProcess } from '../test-helpers/serve.js';

/** One request on a fresh connection (no keep-alive: the cluster may hand it to any worker). */
function request(port: number, method: string, path: string, body?: string): Promise<{ status: number; worker: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, worker: res.headers['mlpipe-worker'] as string | undefined, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Worker ids seen answering /healthz over up to `tries` fresh connections, until `want` distinct ones. */
async function workersSeen(port: number, want: number, tries = 300): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < tries && seen.size < want; i++) {
    const r = await request(port, 'GET', '/healthz');
    expect(r.status).to.equal(200);
    if (r.worker) seen.add(r.worker);
  }
  return seen;
}

describe('mlpipe serve --workers 2 (node:cluster, real process)', function () {
  this.timeout(90_000);
  let artifacts: string;
  let ref: string;
  let record: Record<string, unknown>;
  const procs: ServeProcess[] = [];

  before(async () => {
    artifacts = await tempDir();
    ref = (await buildExampleBundle({ artifacts, example: 'penguins' })).package.ref;
    const { Species: _target, ...r } = (await exampleRecords('penguins'))[0] as Record<string, unknown>;
    record = r;
  });

  after(async () => {
    for (const p of procs) if (p.running) p.child.kill('SIGKILL');
    await cleanupTempDirs();
  });

  it('both workers answer on one port, "listening on" printed once; a killed worker is restarted; SIGTERM drains a batch in flight and exits 0', async () => {
    const serve = startServeProcess([ref, '--artifacts', artifacts, '--port', '0', '--workers', '2', '--rate-limit', '0', '--batch-rate-limit', '0']);
    procs.push(serve);
    const port = await serve.port();
    const pids = (await serve.waitFor('stderr', /2 workers \(pids (\d+), (\d+)\)/)).slice(1).map(Number);
    expect(pids[0]).to.not.equal(pids[1]);
    expect(serve.stdout.match(/listening on/g)).to.have.length(1);
    // The bundle is described once, not once per worker (logs are asynchronous: wait for the line).
    await serve.waitFor('stderr', /serving penguins@/);
    expect(serve.stderr.match(/serving penguins@/g)).to.have.length(1);

    const predicted = await request(port, 'POST', '/predict', JSON.stringify(record));
    expect(predicted.status, predicted.text).to.equal(200);
    expect(JSON.parse(predicted.text)).to.have.property('prediction').that.is.a('string');
    expect([...(await workersSeen(port, 2))]).to.have.length(2);

    // A worker that dies is replaced; the server answers on, from two workers again.
    process.kill(pids[0] as number, 'SIGKILL');
    await serve.waitFor('stderr', /worker \d \(pid \d+\) was killed by SIGKILL; restarting it/);
    await serve.waitFor('stderr', /worker \d \(pid \d+\) listening again/);
    const after = await workersSeen(port, 2);
    expect(after.size).to.equal(2);
    expect(serve.running).to.equal(true);

    // SIGTERM while a 5,000-row batch is in flight: it is answered, then every process exits 0.
    const records = Array.from({ length: 5000 }, () => record);
    const inFlight = request(port, 'POST', '/predict/batch', JSON.stringify({ records }));
    await new Promise((resolve) => setTimeout(resolve, 30));
    serve.child.kill('SIGTERM');
    const batch = await inFlight;
    expect(batch.status, batch.text.slice(0, 200)).to.equal(200);
    expect((JSON.parse(batch.text) as { predictions: unknown[] }).predictions).to.have.length(5000);
    const exit = await serve.exited;
    expect(exit, serve.stderr).to.deep.equal({ code: 0, signal: null });
    expect(serve.stderr).to.contain('SIGTERM: draining every worker');
    for (const pid of pids.slice(1)) expect(() => process.kill(pid, 0)).to.throw();
  });

  it('/metrics is the whole server: whichever worker is scraped counts every worker\'s requests', async () => {
    const serve = startServeProcess([ref, '--artifacts', artifacts, '--port', '0', '--workers', '2', '--rate-limit', '0']);
    procs.push(serve);
    const port = await serve.port();
    expect([...(await workersSeen(port, 2))]).to.have.length(2);
    const answeredBy = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await request(port, 'POST', '/predict', JSON.stringify(record));
      expect(r.status).to.equal(200);
      if (r.worker) answeredBy.add(r.worker);
    }
    expect(answeredBy.size, 'both workers answered predictions').to.equal(2);
    for (let i = 0; i < 6; i++) {
      const scrape = await request(port, 'GET', '/metrics');
      expect(scrape.status).to.equal(200);
      const line = (name: string) => scrape.text.split('\n').find((l) => l.startsWith(name)) ?? '';
      expect(line('mlpipe_http_requests_total{method="POST",route="/predict",model="penguins"'), scrape.text.slice(0, 400)).to.match(/ 12$/);
      expect(line('mlpipe_model_info{')).to.match(/^mlpipe_model_info\{model="penguins",version="[^"]+"\} 1$/);
    }
    serve.child.kill('SIGTERM');
    expect((await serve.exited).code).to.equal(0);
  });

  it('a bundle that fails to load stops every worker and the primary with exit 1 and the reason', async () => {
    const serve = startServeProcess(['no-such-bundle', '--artifacts', artifacts, '--port', '0', '--workers', '2']);
    procs.push(serve);
    const exit = await serve.exited;
    expect(exit.code).to.equal(1);
    expect(serve.stderr).to.match(/no-such-bundle/);
    expect(serve.stderr).to.contain('before listening; stopping');
    expect(serve.stdout).to.not.contain('listening on');
  });
});
