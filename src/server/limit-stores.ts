/**
 * Where the limits keep their counts: in this process, in the cluster primary (node:cluster workers
 * without Redis), or in Redis (every replica). Requests are counted by express-rate-limit with its own
 * stores (MemoryStore, cluster-memory-store, rate-limit-redis); rows are counted by {@link RowCounter}s
 * here, because express-rate-limit has no weighted cost. Why not rate-limiter-flexible (which has
 * `consume(key, points)` on all three): its consume adds the points even when they do not fit, so a
 * refused 10,000-row batch would still eat the budget; ours takes rows only when all of them fit
 * (one atomic Lua script on Redis), in ~100 lines, with no new dependency.
 */
import cluster, { type Worker } from 'node:cluster';
import { ClusterMemoryStorePrimary, ClusterMemoryStoreWorker } from '@express-rate-limit/cluster-memory-store';
import type { Options as RateLimitOptions, Store, IncrementResponse } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore } from 'rate-limit-redis';
import { messageOf } from '../core/errors.js';
import { HttpError } from './errors.js';
import type { Telemetry } from './telemetry.js';

/** What {@link RowCounter.take} answers. */
export interface TakeResult {
  /** True when the rows fit in the budget and were taken; false: nothing was taken. */
  taken: boolean;
  /** Rows used in the current window (after taking, when taken). */
  used: number;
  /** Milliseconds until the window ends and the budget is full again. */
  resetMs: number;
}

/** A weighted fixed-window counter: the row budgets of batch and stream routes. */
export interface RowCounter {
  /** Takes `rows` from `key`'s budget of `limit` per `windowMs` if they all fit, else nothing. */
  take(key: string, rows: number, limit: number, windowMs: number): Promise<TakeResult>;
}

/** Row budgets in this process's memory (one server, or the cluster primary). */
class MemoryRowCounter implements RowCounter {
  private readonly windows = new Map<string, { used: number; resetAt: number }>();
  private nextSweep = 0;

  async take(key: string, rows: number, limit: number, windowMs: number): Promise<TakeResult> {
    return this.takeNow(key, rows, limit, windowMs, Date.now());
  }

  /** The synchronous take (the cluster primary answers workers with it). */
  takeNow(key: string, rows: number, limit: number, windowMs: number, now: number): TakeResult {
    if (now >= this.nextSweep) {
      // Expired windows of clients gone quiet, so the map does not grow with every address ever seen.
      for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
      this.nextSweep = now + windowMs;
    }
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { used: 0, resetAt: now + windowMs };
      this.windows.set(key, w);
    }
    if (w.used + rows > limit) return { taken: false, used: w.used, resetMs: w.resetAt - now };
    w.used += rows;
    return { taken: true, used: w.used, resetMs: w.resetAt - now };
  }
}

/** Takes ARGV[1] rows of KEYS[1]'s budget ARGV[2] per ARGV[3] ms, all or nothing: {taken, used, ttl}. */
const TAKE_SCRIPT = `
local rows = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
local used = 0
if ttl > 0 then used = tonumber(redis.call('GET', KEYS[1]) or '0') else ttl = window end
if used + rows > limit then return {0, used, ttl} end
if used == 0 then
  redis.call('SET', KEYS[1], rows, 'PX', window)
  return {1, rows, window}
end
return {1, redis.call('INCRBY', KEYS[1], rows), ttl}
`;

/** Row budgets in Redis, shared by every replica that uses the same Redis and prefix. */
class RedisRowCounter implements RowCounter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async take(key: string, rows: number, limit: number, windowMs: number): Promise<TakeResult> {
    const reply = (await this.redis.eval(TAKE_SCRIPT, 1, `${this.prefix}${key}`, rows, limit, windowMs)) as [number, number, number];
    return { taken: reply[0] === 1, used: Number(reply[1]), resetMs: Number(reply[2]) };
  }
}

/** The IPC messages between cluster workers and the primary for row budgets. */
const ROWS_CHANNEL = 'mlpipe-row-budget';
interface RowsAsk {
  from: typeof ROWS_CHANNEL;
  id: number;
  key: string;
  rows: number;
  limit: number;
  windowMs: number;
}
interface RowsAnswer {
  from: typeof ROWS_CHANNEL;
  id: number;
  result: TakeResult;
}

