import type { Leftover } from '../leftovers.js';
import type { RemoteFiles } from './cache.js';

/** One change of an alias, as the store's append-only history keeps it (`bundles history`). */
export interface AliasEvent {
  /** ISO time of the change. */
  at: string;
  /** Who changed it: MLPIPE_USER, else the CI's actor variable, else the login name. */
  by: string;
  alias: string;
  /** The version the alias pointed at before (null: it did not exist). */
  from: string | null;
  /** The version it points at now (null: removed). */
  to: string | null;
  /** What changed it: `promote`, `rollback`, … */
  action: string;
}

/** `index.json` at a store's root: names and versions, for stores served by static file servers. */
export const INDEX_FILE = 'index.json';

/** The shape of index.json (`mlpipe bundles index`). */
export interface StoreIndex {
  format: 'mlpipe.store-index';
  bundles: Record<string, { versions: string[] }>;
}

/** How {@link BundleStore.publish} fills and names a new bundle. */
export interface PublishOptions {
  /** The version to publish; by default the next patch version after the newest (1.0.0 for a new name). */
  version?: string;
  /** Writes the files that do not depend on the version into the staging folder. */
  fill(dir: string): Promise<void>;
  /**
   * Writes the files that depend on the version (manifest.json last among them) into the staging
   * folder; called again with the next version when another publisher took the first.
   */
  prepare(dir: string, version: string): Promise<void>;
  /**
   * A folder already holding the whole bundle (manifest included, verified by the caller) at an
   * explicit `version`: a remote store uploads straight from it instead of a staging copy (`fill`
   * and `prepare` are not called); a folder store still copies through `fill`, to rename atomically.
   */
  ready?: string;
}

/**
 * A bundle store: where bundles and their aliases live. Three kinds, picked by the location
 * (`--artifacts`, `MLPIPE_ARTIFACTS`): a folder, `s3://bucket/prefix` and a read-only `https://…/`.
 * Every kind keeps the same layout: `<name>/<version>/<file>`, `<name>/aliases.json`.
 *
 * A version is visible (listed, resolvable) only once its manifest is written, and the manifest is
 * written last: a publisher killed half-way leaves nothing visible, only leftovers that
 * {@link BundleStore.cleanLeftovers} removes.
 */
export interface BundleStore {
  /** The location as the user wrote it (a resolved folder path, `s3://…`, `https://…/`): shown in messages. */
  readonly location: string;
  readonly kind: 'folder' | 's3' | 'http';
  /** A remote store's raw file reads (S3, HTTP), for downloads checked as they arrive; undefined for a folder. */
  readonly remote?: RemoteFiles;
  /**
   * Forgets what the store remembers of its listings (the HTTP store reads `index.json` once), so
   * that the next listing asks the store again: for a server that follows a name or alias by polling.
   * Stores that remember nothing have none.
   */
  refresh?(): void;
  /** Bundle names, sorted. */
  listNames(): Promise<string[]>;
  /** Published versions of a name (with a manifest), oldest first. */
  listVersions(name: string): Promise<string[]>;
  /** `<name>/aliases.json` (empty when absent). */
  readAliases(name: string): Promise<Record<string, string>>;
  /**
   * Changes the aliases of a name atomically (a lock for a folder, a conditional write retried for
   * S3): concurrent changes never lose one another. Each alias that changed is appended to the
   * history as `action`. Returns the map before and after.
   */
  updateAliases(
    name: string,
    update: (aliases: Record<string, string>) => Record<string, string>,
    action: string,
  ): Promise<{ before: Record<string, string>; after: Record<string, string> }>;
  /** The alias history of a name, oldest first. */
  readHistory(name: string): Promise<AliasEvent[]>;
  /**
   * A local folder holding the bundle `name@version`: the bundle's own folder in a folder store;
   * for a remote store, a copy in the local cache that was verified when it arrived.
   */
  bundleDir(name: string, version: string): Promise<string>;
  /** The raw bytes of one file of a published bundle (not verified: callers check them). */
  readFile(name: string, version: string, file: string): Promise<Buffer>;
  /** Publishes a new bundle; returns its version. ConflictError when an explicit version exists. */
  publish(name: string, options: PublishOptions): Promise<string>;
  /** Adds a file to a published bundle that its manifest does not list (`signature.json` only). */
  addFile(name: string, version: string, file: string, bytes: Uint8Array): Promise<void>;
  /** Removes a published version (manifest first, so it disappears at once). */
  removeVersion(name: string, version: string): Promise<void>;
  /** Writes `index.json` at the store's root (for an http(s) copy of it); returns where. */
  writeIndex(index: StoreIndex): Promise<string>;
  /** Finds what killed publishers and promoters left, removes the stale ones (all of a name, or the whole store). */
  cleanLeftovers(name: string | undefined, options?: { dryRun?: boolean }): Promise<Leftover[]>;
}
