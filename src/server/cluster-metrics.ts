import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * `/metrics` of a `serve --workers N` server: whichever worker a scrape reaches answers for the whole
 * server. The worker asks the primary, the primary gathers every worker's registry (prom-client's
 * AggregatorRegistry: counters and histograms summed, gauges by their `aggregator`), and the worker
 * sends that. Without it a scrape would see one worker's share, a different one each time.
 */

const REQUEST = 'mlpipe:metrics-req';
const ANSWER = 'mlpipe:metrics-res';
/** How long a worker waits for the primary's gathering (prom-client gives each worker 5 s). */
const WAIT_MS = 6000;

interface Ask {
  type: typeof REQUEST;
  id: number;
}
interface Answer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

let primaryListening = false;

/** Primary side: answers the workers' requests for the whole server's metrics. Idempotent. */
export function serveClusterMetrics(): void {
  if (primaryListening || !cluster.isPrimary) return;
  primaryListening = true;
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, m: Ask) => {
    if (m?.type !== REQUEST) return;
    const send = (answer: Answer) => {
      if (worker.isConnected()) worker.send(answer, () => {});
    };
    aggregator.clusterMetrics().then(
      (text) => send({ type: ANSWER, id: m.id, text }),
      (err: unknown) => send({ type: ANSWER, id: m.id, error: err instanceof Error ? err.message : String(err) }),
    );
  });
}

let asked = 0;

/** Worker side: this worker's registry is what it reports when the primary gathers. */
export function shareMetrics(registry: Registry): void {
  // Constructing one adds prom-client's worker-side listener; setRegistries names what it reports.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/** Worker side: the whole server's metrics, from the primary (rejects when it does not answer in time). */
export function clusterMetricsText(): Promise<string> {
  const id = ++asked;
  return new Promise((resolve, reject) => {
    const done = (fn: () => void) => {
      clearTimeout(timer);
      process.off('message', onMessage);
      fn();
    };
    const onMessage = (m: Answer) => {
      if (m?.type !== ANSWER || m.id !== id) return;
      done(() => (m.text !== undefined ? resolve(m.text) : reject(new Error(m.error ?? 'no metrics'))));
    };
    const timer = setTimeout(() => done(() => reject(new Error(`the cluster primary did not gather the workers' metrics within ${WAIT_MS} ms`))), WAIT_MS);
    process.on('message', onMessage);
    process.send?.({ type: REQUEST, id } satisfies Ask);
  });
}
