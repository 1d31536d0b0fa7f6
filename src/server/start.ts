import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { customKindsUsed, loadBundle } from '../core/bundle/load.js';
import { ModelRegistry } from '../core/bundle/registry.js';
import { type CustomModuleSpec, checkModulesUsed } from '../core/features/custom.js';
import { type AppOptions, createApp } from './app.js';

/** Options of {@link startServer}. */
export interface StartOptions extends Partial<AppOptions> {
  /** Bundle references to serve (first = default model). */
  refs: string[];
  artifacts: string;
  port: number;
  host: string;
  /** How long a shutdown waits for in-flight requests before closing their connections (ms). */
  shutdownTimeoutMs?: number;
  log?: (message: string) => void;
  /**
   * Custom featurizer modules (`--featurizer-module name=path`), for every bundle that uses the kind;
   * one that no bundle uses is refused (a misspelt name).
   */
  featurizers?: readonly CustomModuleSpec[];
}

/** A running server. */
export interface RunningServer {
  server: Server;
  registry: ModelRegistry;
  /** `http://host:port` */
  url: string;
  /** Stops accepting connections, lets in-flight requests finish (up to the timeout), then resolves. */
  close(): Promise<void>;
}

/**
 * Loads and verifies every bundle, then listens. A bundle that fails verification rejects the
 * promise (naming the file) before any socket is opened.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  const registry = new ModelRegistry();
  for (const ref of options.refs) registry.add(await loadBundle(ref, options.artifacts, { featurizers: options.featurizers }));
  checkModulesUsed(options.featurizers ?? [], customKindsUsed(registry.list()), registry.list().map((m) => m.ref).join(', '));
  const app = createApp(registry, { ...options, log });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, options.host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  // Answers faster than the default keep-alive timeout of load balancers.
  server.keepAliveTimeout = 65_000;
  registry.ready = true;
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      registry.ready = false;
      const timer = setTimeout(() => {
        log(`shutdown: in-flight requests did not finish within ${options.shutdownTimeoutMs ?? 10_000} ms; closing their connections`);
        server.closeAllConnections();
      }, options.shutdownTimeoutMs ?? 10_000);
      timer.unref();
      // Keep-alive sockets go idle once their in-flight request is answered: close them as they do.
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      server.close(() => {
        clearTimeout(timer);
        clearInterval(idle);
        resolve();
      });
      server.closeIdleConnections();
    }));
  return { server, registry, url: `http://${host}:${address.port}`, close };
}

/**
 * Resolves with the signal's name once SIGTERM or SIGINT has been received and the server has
 * drained (in-flight requests answered, or the shutdown timeout reached).
 */
export function closeOnSignals(running: RunningServer, log: (message: string) => void = () => {}): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      log(`${signal}: draining in-flight requests, then exiting`);
      running.close().then(() => resolve(signal), () => resolve(signal));
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
