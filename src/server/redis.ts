// ioredis is loaded only when --redis is given: its import is ~0.3 s of every serve's start (issue 14, cold start).
import type { Redis } from 'ioredis';
import { MlpipeError, messageOf } from '../core/errors.js';
import type { StoreFailure } from './limit-stores.js';

/** A Redis connection for the shared limits, and how log lines name it (never with its password). */
export interface LimitRedis {
  client: Redis;
  /** `redis://host:port[/db]`, without user or password. */
  where: string;
}

/**
 * Connects to Redis for the shared limits (`--redis`). The settings are those that behaved when Redis
 * went away mid-traffic: no offline queue and one retry per command (a command fails at once instead
 * of piling up while Redis is down), a 1 s command timeout, reconnection every ≤ 2 s for ever. Redis
 * being down at start is not fatal: one log line, and the server starts failing open or closed.
 */
export async function connectRedis(url: string, failure: StoreFailure, log: (message: string) => void): Promise<LimitRedis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MlpipeError('usage', '--redis: expected a URL like redis://127.0.0.1:6379 (or rediss:// for TLS)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new MlpipeError('usage', `--redis: expected a redis:// or rediss:// URL, got ${parsed.protocol}//…`);
  const where = `${parsed.protocol}//${parsed.hostname}:${parsed.port || '6379'}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  });
  // Errors are reported once per outage by the limits (limit-stores.ts StoreHealth); without a
  // listener ioredis would print each reconnection failure.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    log(`limits: cannot reach Redis at ${where} (${messageOf(err)}); failing ${failure.toUpperCase()} until it answers (--redis-failure)`);
  }
  return { client, where };
}
