import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { readTrainingProfile } from '../core/predictor/drift-profile.js';
import { InputDrift } from '../core/predictor/drift.js';
import type { Prediction, Predictor } from '../core/predictor/predictor.js';
import type { RequestObserver } from './request-info.js';
import type { Telemetry } from './telemetry.js';

/** Every metric name starts with this (Prometheus's convention of a namespace per program). */
const METRICS_PREFIX = 'mlpipe_';

/**
 * Live input statistics are counted this many records at a time, a turn of the event loop between
 * slices, so that a 10,000-record batch never blocks the server while its inputs are counted.
 */
export const DRIFT_SLICE_RECORDS = 500;
/** Records waiting to be counted, at most; past it, records are skipped (and counted as skipped). */
export const DRIFT_MAX_PENDING = 20_000;

/** A classifier with more classes than this counts its predictions without a `class` label (bounded label values). */
const MAX_CLASS_LABELS = 100;

/**
 * Rejection reasons (`mlpipe_rejections_total{reason}`) by error code (`res.locals.errorCode`, see
 * telemetry.ts). A code not listed here is its own reason (codes are the server's, a bounded set).
 */
const REASONS: Readonly<Record<string, string>> = {
  rate_limited: 'rate_limit',
  unauthorized: 'auth',
  forbidden: 'auth',
  invalid_input: 'validation',
  invalid_json: 'validation',
  data_error: 'validation',
  bad_request: 'validation',
  usage: 'validation',
  invalid_config: 'validation',
  overloaded: 'overload',
  timeout: 'timeout',
  payload_too_large: 'too_large',
  unsupported_media_type: 'media_type',
};

/** The rejection reason of an error code; undefined for a server error (500: not a rejection). */
function rejectionReason(code: string, status: number): string | undefined {
  if (status >= 500 && status !== 503) return undefined;
  return Object.hasOwn(REASONS, code) ? REASONS[code] : /^[a-z][a-z0-9_]{0,39}$/.test(code) ? code : 'other';
}

/** Options of {@link ServerMetrics}. */
export interface ServerMetricsOptions {
  /**
   * Also collect the process's metrics (CPU, memory, event-loop lag, GC, handles; prom-client's
   * defaults, prefixed `mlpipe_`). On by default; the server's start file keeps it on, and an app made
   * by createApp without metrics turns it off (they describe the process, not one app).
   */
  processMetrics?: boolean;
}

/**
 * The server's Prometheus metrics, in a registry of their own (never prom-client's global one: many
 * apps may run in one process), and the live input statistics (drift) of every served version.
 * It is the server's {@link Telemetry}: routes report predictions and loads here, and
 * {@link observeRequest} reads every response (route pattern, model, version, status, error code).
 */
export class ServerMetrics implements Telemetry {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'model' | 'version' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'model' | 'version' | 'status'>;
  private readonly predictions: Counter<'model' | 'version' | 'class'>;
  private readonly batchRecords: Histogram<'model' | 'version'>;
  private readonly rejections: Counter<'reason'>;
  private readonly modelInfo: Gauge<'model' | 'version'>;
  private readonly loadSeconds: Gauge<'model' | 'version'>;
  private readonly loadFailures: Counter<'model'>;
  private readonly limitStoreErrors: Counter<'outcome'>;
  /** The version live under each name, as {@link modelLoaded} was told (absent: models never reported loaded). */
  private readonly live = new Map<string, string>();
  /** Live input statistics by `name@version`: only versions being served. */
  private readonly drifts = new Map<string, { model: Predictor; drift: InputDrift }>();
  /** Batches whose inputs are still to be counted, in arrival order, and how far each is. */
  private readonly pending: { drift: InputDrift; records: readonly unknown[]; at: number }[] = [];
  private pendingRecords = 0;
  private draining = false;

