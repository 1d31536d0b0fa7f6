import { Writable } from 'node:stream';
import { expect } from 'chai';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import { buildExampleBundle, cleanupTempDirs, exampleRecords, tempDir } from '../test-helpers/fixtures.js';
import { startServeProcess } from '../test-helpers/serve.js';
import { createLogger } from './logging.js';
import { DRIFT_MAX_PENDING, DRIFT_SLICE_RECORDS, ServerMetrics } from './metrics.js';
import { type RunningServer, type StartOptions, startServer } from './start.js';

/** One sample of Prometheus's text format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A sample line: name, optional {label="value",…} (escaped \\ \" \n), one space, a number. */
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (-?[0-9][0-9.e+-]*|NaN|\+Inf|-Inf)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;

/** Parses a scrape strictly: every line is a comment (# HELP / # TYPE), empty, or a sample. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue;
    const m = SAMPLE_LINE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    samples.push({ name: m[1]!, labels, value: m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]) });
  }
  return samples;
}

/** The samples named `name` whose labels include `labels`. */
function matching(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample named `name` with `labels` (fails when there is none, or several). */
function one(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = matching(samples, name, labels);
  expect(found, `${name}${JSON.stringify(labels)}`).to.have.length(1);
  return found[0]!.value;
}

const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}) => matching(samples, name, labels).reduce((a, s) => a + s.value, 0);

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** A logger writing into a string, and the JSON lines written so far. */
function capturedLogger() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return {
    logger: createLogger({ stream }),
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

interface FieldDrift {
  field: string;
  psi: number | null;
  drift: string | null;
  live: { count: number; missingRate: number; unknownRate?: number | null; mean?: number };
  training: { missingRate: number };
}

interface DriftAnswer {
  model: { name: string; version: string };
  records: number;
  since: string;
  fields: FieldDrift[];
}

describe('what operators see: GET /metrics, request logs, input drift', function () {
  this.timeout(60_000);
  let artifacts: string;
  let rows: Record<string, unknown>[];
  const running: RunningServer[] = [];

  async function start(options: Partial<StartOptions> = {}): Promise<RunningServer> {
    const r = await startServer({ refs: ['penguins'], artifacts, port: 0, host: '127.0.0.1', ...options });
    running.push(r);
    return r;
  }

  before(async () => {
    artifacts = await tempDir();
    await buildExampleBundle({ artifacts, example: 'penguins', trees: 3 });
    rows = (await exampleRecords('penguins')).map(({ Species: _target, ...rest }) => rest);
  });

  after(async () => {
    await Promise.all(running.map((r) => r.close()));
    await cleanupTempDirs();
  });

  describe('after real traffic', () => {
    let server: RunningServer;
    let log: ReturnType<typeof capturedLogger>;
    let samples: Sample[];
    const sent: { id: string | null; returned: string | null }[] = [];

    before(async () => {
      log = capturedLogger();
      server = await start({ batchRateLimit: 2, logger: log.logger });
      const u = server.url;
      const record = rows[0]!;
      for (let i = 0; i < 3; i++) expect((await post(`${u}/v1/models/penguins/predict`, rows[i])).status).to.equal(200);
      expect((await post(`${u}/v1/models/penguins/predict`, { Island: 3 })).status).to.equal(400);
      expect((await post(`${u}/v1/models/nobody/predict`, record)).status).to.equal(404);
      expect((await fetch(`${u}/no/such/path?x=1`)).status).to.equal(404);
      expect((await fetch(`${u}/v1/models/penguins/predict`)).status).to.equal(405);
      expect((await post(`${u}/v1/models/penguins/predict/batch`, { records: rows.slice(0, 4) })).status).to.equal(200);
      expect((await post(`${u}/predict/batch`, { records: rows.slice(4, 8) })).status).to.equal(200);
      expect((await post(`${u}/predict/batch`, { records: rows.slice(8, 12) })).status).to.equal(429);
      for (const id of ['trace-42.a:b', 'has spaces', 'x'.repeat(129), null]) {
        const res = await fetch(`${u}/healthz`, { headers: id === null ? {} : { 'X-Request-Id': id } });
        sent.push({ id, returned: res.headers.get('x-request-id') });
      }
      // Secrets in every place a client could put one: none may reach a log line or a metric.
      const secretRes = await post(`${u}/predict?api_key=sk-SECRET-query`, { ...record, Island: 'sk-SECRET-body' }, { Authorization: 'Bearer sk-SECRET-bearer', 'X-API-Key': 'sk-SECRET-header' });
      expect(secretRes.status).to.equal(200);
      samples = await scrape(u);
    });

    it('counts requests by method, route pattern, model, version and status', () => {
      const predict = { method: 'POST', route: '/v1/models/:name/predict' };
      expect(one(samples, 'mlpipe_http_requests_total', { ...predict, model: 'penguins', version: '1.0.0', status: '200' })).to.equal(3);
      expect(one(samples, 'mlpipe_http_requests_total', { ...predict, model: 'penguins', version: '1.0.0', status: '400' })).to.equal(1);
      expect(one(samples, 'mlpipe_http_requests_total', { ...predict, model: '', version: '', status: '404' })).to.equal(1);
      expect(one(samples, 'mlpipe_http_requests_total', { method: 'GET', route: '/v1/models/:name/predict', status: '405' })).to.equal(1);
      expect(one(samples, 'mlpipe_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).to.equal(1);
      expect(one(samples, 'mlpipe_http_requests_total', { route: '/v1/models/:name/predict/batch', status: '200' })).to.equal(1);
      expect(one(samples, 'mlpipe_http_requests_total', { route: '/predict/batch', status: '200', model: 'penguins' })).to.equal(1);
      expect(one(samples, 'mlpipe_http_requests_total', { route: '/predict/batch', status: '429', model: '' })).to.equal(1);
      expect(one(samples, 'mlpipe_http_requests_total', { route: '/healthz', status: '200' })).to.equal(4);
      // No raw URL is ever a label value.
      for (const s of matching(samples, 'mlpipe_http_requests_total')) expect(s.labels.route).to.not.match(/nobody|no\/such|\?/);
      expect(one(samples, 'mlpipe_http_request_duration_seconds_count', { ...predict, model: 'penguins', status: '200' })).to.equal(3);
      expect(one(samples, 'mlpipe_http_request_duration_seconds_bucket', { ...predict, model: 'penguins', status: '200', le: '+Inf' })).to.equal(3);
      expect(one(samples, 'mlpipe_http_request_duration_seconds_sum', { ...predict, model: 'penguins', status: '200' })).to.be.above(0);
    });

    it('counts predictions by class, batch sizes, and rejections by reason', () => {
      // 3 single + 4 + 4 batch + 1 with secrets = 12 records predicted.
      expect(sum(samples, 'mlpipe_predictions_total', { model: 'penguins', version: '1.0.0' })).to.equal(12);
      const classes = matching(samples, 'mlpipe_predictions_total').map((s) => s.labels.class);
      for (const c of classes) expect(['Adelie', 'Chinstrap', 'Gentoo']).to.include(c);
      expect(one(samples, 'mlpipe_prediction_batch_records_count', { model: 'penguins' })).to.equal(6);
      expect(one(samples, 'mlpipe_prediction_batch_records_sum', { model: 'penguins' })).to.equal(12);
      expect(one(samples, 'mlpipe_prediction_batch_records_bucket', { model: 'penguins', le: '1' })).to.equal(4);
      expect(one(samples, 'mlpipe_rejections_total', { reason: 'validation' })).to.equal(1);
      expect(one(samples, 'mlpipe_rejections_total', { reason: 'not_found' })).to.equal(2);
      expect(one(samples, 'mlpipe_rejections_total', { reason: 'method_not_allowed' })).to.equal(1);
      expect(one(samples, 'mlpipe_rejections_total', { reason: 'rate_limit' })).to.equal(1);
    });

    it('shows the version served, its load time, the process metrics and event-loop lag, all prefixed mlpipe_', () => {
      expect(one(samples, 'mlpipe_model_info', { model: 'penguins', version: '1.0.0' })).to.equal(1);
      expect(one(samples, 'mlpipe_model_load_duration_seconds', { model: 'penguins', version: '1.0.0' })).to.be.above(0).and.below(60);
      expect(one(samples, 'mlpipe_nodejs_eventloop_lag_seconds')).to.be.at.least(0);
      expect(one(samples, 'mlpipe_process_cpu_user_seconds_total')).to.be.above(0);
      expect(one(samples, 'mlpipe_process_resident_memory_bytes')).to.be.above(0);
      for (const s of samples) expect(s.name.startsWith('mlpipe_'), s.name).to.equal(true);
    });

    it('shows input drift gauges per model, version and field', () => {
      const labels = { model: 'penguins', version: '1.0.0' };
      expect(matching(samples, 'mlpipe_input_psi', labels).map((s) => s.labels.field)).to.have.members(['Island', 'Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)', 'Sex']);
      expect(one(samples, 'mlpipe_input_missing_ratio', { ...labels, field: 'Island' })).to.equal(0);
      // One record of 12 had an Island the featurizer never saw ("sk-SECRET-body").
      expect(one(samples, 'mlpipe_input_unknown_category_ratio', { ...labels, field: 'Island' })).to.be.closeTo(1 / 12, 1e-12);
    });

    it('logs one JSON line per request with id, route, model, version, status, duration and client', () => {
      const requests = log.lines().filter((l) => l.msg === 'request');
      // 3 + 1 + 1 + 1 + 1 + 2 + 1 (429) + 4 health + 1 with secrets; the scrape logs once its answer is sent.
      expect(requests.length).to.be.within(15, 16);
      const ok = requests.find((l) => l.route === '/v1/models/:name/predict' && l.status === 200)!;
      expect(ok).to.include({ method: 'POST', model: 'penguins', version: '1.0.0', client: '127.0.0.1', level: 30 });
      expect(ok.reqId).to.match(/^[0-9a-f-]{36}$/);
      expect(ok.durationMs).to.be.a('number').above(0);
      expect(ok.time).to.match(/^\d{4}-\d\d-\d\dT/);
      expect(requests.find((l) => l.status === 429)).to.include({ route: '/predict/batch', error: 'rate_limited' });
      expect(requests.find((l) => l.route === 'unmatched')).to.include({ status: 404, error: 'not_found' });
      expect(requests.every((l) => !('url' in l) && !('headers' in l) && !('body' in l))).to.equal(true);
    });

    it('accepts a sane X-Request-Id, replaces any other, and always returns it', () => {
      const [sane, spaces, long, none] = sent;
      expect(sane!.returned).to.equal('trace-42.a:b');
      for (const r of [spaces!, long!, none!]) expect(r.returned).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const ids = log.lines().filter((l) => l.route === '/healthz').map((l) => l.reqId);
      expect(ids).to.deep.equal(sent.map((s) => s.returned));
    });

    it('never logs or labels a body, a query string, an Authorization or X-API-Key header', async () => {
      expect(log.text()).to.not.contain('SECRET');
      expect(log.text()).to.not.contain('api_key');
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).to.not.contain('SECRET');
    });

    it('answers /metrics without a body or key, and 405 with Allow for other methods', async () => {
      const res = await fetch(`${server.url}/metrics`, { method: 'POST' });
      expect(res.status).to.equal(405);
      expect(res.headers.get('allow')).to.equal('GET, HEAD');
    });
  });

  describe('GET /v1/models/:name/drift', () => {
    async function driftAfter(records: Record<string, unknown>[]): Promise<{ drift: DriftAnswer; samples: Sample[] }> {
      const server = await start();
      for (let i = 0; i < records.length; i += 100) {
        const res = await post(`${server.url}/v1/models/penguins/predict/batch`, { records: records.slice(i, i + 100) });
        expect(res.status, await res.clone().text()).to.equal(200);
      }
      const res = await fetch(`${server.url}/v1/models/penguins/drift`);
      expect(res.status).to.equal(200);
      return { drift: (await res.json()) as DriftAnswer, samples: await scrape(server.url) };
    }
    const fieldOf = (d: DriftAnswer, name: string) => d.fields.find((f) => f.field === name)!;

    it('stays near 0 for inputs like the training data, with missing values counted', async () => {
      const { drift, samples } = await driftAfter(rows);
      expect(drift.model).to.deep.equal({ name: 'penguins', version: '1.0.0' });
      expect(drift.records).to.equal(rows.length);
      for (const f of drift.fields) {
        expect(f.psi, f.field).to.be.a('number').below(0.1);
        expect(f.drift, f.field).to.equal('none');
      }
      // The penguins table has 2 rows without a beak length and 10 without a sex.
      expect(fieldOf(drift, 'Beak Length (mm)').live.missingRate).to.be.closeTo(2 / 344, 1e-6);
      expect(fieldOf(drift, 'Sex').live.missingRate).to.be.closeTo(10 / 344, 1e-6);
      expect(fieldOf(drift, 'Island').live.unknownRate).to.equal(0);
      // This server's registry is its own: none of the traffic of the other servers of this file.
      expect(sum(samples, 'mlpipe_predictions_total')).to.equal(rows.length);
    });

    it('rises above 0.25 for a shifted field, counts unknown categories, and shows on /metrics', async () => {
      const shifted = rows.map((r, i) => ({
        ...r,
        'Body Mass (g)': typeof r['Body Mass (g)'] === 'number' ? Math.round((r['Body Mass (g)'] as number) * 1.4) : null,
        ...(i % 10 === 0 ? { Island: 'Atlantis' } : {}),
      }));
      const { drift, samples } = await driftAfter(shifted);
      const mass = fieldOf(drift, 'Body Mass (g)');
      expect(mass.psi).to.be.above(0.25);
      expect(mass.drift).to.equal('major');
      expect(mass.live.mean).to.be.above(5500);
      expect(fieldOf(drift, 'Beak Length (mm)').psi).to.be.below(0.1);
      expect(fieldOf(drift, 'Island').live.unknownRate).to.be.closeTo(35 / 344, 1e-6);
      expect(one(samples, 'mlpipe_input_psi', { model: 'penguins', version: '1.0.0', field: 'Body Mass (g)' })).to.be.above(0.25);
      expect(one(samples, 'mlpipe_input_unknown_category_ratio', { field: 'Island' })).to.be.closeTo(35 / 344, 1e-9);
    });

    it('answers 404 naming the served models for an unknown one, 405 for another method', async () => {
      const server = running[running.length - 1]!;
      const missing = await fetch(`${server.url}/v1/models/nobody/drift`);
      expect(missing.status).to.equal(404);
      expect(((await missing.json()) as { error: { message: string } }).error.message).to.contain('served: penguins');
      const wrong = await fetch(`${server.url}/v1/models/penguins/drift`, { method: 'DELETE' });
      expect(wrong.status).to.equal(405);
    });
  });

  describe('versions going live (ServerMetrics as the telemetry of a hot swap)', () => {
    it('keeps one mlpipe_model_info series per name, resets drift for the new version, counts failures and store errors', async () => {
      await buildExampleBundle({ artifacts, example: 'penguins', trees: 3, version: '1.0.1' });
      const v1 = await loadPredictor('penguins@1.0.0', artifacts);
      const v2 = await loadPredictor('penguins@1.0.1', artifacts);
      const metrics = new ServerMetrics({ processMetrics: false });
      metrics.modelLoaded(v1, 0.5);
      metrics.predicted(v1, rows.slice(0, 10), v1.predictMany(rows.slice(0, 10)));
      let samples = parseMetrics(await metrics.text());
      expect(one(samples, 'mlpipe_model_info', { model: 'penguins' })).to.equal(1);
      expect(matching(samples, 'mlpipe_input_psi', { version: '1.0.0' })).to.have.length(6);

      metrics.modelLoaded(v2, 0.25);
      // A request that began on 1.0.0 and ends after the swap: counted, but feeds no drift of a version gone.
      metrics.predicted(v1, rows.slice(0, 5), v1.predictMany(rows.slice(0, 5)));
      metrics.modelLoadFailed('penguins', 'checksum mismatch in model.bin');
      metrics.limitStoreError('connect ECONNREFUSED', true);
      samples = parseMetrics(await metrics.text());
      expect(matching(samples, 'mlpipe_model_info').map((s) => s.labels)).to.deep.equal([{ model: 'penguins', version: '1.0.1' }]);
      expect(matching(samples, 'mlpipe_model_load_duration_seconds').map((s) => [s.labels.version, s.value])).to.deep.equal([['1.0.1', 0.25]]);
      expect(matching(samples, 'mlpipe_input_psi')).to.have.length(0);
      expect(metrics.driftOf(v2)?.records).to.equal(0);
      expect(metrics.driftOf(v1)).to.equal(undefined);
      expect(one(samples, 'mlpipe_model_load_failures_total', { model: 'penguins' })).to.equal(1);
      expect(one(samples, 'mlpipe_limit_store_errors_total', { outcome: 'open' })).to.equal(1);
      expect(sum(samples, 'mlpipe_predictions_total', { version: '1.0.0' })).to.equal(15);
    });
  });

  describe('a big batch', () => {
    it('has its inputs counted a slice per turn of the event loop, all of them before any read; past the backlog cap, skipped', async () => {
      const model = await loadPredictor('penguins@1.0.0', artifacts);
      const metrics = new ServerMetrics({ processMetrics: false });
      metrics.modelLoaded(model, 0.1);
      const records = Array.from({ length: 4 * DRIFT_SLICE_RECORDS + 7 }, (_, i) => rows[i % rows.length]!);
      const predictions = model.predictMany(records);
      const counted = () => (metrics as unknown as { drifts: Map<string, { drift: { records: number } }> }).drifts.get(model.ref)!.drift.records;
      metrics.predicted(model, records, predictions);
      // Nothing counted yet: the answer goes out first.
      expect(counted()).to.equal(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(counted()).to.equal(DRIFT_SLICE_RECORDS);
      // A read counts what is still pending.
      expect(metrics.driftOf(model)!.records).to.equal(records.length);
      expect(sum(parseMetrics(await metrics.text()), 'mlpipe_predictions_total')).to.equal(records.length);

      const flood = new Array<unknown>(DRIFT_MAX_PENDING + 1).fill(rows[0]);
      metrics.predicted(model, flood, new Array(flood.length).fill(predictions[0]));
      const report = metrics.driftOf(model)!.report();
      expect(report.records).to.equal(records.length);
      expect(report.skipped).to.equal(flood.length);
    });
  });

  describe('mlpipe serve (a real process)', () => {
    it('prints only the "listening on" line on stdout, and JSON log lines on stderr', async () => {
      const serve = startServeProcess(['penguins@1.0.0', '--port', '0', '--artifacts', artifacts]);
      try {
        const port = await serve.port();
        expect((await post(`http://127.0.0.1:${port}/predict`, rows[0], { 'X-Request-Id': 'cli-1' })).status).to.equal(200);
        await serve.waitFor('stderr', /"reqId":"cli-1"/);
        serve.child.kill('SIGTERM');
        expect((await serve.exited).code, serve.stderr).to.equal(0);
        expect(serve.stdout).to.equal(`listening on http://127.0.0.1:${port}\n`);
        const lines = serve.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(lines.map((l) => l.msg)).to.deep.equal(['serving penguins@1.0.0 (classification, predicts Species)', 'request', 'SIGTERM: draining in-flight requests, then exiting', 'stopped']);
        expect(lines[1]).to.include({ reqId: 'cli-1', route: '/predict', model: 'penguins', version: '1.0.0', status: 200 });
      } finally {
        serve.child.kill('SIGKILL');
      }
    });

    it('MLPIPE_LOG_FORMAT=pretty prints readable lines for a terminal', async () => {
      const serve = startServeProcess(['penguins@1.0.0', '--port', '0', '--artifacts', artifacts], { env: { MLPIPE_LOG_FORMAT: 'pretty' } });
      try {
        const port = await serve.port();
        expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).to.equal(200);
        await serve.waitFor('stderr', /request/);
        serve.child.kill('SIGTERM');
        expect((await serve.exited).code, serve.stderr).to.equal(0);
        expect(serve.stderr).to.match(/INFO.*: serving penguins@1\.0\.0/);
        expect(serve.stderr).to.match(/route: "\/healthz"/);
        expect(serve.stderr.split('\n')[0]!.startsWith('{')).to.equal(false);
      } finally {
        serve.child.kill('SIGKILL');
      }
    });

    it('refuses an unknown --log-format with a usage error naming the choices', async () => {
      const serve = startServeProcess(['penguins@1.0.0', '--port', '0', '--artifacts', artifacts, '--log-format', 'xml']);
      const exit = await serve.exited;
      expect(exit.code).to.equal(2);
      expect(serve.stderr).to.contain('json, pretty');
    });
  });
});