/** Row budgets held by the cluster primary ({@link setupClusterLimits}), asked over IPC by each worker. */
class ClusterRowCounter implements RowCounter {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: TakeResult) => void; timer: NodeJS.Timeout }>();

  constructor(private readonly timeoutMs = 1000) {
    cluster.worker?.on('message', (m: RowsAnswer) => {
      if (m?.from !== ROWS_CHANNEL) return;
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      clearTimeout(w.timer);
      w.resolve(m.result);
    });
  }

  take(key: string, rows: number, limit: number, windowMs: number): Promise<TakeResult> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the cluster primary did not answer a row-budget request within ${this.timeoutMs} ms (is setupClusterLimits() called in the primary?)`));
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, timer });
      const ask: RowsAsk = { from: ROWS_CHANNEL, id, key, rows, limit, windowMs };
      process.send?.(ask);
    });
  }
}

let primarySetUp = false;

/**
 * Call once in the node:cluster PRIMARY before forking workers (`serve --workers N` without Redis):
 * the primary then holds the request counts (cluster-memory-store) and the row budgets of every
 * worker, so that the limits are the server's, not each worker's. Idempotent.
 */
export function setupClusterLimits(): void {
  if (primarySetUp || !cluster.isPrimary) return;
  primarySetUp = true;
  new ClusterMemoryStorePrimary().init();
  const rows = new MemoryRowCounter();
  cluster.on('message', (worker: Worker, m: RowsAsk) => {
    if (m?.from !== ROWS_CHANNEL) return;
    const answer: RowsAnswer = { from: ROWS_CHANNEL, id: m.id, result: rows.takeNow(m.key, m.rows, m.limit, m.windowMs, Date.now()) };
    worker.send(answer);
  });
}

/** What to do with a request when the shared store (Redis) fails: let it through, or refuse it (503). */
export type StoreFailure = 'open' | 'closed';

/** The code of the 503 answered while the limit store is down and `--redis-failure closed`. */
export const LIMITS_UNAVAILABLE = 'limits_unavailable';

/**
 * The health of a shared limit store: every failure is counted (`telemetry.limitStoreError`), but
 * logged once per outage, with one more line when the store is back.
 */
export class StoreHealth {
  private down = false;

  constructor(
    readonly failure: StoreFailure,
    private readonly where: string,
    private readonly log: (message: string) => void,
    private readonly telemetry: Telemetry,
    /** True when the store is already known to be down (and that was logged). */
    initiallyDown = false,
  ) {
    this.down = initiallyDown;
  }

  /** Notes that the store is unreachable (also from its client's connection events); logs once. */
  noteDown(err: unknown): void {
    if (this.down) return;
    this.down = true;
    this.log(
      `limits: the shared limit store (${this.where}) failed: ${messageOf(err)}; ${this.failure === 'open' ? 'failing OPEN: requests pass without the shared limits until it is back' : 'failing CLOSED: predict requests are answered 503 until it is back'} (--redis-failure)`,
    );
  }

  /** Notes that the store answers again; logs once. */
  noteUp(): void {
    if (!this.down) return;
    this.down = false;
    this.log(`limits: the shared limit store (${this.where}) answers again; limits apply`);
  }

  /**
   * A failed store operation: counted, logged once per outage. Open: returns (the caller lets the
   * request through). Closed: throws HttpError 503 `limits_unavailable`.
   */
  failed(err: unknown): void {
    this.telemetry.limitStoreError(reasonOf(err), this.failure === 'open');
    this.noteDown(err);
    if (this.failure === 'closed') throw new HttpError(503, LIMITS_UNAVAILABLE, 'the rate-limit store is unavailable, so the server refuses predictions for now (--redis-failure closed); retry after the time in Retry-After');
  }
}

/** A short, fixed reason for a metric label (never a message: labels must stay few). */
function reasonOf(err: unknown): string {
  const text = `${(err as NodeJS.ErrnoException)?.code ?? ''} ${messageOf(err)}`;
  if (/timed? ?out|ETIMEDOUT/i.test(text)) return 'timeout';
  if (/ECONNREFUSED|ECONNRESET|EPIPE|writeable|closed|Connection is closed|ENOTFOUND|EHOSTUNREACH/i.test(text)) return 'unreachable';
  return 'error';
}

/**
 * An express-rate-limit store in front of another that reports failures to {@link StoreHealth}, and
 * initializes the inner store again when its first initialization failed (rate-limit-redis loads its
 * script at start; with Redis down then, it would fail every request forever, even once Redis is back).
 */
class GuardedStore implements Store {
  readonly prefix: string;
  private options: RateLimitOptions | undefined;
  private initFailed = false;
  private reinit: Promise<void> | undefined;

  constructor(
    private readonly inner: Store,
    private readonly health: StoreHealth,
  ) {
    this.prefix = inner.prefix ?? '';
  }

  get localKeys(): boolean {
    return this.inner.localKeys ?? false;
  }

  init(options: RateLimitOptions): void {
    this.options = options;
    const started = this.inner.init?.(options) as unknown;
    if (started instanceof Promise) started.catch(() => (this.initFailed = true));
  }

  async increment(key: string): Promise<IncrementResponse> {
    try {
      if (this.initFailed) {
        this.reinit ??= Promise.resolve(this.inner.init?.(this.options as RateLimitOptions)).finally(() => (this.reinit = undefined));
        await this.reinit;
        this.initFailed = false;
      }
      const result = await this.inner.increment(key);
      this.health.noteUp();
      return result;
    } catch (err) {
      this.health.failed(err);
      // Open: express-rate-limit (passOnStoreError) lets the request through.
      throw err;
    }
  }

  async decrement(key: string): Promise<void> {
    await Promise.resolve(this.inner.decrement(key)).catch(() => {});
  }

  async resetKey(key: string): Promise<void> {
    await this.inner.resetKey(key);
  }
}

/** A row counter whose failures go to `health`: open, the rows pass untaken; closed, 503. */
function guardedRows(inner: RowCounter, health: StoreHealth): RowCounter {
  return {
    take: async (key, rows, limit, windowMs) => {
      try {
        const r = await inner.take(key, rows, limit, windowMs);
        health.noteUp();
        return r;
      } catch (err) {
        health.failed(err);
        return { taken: true, used: 0, resetMs: windowMs };
      }
    },
  };
}

/** Where the limits keep their counts: one of memory, the cluster primary or Redis. */
export interface LimitBackend {
  /** A new express-rate-limit store for one limiter (undefined: its own MemoryStore). */
  requestStore(name: string): Store | undefined;
  rows: RowCounter;
  /** Set for a shared store that can fail (Redis). */
  health?: StoreHealth;
}

/**
 * The backend for this process: Redis when a client is given (`--redis`), else the cluster primary in
 * a node:cluster worker, else this process's memory.
 */
export function limitBackend(options: { redis?: Redis; redisPrefix: string; redisFailure: StoreFailure; redisWhere?: string; log: (m: string) => void; telemetry: Telemetry }): LimitBackend {
  const { redis } = options;
  if (redis) {
    // Not connected (yet): connectRedis has said so in the log already.
    const health = new StoreHealth(options.redisFailure, options.redisWhere ?? 'Redis', options.log, options.telemetry, redis.status !== 'ready');
    redis.on('error', (err: unknown) => health.noteDown(err));
    redis.on('ready', () => health.noteUp());
    return {
      health,
      requestStore: (name) =>
        new GuardedStore(new RedisStore({ prefix: `${options.redisPrefix}${name}:`, sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<never> }), health),
      rows: guardedRows(new RedisRowCounter(redis, `${options.redisPrefix}rows:`), health),
    };
  }
  if (cluster.isWorker) {
    // A primary that does not answer (setupClusterLimits() not called, or busy): fail open, one log line.
    const health = new StoreHealth('open', 'the cluster primary', options.log, options.telemetry);
    const rows = new ClusterRowCounter();
    return {
      requestStore: (name) => new GuardedStore(new ClusterMemoryStoreWorker({ prefix: name }), health),
      rows: guardedRows(rows, health),
    };
  }
  return { requestStore: () => undefined, rows: new MemoryRowCounter() };
}