  constructor(options: ServerMetricsOptions = {}) {
    const registers = [this.registry];
    const p = METRICS_PREFIX;
    const requestLabels = ['method', 'route', 'model', 'version', 'status'] as const;
    this.requests = new Counter({ name: `${p}http_requests_total`, help: 'HTTP requests answered, by method, route pattern, model, version and status (499: the client closed the connection first)', labelNames: requestLabels, registers });
    this.duration = new Histogram({
      name: `${p}http_request_duration_seconds`,
      help: 'Time from a request reaching the app to its answer being sent, by method, route pattern, model, version and status',
      labelNames: requestLabels,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.predictions = new Counter({ name: `${p}predictions_total`, help: 'Records predicted, by model, version and predicted class (empty for regression)', labelNames: ['model', 'version', 'class'], registers });
    this.batchRecords = new Histogram({ name: `${p}prediction_batch_records`, help: 'Records per prediction call (1 for single-record routes)', labelNames: ['model', 'version'], buckets: [1, 10, 100, 1000, 10_000, 100_000], registers });
    this.rejections = new Counter({ name: `${p}rejections_total`, help: 'Requests refused, by reason (rate_limit, auth, validation, overload, timeout, too_large, media_type, not_found, method_not_allowed, not_ready, …)', labelNames: ['reason'], registers });
    // `aggregator`: how `serve --workers N` combines the workers' values (cluster-metrics.ts); counters and histograms are summed.
    this.modelInfo = new Gauge({ name: `${p}model_info`, help: 'The version served under each model name (always 1)', labelNames: ['model', 'version'], registers, aggregator: 'max' });
    this.loadSeconds = new Gauge({ name: `${p}model_load_duration_seconds`, help: 'How long the served version took to load and verify', labelNames: ['model', 'version'], registers, aggregator: 'max' });
    this.loadFailures = new Counter({ name: `${p}model_load_failures_total`, help: 'New versions that failed to load (the previous version kept serving), by model', labelNames: ['model'], registers });
    this.limitStoreErrors = new Counter({ name: `${p}limit_store_errors_total`, help: 'Failures of the shared rate-limit store, by outcome (open: the request was let through; closed: refused)', labelNames: ['outcome'], registers });
    const drifts = this.drifts;
    const countPending = () => this.countAllPending();
    const driftGauge = (name: string, help: string, pick: (g: ReturnType<InputDrift['gauges']>[number]) => number | null) =>
      new Gauge({
        name: `${p}${name}`,
        help,
        labelNames: ['model', 'version', 'field'],
        registers,
        aggregator: 'average',
        // Computed when scraped, from the versions being served: a replaced version's series disappear.
        collect(this: Gauge<'model' | 'version' | 'field'>) {
          // Records still waiting to be counted are counted first (a cluster primary's gathering reads here).
          countPending();
          this.reset();
          for (const { model, drift } of drifts.values()) {
            for (const g of drift.gauges()) {
              const v = pick(g);
              if (v !== null) this.set({ model: model.name, version: model.version, field: g.field }, v);
            }
          }
        },
      });
    driftGauge('input_psi', 'Population stability index of each input field, live inputs against the training profile (> 0.25: major drift)', (g) => g.psi);
    driftGauge('input_missing_ratio', 'Share of live records without a value in the field', (g) => g.missingRate);
    driftGauge('input_unknown_category_ratio', "Share of a category field's live values that the featurizer did not see in training", (g) => g.unknownRate);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  /** The Content-Type of {@link text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in Prometheus's text format. */
  text(): Promise<string> {
    this.countAllPending();
    return this.registry.metrics();
  }

  predicted(model: Predictor, records: readonly unknown[], predictions: readonly Prediction[]): void {
    const labels = { model: model.name, version: model.version };
    this.batchRecords.observe(labels, records.length);
    if (model.manifest.task === 'classification' && model.forest.classes.length <= MAX_CLASS_LABELS) {
      const counts = new Map<string, number>();
      for (const p of predictions) {
        const c = String(p.prediction);
        counts.set(c, (counts.get(c) ?? 0) + 1);
      }
      for (const [c, n] of counts) this.predictions.inc({ ...labels, class: c }, n);
    } else if (predictions.length > 0) {
      this.predictions.inc({ ...labels, class: '' }, predictions.length);
    }
    // Observing never fails a prediction: a model whose profile cannot be read has no drift.
    let drift: InputDrift | undefined;
    try {
      drift = this.currentDrift(model);
    } catch {
      drift = undefined;
    }
    if (drift) this.observeInputs(drift, records);
  }

  /** Counts small batches at once, bigger ones a slice per turn of the event loop (see {@link DRIFT_SLICE_RECORDS}). */
  private observeInputs(drift: InputDrift, records: readonly unknown[]): void {
    if (records.length <= DRIFT_SLICE_RECORDS && this.pending.length === 0) {
      drift.observe(records);
      return;
    }
    if (this.pendingRecords + records.length > DRIFT_MAX_PENDING) {
      drift.skip(records.length);
      return;
    }
    this.pending.push({ drift, records, at: 0 });
    this.pendingRecords += records.length;
    if (!this.draining) {
      this.draining = true;
      setImmediate(this.drainSlice);
    }
  }

  /** Counts up to `budget` pending records, oldest first. */
  private countPending(budget: number): void {
    while (budget > 0 && this.pending.length > 0) {
      const job = this.pending[0]!;
      const end = Math.min(job.records.length, job.at + budget);
      job.drift.observe(job.records, job.at, end);
      budget -= end - job.at;
      this.pendingRecords -= end - job.at;
      job.at = end;
      if (job.at >= job.records.length) this.pending.shift();
    }
  }

  private readonly drainSlice = (): void => {
    this.countPending(DRIFT_SLICE_RECORDS);
    if (this.pending.length > 0) setImmediate(this.drainSlice);
    else this.draining = false;
  };

  /** Counts every pending record now: what is read (drift answers, scrapes) includes every answered request. */
  private countAllPending(): void {
    if (this.pending.length > 0) this.countPending(Infinity);
  }

  modelLoaded(model: Predictor, seconds: number): void {
    const before = this.live.get(model.name);
    if (before !== undefined && before !== model.version) {
      this.modelInfo.remove({ model: model.name, version: before });
      this.loadSeconds.remove({ model: model.name, version: before });
    }
    this.live.set(model.name, model.version);
    this.modelInfo.set({ model: model.name, version: model.version }, 1);
    this.loadSeconds.set({ model: model.name, version: model.version }, seconds);
    // Live statistics start again whenever a version goes live (never failing the load: see predicted).
    try {
      this.startDrift(model);
    } catch {
      // the version serves without drift statistics
    }
  }

  modelLoadFailed(name: string, _reason: string): void {
    this.loadFailures.inc({ model: name });
  }

  limitStoreError(_reason: string, failedOpen: boolean): void {
    this.limitStoreErrors.inc({ outcome: failedOpen ? 'open' : 'closed' });
  }

  /**
   * The live input statistics of the version `model` is, made on first use, with every answered
   * request counted. Undefined for a version that is no longer served (a request that began before
   * a swap and ends after it).
   */
  driftOf(model: Predictor): InputDrift | undefined {
    this.countAllPending();
    return this.currentDrift(model);
  }

  private currentDrift(model: Predictor): InputDrift | undefined {
    const live = this.live.get(model.name);
    if (live !== undefined && live !== model.version) return undefined;
    return this.drifts.get(model.ref)?.drift ?? this.startDrift(model);
  }

  private startDrift(model: Predictor): InputDrift {
    this.countAllPending();
    for (const [ref, e] of this.drifts) if (e.model.name === model.name) this.drifts.delete(ref);
    const drift = new InputDrift(readTrainingProfile(model.dir, model.manifest, model.transformer.pipeline));
    this.drifts.set(model.ref, { model, drift });
    return drift;
  }

  /** Counts and times every answered request, and its rejection reason (see {@link observeRequests}). */
  readonly observeRequest: RequestObserver = (_req, _res, info) => {
    const labels = { method: info.method, route: info.route, model: info.model, version: info.version, status: String(info.status) };
    this.requests.inc(labels);
    this.duration.observe(labels, info.seconds);
    if (info.errorCode !== undefined && info.status >= 400) {
      const reason = rejectionReason(info.errorCode, info.status);
      if (reason) this.rejections.inc({ reason });
    }
  };
}

/** Telemetry that reports to each of `parts` in turn. */
export function allTelemetry(...parts: Telemetry[]): Telemetry {
  return {
    predicted: (model, records, predictions) => parts.forEach((t) => t.predicted(model, records, predictions)),
    modelLoaded: (model, seconds) => parts.forEach((t) => t.modelLoaded(model, seconds)),
    modelLoadFailed: (name, reason) => parts.forEach((t) => t.modelLoadFailed(name, reason)),
    limitStoreError: (reason, failedOpen) => parts.forEach((t) => t.limitStoreError(reason, failedOpen)),
  };
}
