import cluster, { type Worker } from 'node:cluster';
import type { RunningServer } from './start.js';
import { setupClusterLimits } from './limit-stores.js';
import { serveClusterMetrics } from './cluster-metrics.js';

/**
 * `mlpipe serve --workers N`: a primary process forks N workers (node:cluster), each of which runs
 * the whole server (loads and verifies the bundles, listens on the same port: the primary hands
 * connections out). The primary serves nothing itself: it prints `listening on` once every worker
 * listens, restarts a worker that dies (at most {@link MAX_RESTARTS} in {@link RESTART_WINDOW_MS},
 * then it stops them all and exits 1), and on SIGTERM or SIGINT tells every worker to drain (finish
 * in-flight requests, as one server does) and exits 0 when they have.
 */

/** Restarts of dead workers allowed within {@link RESTART_WINDOW_MS}; one more stops the whole server. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

/** Set in each worker's environment: its slot, 1..N (a restarted worker takes the slot of the one it replaces). */
const WORKER_SLOT_ENV = 'MLPIPE_WORKER_SLOT';

type Message = { type: 'mlpipe:listening'; url: string } | { type: 'mlpipe:drain' };

/** Options of {@link runPrimary}. */
export interface PrimaryOptions {
  workers: number;
  /** Human output (stdout): the `listening on` line. */
  out: (line: string) => void;
  /** Notes (stderr). */
  note: (line: string) => void;
  /** How long workers have to drain after SIGTERM before they are killed (their --shutdown-timeout, plus a margin). */
  shutdownTimeoutMs: number;
}

/** True in a worker forked by {@link runPrimary}. */
export function isServeWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_SLOT_ENV] !== undefined;
}

/** This worker's slot (1..N), or undefined outside a cluster. */
export function workerSlot(): number | undefined {
  return isServeWorker() ? Number(process.env[WORKER_SLOT_ENV]) : undefined;
}

/**
 * Worker side: unrefs the channel to the primary, so the worker exits like a lone server once it has
 * nothing left to do (after a drain, or when its start failed), not only when the primary lets go.
 * Not before listening: the listen itself waits for the primary's answer on that channel.
 */
function letGoOfPrimary(): void {
  (process.channel as { unref?: () => void } | undefined)?.unref?.();
}

/** This worker's cluster id (unique, restarts get new ones): what the `Mlpipe-Worker` header says. */
export function workerId(): number | undefined {
  return isServeWorker() ? cluster.worker?.id : undefined;
}

/** Worker side: tells the primary this worker listens at `url` (the primary prints the line, once). */
export function announceListening(url: string): void {
  process.send?.({ type: 'mlpipe:listening', url } satisfies Message);
  letGoOfPrimary();
}

/**
 * Worker side: resolves once the primary has asked this worker to drain (or has gone away) and the
 * server has drained.
 */
export function closeWhenPrimaryAsks(running: RunningServer): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('message', onMessage);
      process.off('disconnect', stop);
      void running.close().finally(() => resolve());
    };
    const onMessage = (m: Message) => {
      if (m?.type === 'mlpipe:drain') stop();
    };
    process.on('message', onMessage);
    process.on('disconnect', stop);
  });
}

/**
 * Primary side: forks the workers and supervises them until a signal has drained them all. Resolves
 * with the exit code: 0 after a drain, 1 when a worker failed to start (its own error is on stderr)
 * or workers kept dying.
 */
export async function runPrimary(options: PrimaryOptions): Promise<number> {
  // The limits are the server's, not each worker's: the primary holds the counts (with --redis,
  // Redis does, and the workers use it instead).
  setupClusterLimits();
  // And /metrics, whichever worker is scraped, is the whole server's.
  serveClusterMetrics();
  return new Promise((resolve) => {
    {
      const slots = new Map<Worker, number>();
      const listening = new Set<number>();
      const restarts: number[] = [];
      let announced = false;
      let stopping = false;
      let code = 0;
      let killTimer: NodeJS.Timeout | undefined;

      const fork = (slot: number) => {
        const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot) });
        slots.set(worker, slot);
        // A message to a worker that has just died (EPIPE): its 'exit' is what counts.
        worker.on('error', () => {});
        worker.on('message', (m: Message) => {
          if (m?.type !== 'mlpipe:listening') return;
          listening.add(slot);
          if (announced) options.note(`worker ${slot} (pid ${worker.process.pid}) listening again`);
          if (!announced && listening.size === options.workers) {
            announced = true;
            options.note(`${options.workers} workers (pids ${[...slots.keys()].map((w) => w.process.pid).join(', ')}) share the port`);
            options.out(`listening on ${m.url}`);
          }
        });
      };

      const stopAll = (exitCode: number) => {
        if (stopping) return;
        stopping = true;
        code = exitCode;
        for (const [w, slot] of slots) {
          // A worker still loading has nothing in flight (and no drain handler yet): it just stops.
          if (!listening.has(slot)) w.process.kill('SIGTERM');
          else if (w.isConnected()) w.send({ type: 'mlpipe:drain' } satisfies Message);
        }
        killTimer = setTimeout(() => {
          options.note(`workers did not stop within ${options.shutdownTimeoutMs} ms; killing them`);
          for (const w of slots.keys()) w.process.kill('SIGKILL');
        }, options.shutdownTimeoutMs);
        killTimer.unref();
        if (slots.size === 0) finish();
      };

      const finish = () => {
        if (killTimer) clearTimeout(killTimer);
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        resolve(code);
      };

      cluster.on('exit', (worker, exitCode, signal) => {
        const slot = slots.get(worker);
        slots.delete(worker);
        if (slot === undefined) return;
        if (stopping) {
          if (exitCode !== 0 && listening.has(slot) && signal !== 'SIGKILL') code = code || 1;
          if (slots.size === 0) finish();
          return;
        }
        const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
        if (!listening.has(slot)) {
          // It never listened: a bundle that does not verify, a port in use. Every worker would fail alike.
          options.note(`worker ${slot} ${how} before listening; stopping`);
          stopAll(1);
          return;
        }
        const now = Date.now();
        while (restarts.length > 0 && (restarts[0] as number) < now - RESTART_WINDOW_MS) restarts.shift();
        if (restarts.length >= MAX_RESTARTS) {
          options.note(`worker ${slot} ${how}; ${MAX_RESTARTS} restarts within ${RESTART_WINDOW_MS / 1000} s already: stopping`);
          stopAll(1);
          return;
        }
        restarts.push(now);
        listening.delete(slot);
        options.note(`worker ${slot} (pid ${worker.process.pid}) ${how}; restarting it`);
        fork(slot);
      });

      const onSignal = (signal: string) => {
        options.note(`${signal}: draining every worker, then exiting`);
        stopAll(0);
      };
      const onTerm = () => onSignal('SIGTERM');
      const onInt = () => onSignal('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
      for (let slot = 1; slot <= options.workers; slot++) fork(slot);
    }
  });
}
