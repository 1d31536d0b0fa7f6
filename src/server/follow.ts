/**
 * New versions without a restart: a served reference that names no fixed version (`name`: the newest
 * version; `name@production`: an alias) follows the store. The follower notices a change (a watch on
 * the name's folder in a folder store, plus a periodic check because watches miss events on some
 * file systems; remote stores by polling alone), resolves the reference again and, when it names
 * another version, loads it through the same gate as the start (checksums, the signature when
 * required, the golden records), then swaps it in with {@link ServedModels.replace}. Requests take
 * their model once, so those in flight finish on the version they started with.
 *
 * A version that fails to load leaves the old one serving: one log line and one
 * `telemetry.modelLoadFailed` per failed version (it is not tried again until the reference moves).
 */
import { type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkGolden } from '../core/bundle/golden.js';
import { VERSION_RE } from '../core/bundle/names.js';
import type { TrustedKey } from '../core/bundle/signature.js';
import { isFolderRef, openStore, refreshStore, resolveVersion } from '../core/bundle/store.js';
import { VerificationError, messageOf } from '../core/errors.js';
import type { CustomModuleSpec } from '../core/features/custom.js';
import { loadPredictor } from '../core/predictor/from-bundle.js';
import type { Predictor } from '../core/predictor/predictor.js';
import type { ServedModels } from './models.js';
import { NO_TELEMETRY, type Telemetry } from './telemetry.js';

export { DEFAULT_POLL_INTERVAL_MS } from './options.js';

/** How long watch events are gathered before one check (a promotion writes a lock, a temp file, a rename). */
const SETTLE_MS = 100;

/**
 * True when a bundle reference can move: `name`, `name@latest` or `name@<alias>` of a store.
 * `name@1.2.0`, a bundle folder and `npm:` packages are fixed and never followed.
 */
export function isFollowable(ref: string): boolean {
  if (ref.startsWith('npm:') || isFolderRef(ref)) return false;
  const at = ref.indexOf('@');
  return at < 0 || !VERSION_RE.test(ref.slice(at + 1));
}

/** A failed load (or a failed look at the store: `version` null), as `/v1/models/:name` shows it. */
export interface FollowFailure {
  /** The version that failed to load; null when the store could not be read or the reference not resolved. */
  version: string | null;
  reason: string;
  /** ISO time. */
  at: string;
}

/** What a followed reference looks like from outside (`GET /v1/models/:name`). */
export interface FollowState {
  /** The reference followed, as given: `penguins@production`, `penguins`. */
  ref: string;
  /** Milliseconds between checks (0: only at start; never followed). */
  pollIntervalMs: number;
  /** True while a file-system watch on the name's folder is active (folder stores). */
  watching: boolean;
  /** ISO time of the last completed check of the store (null: none yet). */
  lastCheckAt: string | null;
  /** ISO time of the last swap to a new version (null: still the version loaded at start). */
  lastChangeAt: string | null;
  /** The last failure since the last success; null when the last check went well. */
  lastFailure: FollowFailure | null;
}

/** Options of {@link ModelFollower}: the same gate as the start applies to every new version. */
export interface FollowOptions {
  /** The store (`--artifacts`). */
  artifacts: string;
  /** Milliseconds between checks of the store; 0 turns following off (no watch, no timer). */
  pollIntervalMs: number;
  /** `--featurizer-module`: new versions get the same custom featurizer modules as the start. */
  featurizers?: readonly CustomModuleSpec[];
  /** `--require-signature`: a new version must be signed by one of these keys. */
  requireSignature?: readonly TrustedKey[];
  log?: (message: string) => void;
  telemetry?: Telemetry;
}

interface Followed {
  ref: string;
  name: string;
  state: FollowState;
  /** The version that last failed to load: not tried again until the reference points elsewhere. */
  failedVersion: string | undefined;
  /** The problem of the last check that could not read the store (logged when it happens twice in a row). */
  storeProblem: string | undefined;
  /** The store problem last logged, so that a store that stays away is logged once. */
  loggedProblem: string | undefined;
  watcher: FSWatcher | undefined;
}

/**
 * Follows the movable references a server serves and swaps new versions in. Built stopped;
 * {@link start} sets the watches and the timer, {@link stop} removes every one of them (no handle is
 * left open). Checks never overlap: a change noticed during a check runs one more check after it.
 */
export class ModelFollower {
  private readonly followed: Followed[];
  private readonly log: (message: string) => void;
  private readonly telemetry: Telemetry;
  private timer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private storeKind: 'folder' | 's3' | 'http' | undefined;
  private folderRoot: string | undefined;

  /** `refs`: the references served (those that cannot move are ignored), each already loaded into `models`. */
  constructor(
    private readonly models: ServedModels,
    refs: readonly string[],
    private readonly options: FollowOptions,
  ) {
    this.log = options.log ?? (() => {});
    this.telemetry = options.telemetry ?? NO_TELEMETRY;
    this.followed =
      options.pollIntervalMs > 0
        ? refs.filter(isFollowable).map((ref) => {
            const at = ref.indexOf('@');
            return {
              ref,
              name: at < 0 ? ref : ref.slice(0, at),
              state: { ref, pollIntervalMs: options.pollIntervalMs, watching: false, lastCheckAt: null, lastChangeAt: null, lastFailure: null },
              failedVersion: undefined,
              storeProblem: undefined,
              loggedProblem: undefined,
              watcher: undefined,
            };
          })
        : [];
  }

