import { ConfigError, MlpipeError, NotFoundError, messageOf } from '../../errors.js';
import type { Leftover } from '../leftovers.js';
import { ALIASES_FILE } from '../manifest.js';
import { VERSION_RE, isBundleName } from '../names.js';
import { OversizeError, type RemoteFiles, cachedBundle } from './cache.js';
import { HISTORY_FILE, compareVersions, parseAliases, parseHistory } from './common.js';
import { type AliasEvent, type BundleStore, INDEX_FILE, type StoreIndex } from './types.js';


/**
 * A read-only store served over HTTP(S) by any static file server: `https://host/path/` holding a
 * store's files (a folder store copied or synced there). Bundles are read as `<name>/<version>/<file>`
 * and `<name>/aliases.json`; to list names and versions it reads `index.json` (written by
 * `mlpipe bundles index`), else the server's folder listing (the links of an HTML index page, as
 * nginx's autoindex, Apache and `python3 -m http.server` give). Bundles arrive through the verified cache.
 */
export class HttpStore implements BundleStore {
  readonly kind = 'http' as const;
  private index: StoreIndex | null | undefined;

  private constructor(
    readonly location: string,
    private readonly base: URL,
  ) {}

  static fromLocation(location: string): HttpStore {
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      throw new ConfigError(`${location}: not a valid http(s) address`);
    }
    if (url.username || url.password) throw new ConfigError(`${url.protocol}//${url.host}${url.pathname}: put no credentials in a store address`);
    if (url.search || url.hash) throw new ConfigError(`${location}: a store address has no query or fragment`);
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return new HttpStore(location, url);
  }

  private url(...parts: string[]): URL {
    return new URL(parts.map(encodeURIComponent).join('/'), this.base);
  }

  private readOnly(what: string): MlpipeError {
    return new ConfigError(`${this.location}: an http(s) store is read-only; cannot ${what} (publish to a folder or s3:// store and serve its files)`);
  }

  /** GETs a file: its bytes, or undefined on 404. Other failures name the address and the status. */
  private async fetchBytes(url: URL, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Buffer | undefined> {
    let res: Response;
    try {
      res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(120_000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ConfigError(`${url.href}: cannot reach the store (${cause?.code ?? cause?.message ?? messageOf(err)})`);
    }
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ConfigError(`${url.href}: the store answered ${res.status} ${res.statusText}`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > maxBytes) {
      await res.body?.cancel();
      throw new OversizeError(url.href, maxBytes);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body ?? []) {
      total += (chunk as Uint8Array).length;
      if (total > maxBytes) throw new OversizeError(url.href, maxBytes);
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
    return Buffer.concat(chunks);
  }

  /** The next listing reads `index.json` again (it is read once otherwise: listings are many, changes rare). */
  refresh(): void {
    this.index = undefined;
  }

  private async readIndex(): Promise<StoreIndex | null> {
    if (this.index !== undefined) return this.index;
    const bytes = await this.fetchBytes(this.url(INDEX_FILE), 64 * 1024 * 1024);
    if (!bytes) return (this.index = null);
    try {
      const parsed = JSON.parse(bytes.toString('utf8')) as StoreIndex;
      if (parsed?.format !== 'mlpipe.store-index' || typeof parsed.bundles !== 'object' || parsed.bundles === null) throw new Error('not an mlpipe store index');
      return (this.index = parsed);
    } catch (err) {
      throw new ConfigError(`${this.url(INDEX_FILE).href}: invalid store index (${messageOf(err)})`);
    }
  }

  /** The entries of a folder listing page (hrefs relative to it), or undefined when there is none. */
  private async listing(...parts: string[]): Promise<string[] | undefined> {
    const url = new URL(parts.length ? `${parts.map(encodeURIComponent).join('/')}/` : '', this.base);
    const bytes = await this.fetchBytes(url, 16 * 1024 * 1024);
    if (!bytes) return undefined;
    const html = bytes.toString('utf8');
    const entries = new Set<string>();
    for (const m of html.matchAll(/href\s*=\s*["']([^"'#?]+)["']/gi)) {
      let href = m[1] as string;
      try {
        href = decodeURIComponent(href);
      } catch {
        continue;
      }
      const rel = href.startsWith('/') ? (href.startsWith(url.pathname) ? href.slice(url.pathname.length) : '') : href.replace(/^\.\//, '');
      const entry = rel.replace(/\/$/, '');
      if (entry && !entry.includes('/')) entries.add(entry);
    }
    return [...entries];
  }

  private noListing(): MlpipeError {
    return new ConfigError(`${this.location}: the server lists no folders and has no ${INDEX_FILE}; run \`mlpipe bundles index --artifacts <store>\` before publishing the store's files, or name an exact version (name@1.2.0) or an alias`);
  }

  async listNames(): Promise<string[]> {
    const index = await this.readIndex();
    if (index) return Object.keys(index.bundles).filter(isBundleName).sort();
    const entries = await this.listing();
    if (!entries) throw this.noListing();
    return entries.filter(isBundleName).sort();
  }

  async listVersions(name: string): Promise<string[]> {
    const index = await this.readIndex();
    if (index) {
      const versions = Object.hasOwn(index.bundles, name) ? index.bundles[name]?.versions ?? [] : [];
      return versions.filter((v) => typeof v === 'string' && VERSION_RE.test(v)).sort(compareVersions);
    }
    const entries = await this.listing(name);
    if (!entries) {
      if (await this.fetchBytes(this.url(name, ALIASES_FILE), 16 * 1024 * 1024)) throw this.noListing();
      return [];
    }
    return entries.filter((e) => VERSION_RE.test(e)).sort(compareVersions);
  }

  async readAliases(name: string): Promise<Record<string, string>> {
    const url = this.url(name, ALIASES_FILE);
    const bytes = await this.fetchBytes(url, 16 * 1024 * 1024);
    return bytes ? parseAliases(bytes.toString('utf8'), url.href) : {};
  }

  async updateAliases(): Promise<never> {
    throw this.readOnly('change aliases');
  }

  async readHistory(name: string): Promise<AliasEvent[]> {
    const url = this.url(name, HISTORY_FILE);
    const bytes = await this.fetchBytes(url, 64 * 1024 * 1024);
    return bytes ? parseHistory(bytes.toString('utf8'), url.href) : [];
  }

  get remote(): RemoteFiles {
    return { location: this.location, fetchFile: (n, v, file, maxBytes) => this.fetchBytes(this.url(n, v, file), maxBytes) };
  }

  async bundleDir(name: string, version: string): Promise<string> {
    return cachedBundle(this.remote, name, version);
  }

  async readFile(name: string, version: string, file: string): Promise<Buffer> {
    const url = this.url(name, version, file);
    const bytes = await this.fetchBytes(url);
    if (!bytes) throw new NotFoundError(`${url.href}: no such file in the store`);
    return bytes;
  }

  async publish(): Promise<never> {
    throw this.readOnly('publish a bundle');
  }

  async addFile(): Promise<never> {
    throw this.readOnly('add a file to a bundle');
  }

  async removeVersion(): Promise<never> {
    throw this.readOnly('remove a version');
  }

  async writeIndex(): Promise<never> {
    throw this.readOnly('write its index');
  }

  async cleanLeftovers(): Promise<Leftover[]> {
    throw this.readOnly('clean it');
  }
}
