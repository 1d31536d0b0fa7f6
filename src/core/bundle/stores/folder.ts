import { appendFile, lstat, mkdir, readFile, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { ConfigError, ConflictError, NotFoundError, VerificationError, messageOf } from '../../errors.js';
import { pathExists, prettyJson, tempPathBeside, writeFileAtomic } from '../../fs-util.js';
import { faultPoint } from '../../test-seam.js';
import { LOCK_DIR, LOCK_OWNER_FILE, TEMP_OWNER_FILE, cleanLeftovers, cleanStore, writeOwner } from '../leftovers.js';
import { ALIASES_FILE, MANIFEST_FILE } from '../manifest.js';
import { VERSION_RE, isBundleName } from '../names.js';
import type { Leftover } from '../leftovers.js';
import { HISTORY_FILE, aliasEvents, compareVersions, nextPatch, parseAliases, parseHistory } from './common.js';
import { type AliasEvent, type BundleStore, INDEX_FILE, type PublishOptions, type StoreIndex } from './types.js';

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Today's store: a folder `<root>/<name>/<version>/`, bundles renamed into place whole. */
export class FolderStore implements BundleStore {
  readonly kind = 'folder' as const;
  constructor(readonly location: string) {}

  async listNames(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.location);
    } catch {
      return [];
    }
    const names: string[] = [];
    for (const e of entries) if (isBundleName(e) && (await isDir(join(this.location, e)))) names.push(e);
    return names.sort();
  }

  async listVersions(name: string): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(join(this.location, name));
    } catch {
      return [];
    }
    const versions: string[] = [];
    for (const e of entries) if (VERSION_RE.test(e) && (await isDir(join(this.location, name, e)))) versions.push(e);
    return versions.sort(compareVersions);
  }

  async readAliases(name: string): Promise<Record<string, string>> {
    const path = join(this.location, name, ALIASES_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return {};
    }
    return parseAliases(text, path);
  }

  async updateAliases(
    name: string,
    update: (aliases: Record<string, string>) => Record<string, string>,
    action: string,
  ): Promise<{ before: Record<string, string>; after: Record<string, string> }> {
    const dir = join(this.location, name);
    // A lock left by a promoter or packager killed while holding it: removed when its owner is gone.
    await cleanLeftovers(this.location, name);
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(dir, { lockfilePath: join(dir, LOCK_DIR), retries: { retries: 60, minTimeout: 20, maxTimeout: 250 }, realpath: false });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      throw new ConflictError(`${join(dir, LOCK_DIR)}: the aliases of "${name}" are being changed by another mlpipe; try again (mlpipe bundles gc removes a lock whose owner is gone)`);
    }
    try {
      await writeOwner(join(dir, LOCK_OWNER_FILE));
      await faultPoint('aliases:locked', join(dir, LOCK_DIR));
      const before = await this.readAliases(name);
      const after = update({ ...before });
      await writeFileAtomic(join(dir, ALIASES_FILE), prettyJson(after));
      // Appended after the change, under the same lock: the history is in the order of the changes.
      const events = aliasEvents(before, after, action);
      if (events.length > 0) await appendFile(join(dir, HISTORY_FILE), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
      return { before, after };
    } finally {
      await rm(join(dir, LOCK_OWNER_FILE), { force: true });
      await release();
    }
  }

  async readHistory(name: string): Promise<AliasEvent[]> {
    const path = join(this.location, name, HISTORY_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return [];
    }
    return parseHistory(text, path);
  }

  async bundleDir(name: string, version: string): Promise<string> {
    const nameDir = join(this.location, name);
    if ((await lstat(nameDir)).isSymbolicLink()) throw new VerificationError(MANIFEST_FILE, `${nameDir}: is a symbolic link; a bundle name's folder in the store must be a real folder (refusing it)`);
    return join(nameDir, version);
  }

  async readFile(name: string, version: string, file: string): Promise<Buffer> {
    const path = join(this.location, name, version, file);
    try {
      return await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${path}: file not found`);
      throw new ConfigError(`${path}: unreadable (${messageOf(err)})`);
    }
  }

  /**
   * Assembles the bundle in a hidden temporary folder beside the versions and renames it into place:
   * a crash never leaves half a bundle, and an existing version is never overwritten (ConflictError
   * for an explicit version; the next free patch version otherwise).
   */
  async publish(name: string, options: PublishOptions): Promise<string> {
    const nameDir = join(this.location, name);
    // A new name's folder is removed again when publishing fails: the store is left as it was.
    const newName = !(await pathExists(nameDir));
    await faultPoint('package:mkdir', nameDir);
    await mkdir(nameDir, { recursive: true });
    // Leftovers of a packager killed earlier (its owner gone, or a day old) go first.
    await cleanLeftovers(this.location, name);
    const existing = await this.listVersions(name);
    if (options.version !== undefined && existing.includes(options.version)) {
      throw new ConflictError(`${name}@${options.version} already exists in ${this.location}; bundles are immutable, choose another --version`);
    }
    const tmp = tempPathBeside(join(nameDir, 'bundle'));
    try {
      await mkdir(tmp);
      await writeOwner(join(tmp, TEMP_OWNER_FILE));
      await faultPoint('package:tmp', tmp);
      await options.fill(tmp);
      // Another packager may take a version between our listing and our rename: then try the next one.
      let version = options.version ?? nextPatch(existing[existing.length - 1]);
      // aliases.json exists from the first version on, so stores always have the same shape; it is
      // written before the bundle appears, so the rename below is the last step.
      if (!(await pathExists(join(nameDir, ALIASES_FILE)))) await this.updateAliases(name, (aliases) => aliases, 'create');
      for (let attempt = 0; ; attempt++) {
        await options.prepare(tmp, version);
        await rm(join(tmp, TEMP_OWNER_FILE), { force: true });
        try {
          await faultPoint('package:rename', join(nameDir, version));
          await rename(tmp, join(nameDir, version));
          return version;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || options.version !== undefined || attempt >= 20) {
            if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new ConflictError(`${name}@${version} already exists in ${this.location}; bundles are immutable, choose another --version`);
            throw err;
          }
          const now = await this.listVersions(name);
          version = nextPatch(now[now.length - 1]);
        }
      }
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (newName) await this.removeIfUnused(name);
      throw err;
    }
  }

  /** Removes a name's folder that holds no version (publishing its first version failed). */
  private async removeIfUnused(name: string): Promise<void> {
    if ((await this.listVersions(name)).length > 0) return;
    const dir = join(this.location, name);
    await rm(join(dir, ALIASES_FILE), { force: true });
    await rm(join(dir, HISTORY_FILE), { force: true });
    // rmdir, not rm -r: another packager that has just started on this name keeps its folder.
    await rmdir(dir).catch(() => undefined);
  }

  async addFile(name: string, version: string, file: string, bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(join(this.location, name, version, file), bytes);
  }

  async removeVersion(name: string, version: string): Promise<void> {
    const dir = join(this.location, name, version);
    // Renamed away first (one step), so no reader ever sees a half-removed bundle.
    const doomed = tempPathBeside(join(this.location, name, 'bundle'));
    await rename(dir, doomed);
    await rm(doomed, { recursive: true, force: true });
  }

  async writeIndex(index: StoreIndex): Promise<string> {
    const path = join(this.location, INDEX_FILE);
    await writeFileAtomic(path, prettyJson(index));
    return path;
  }

  async cleanLeftovers(name: string | undefined, options: { dryRun?: boolean } = {}): Promise<Leftover[]> {
    return name === undefined ? cleanStore(this.location, options) : cleanLeftovers(this.location, name, options);
  }
}