  /** The references followed (empty when following is off or every reference is fixed). */
  get refs(): string[] {
    return this.followed.map((f) => f.ref);
  }

  /** The state of the followed reference serving `name`, if that name is followed. */
  state(name: string): FollowState | undefined {
    return this.followed.find((f) => f.name === name)?.state;
  }

  /** Starts watching and polling (nothing when no reference is followed). */
  async start(): Promise<void> {
    if (this.followed.length === 0 || this.stopped) return;
    const store = await openStore(this.options.artifacts);
    this.storeKind = store.kind;
    if (store.kind === 'folder') this.folderRoot = store.location;
    for (const f of this.followed) this.watch(f);
    this.timer = setInterval(() => {
      // A watch that failed (its folder was replaced, say) is set again on the next tick.
      for (const f of this.followed) if (!f.watcher) this.watch(f);
      this.trigger();
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  /** Stops every watch and timer, and waits for a check under way (a version it loads is not swapped in). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.timer = this.settleTimer = undefined;
    for (const f of this.followed) this.unwatch(f);
    await this.running;
  }

  /** Checks the store now (after a check under way, if any); resolves when that check is done. */
  async checkNow(): Promise<void> {
    this.trigger();
    while (this.running) await this.running;
  }

  private watch(f: Followed): void {
    if (this.stopped || this.storeKind !== 'folder' || this.folderRoot === undefined) return;
    try {
      // Not persistent: the watch alone never keeps the process alive; the server's socket does.
      const watcher = watch(join(this.folderRoot, f.name), { persistent: false }, () => this.settle());
      watcher.on('error', () => this.unwatch(f));
      f.watcher = watcher;
      f.state.watching = true;
    } catch {
      // No watch on this file system (or the folder is gone for now): the periodic check still runs.
      f.state.watching = false;
    }
  }

  private unwatch(f: Followed): void {
    f.watcher?.close();
    f.watcher = undefined;
    f.state.watching = false;
  }

  /** A watch event: one check once the events of one change have all arrived. */
  private settle(): void {
    if (this.stopped || this.settleTimer) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.trigger();
    }, SETTLE_MS);
    this.settleTimer.unref();
  }

  private trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.checkAll();
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
  }

  private async checkAll(): Promise<void> {
    try {
      await refreshStore(this.options.artifacts);
    } catch {
      // Reported by the check below, which opens the same store.
    }
    for (const f of this.followed) {
      if (this.stopped) return;
      await this.check(f);
    }
  }

  /** Resolves one reference again; loads, verifies and swaps in the version it names when that is new. */
  private async check(f: Followed): Promise<void> {
    const current = this.models.get(f.name) as Predictor;
    let version: string;
    try {
      ({ version } = await resolveVersion(f.ref, this.options.artifacts));
    } catch (err) {
      const reason = messageOf(err);
      f.state.lastCheckAt = new Date().toISOString();
      f.state.lastFailure = { version: null, reason, at: f.state.lastCheckAt };
      // Seen twice in a row before it is logged: a file caught half-written by a hand edit (the watch
      // fires on the truncation) reads well a moment later, so a second look comes soon.
      if (reason === f.storeProblem && reason !== f.loggedProblem) {
        this.log(`${f.ref}: cannot check the store, still serving ${current.ref}: ${reason}`);
        f.loggedProblem = reason;
      }
      if (f.storeProblem === undefined) this.settle();
      f.storeProblem = reason;
      return;
    }
    if (f.loggedProblem !== undefined) this.log(`${f.ref}: the store answers again (${f.ref} → ${f.name}@${version})`);
    f.storeProblem = f.loggedProblem = undefined;
    if (version === current.version || version === f.failedVersion) {
      if (version === current.version) {
        f.failedVersion = undefined;
        f.state.lastFailure = null;
      }
      f.state.lastCheckAt = new Date().toISOString();
      return;
    }
    // The reference moved: a version that failed before is tried again if it comes back later.
    f.failedVersion = undefined;
    const started = performance.now();
    try {
      const model = await loadPredictor(`${f.name}@${version}`, this.options.artifacts, {
        featurizers: this.options.featurizers,
        ...(this.options.requireSignature ? { requireSignature: this.options.requireSignature } : {}),
      });
      // The skew gate of the start, for every new version too.
      await checkGolden(model);
      if (model.name !== f.name || model.version !== version) {
        throw new VerificationError('manifest.json', `${model.dir}: the manifest says ${model.ref}, but the bundle is stored as ${f.name}@${version}`);
      }
      if (this.stopped) return;
      const before = this.models.replace(model);
      const seconds = (performance.now() - started) / 1000;
      f.state.lastCheckAt = f.state.lastChangeAt = new Date().toISOString();
      f.state.lastFailure = null;
      this.telemetry.modelLoaded(model, seconds);
      this.log(`${f.ref}: now serving ${model.ref} (was ${before?.version ?? 'none'}; verified and loaded in ${seconds.toFixed(2)} s)`);
    } catch (err) {
      const reason = messageOf(err);
      f.failedVersion = version;
      f.state.lastCheckAt = new Date().toISOString();
      f.state.lastFailure = { version, reason, at: f.state.lastCheckAt };
      this.telemetry.modelLoadFailed(f.name, reason);
      this.log(`${f.ref}: ${f.name}@${version} failed to load, still serving ${current.ref}: ${reason}`);
    }
  }
}
