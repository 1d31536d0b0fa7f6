import { hostname } from 'node:os';
import { lstat, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../fs-util.js';
import { ALIASES_FILE } from './manifest.js';
import { isBundleName } from './names.js';

/**
 * Leftovers of a packager or promoter killed mid-way (`kill -9`, a power cut): the hidden temporary
 * bundle folders (`.bundle.tmp-*`), temporary alias files (`.aliases.json.tmp-*`) and the alias
 * lock (`.aliases.lock`) in `artifacts/<name>/`. None of them is ever visible as a bundle; they are
 * removed by the next `package` or `promote` of that name and by `bundles gc`.
 *
 * Each records its owner (process id, host name, process start time): a leftover is stale, and
 * removed, when its owner on this host is gone, or when it is older than {@link LEFTOVER_MAX_AGE_MS}
 * (whatever its owner: no packaging takes that long, and an owner on another host cannot be asked).
 * One whose owner is alive is left alone.
 */
const LEFTOVER_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** An alias lock with no owner record yet (its owner was killed between the two) is stale after this. */
const OWNERLESS_LOCK_AGE_MS = 30_000;

const TEMP_BUNDLE_PREFIX = '.bundle.tmp-';
export const LOCK_DIR = '.aliases.lock';
export const LOCK_OWNER_FILE = '.aliases.lock.owner';
/** Inside a temporary bundle folder: its owner; removed just before the folder is renamed into place. */
export const TEMP_OWNER_FILE = '.owner.json';

/** Who made a temporary folder or holds a lock. */
export interface Owner {
  pid: number;
  hostname: string;
  /** When the owner process started (ISO): with the pid, tells a reused pid from the owner. */
  startedAt: string;
}

const STARTED_AT = new Date(Date.now() - process.uptime() * 1000).toISOString();

/** This process as an owner. */
export function ownerRecord(): string {
  const owner: Owner = { pid: process.pid, hostname: hostname(), startedAt: STARTED_AT };
  return `${JSON.stringify(owner)}\n`;
}

export async function writeOwner(path: string): Promise<void> {
  await writeFile(path, ownerRecord());
}

async function readOwner(path: string): Promise<Owner | undefined> {
  return parseOwner(await readFile(path, 'utf8').catch(() => ''));
}

/** An owner record's text as an Owner (undefined when it is not one). */
export function parseOwner(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    if (typeof o.pid !== 'number' || !Number.isInteger(o.pid) || o.pid <= 0 || typeof o.hostname !== 'string') return undefined;
    return { pid: o.pid, hostname: o.hostname, startedAt: typeof o.startedAt === 'string' ? o.startedAt : '' };
  } catch {
    return undefined;
  }
}

/** Alive, gone, or unknown (another host, or no owner recorded). */
function ownerState(owner: Owner | undefined): 'alive' | 'gone' | 'unknown' {
  if (!owner || owner.hostname !== hostname()) return 'unknown';
  if (owner.pid === process.pid) return owner.startedAt === '' || owner.startedAt === STARTED_AT ? 'alive' : 'gone';
  return processAlive(owner.pid) ? 'alive' : 'gone';
}

/** One leftover found in the store, and what was (or would be) done with it. */
export interface Leftover {
  path: string;
  kind: 'temporary bundle folder' | 'temporary alias file' | 'alias lock' | 'unfinished upload';
  /** Removed (or to be removed, in a dry run) and why; or kept and why. */
  action: 'removed' | 'kept';
  reason: string;
}

function describe(owner: Owner | undefined): string {
  return owner ? `process ${owner.pid} on ${owner.hostname}` : 'an unknown process';
}

/** Decides about one leftover: stale (with why) or kept (with why). */
export function judge(owner: Owner | undefined, ageMs: number, ownerlessMaxAge: number): { stale: boolean; reason: string } {
  const state = ownerState(owner);
  if (state === 'gone') return { stale: true, reason: `its owner, ${describe(owner)}, is gone` };
  const hours = (ageMs / 3_600_000).toFixed(1);
  if (ageMs > LEFTOVER_MAX_AGE_MS) return { stale: true, reason: `older than 24 hours (${hours} h; owner ${describe(owner)})` };
  if (state === 'alive') return { stale: false, reason: `its owner, ${describe(owner)}, is still running` };
  if (!owner && ageMs > ownerlessMaxAge) return { stale: true, reason: `no owner recorded and ${Math.round(ageMs / 1000)} s old` };
  return { stale: false, reason: `its owner, ${describe(owner)}, may still be running (removed once 24 hours old)` };
}

async function ageOf(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await lstat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Finds the leftovers in `artifacts/<name>/` and removes the stale ones (all of them are reported;
 * with `dryRun` nothing is removed). The alias lock is only removed when its owner is gone or it is
 * old: a live promoter keeps it.
 */
export async function cleanLeftovers(artifacts: string, name: string, options: { dryRun?: boolean } = {}): Promise<Leftover[]> {
  const dir = join(artifacts, name);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const found: Leftover[] = [];
  const remove = async (paths: string[], kind: Leftover['kind'], verdict: { stale: boolean; reason: string }): Promise<void> => {
    if (verdict.stale && !options.dryRun) for (const p of paths) await rm(p, { recursive: true, force: true });
    found.push({ path: paths[0] as string, kind, action: verdict.stale ? 'removed' : 'kept', reason: verdict.reason });
  };
  for (const entry of entries) {
    const path = join(dir, entry);
    if (entry.startsWith(TEMP_BUNDLE_PREFIX)) {
      const age = await ageOf(path);
      if (age === undefined) continue;
      // Without an owner record (killed before it was written, or after it was removed), the pid in the name.
      const owner = (await readOwner(join(path, TEMP_OWNER_FILE))) ?? ownerFromName(entry);
      await remove([path], 'temporary bundle folder', judge(owner, age, OWNERLESS_LOCK_AGE_MS));
    } else if (entry.startsWith(`.${ALIASES_FILE}.tmp-`)) {
      const age = await ageOf(path);
      if (age === undefined) continue;
      await remove([path], 'temporary alias file', judge(ownerFromName(entry), age, OWNERLESS_LOCK_AGE_MS));
    }
  }
  const lockAge = await ageOf(join(dir, LOCK_DIR));
  if (lockAge !== undefined) {
    const owner = await readOwner(join(dir, LOCK_OWNER_FILE));
    await remove([join(dir, LOCK_DIR), join(dir, LOCK_OWNER_FILE)], 'alias lock', judge(owner, lockAge, OWNERLESS_LOCK_AGE_MS));
  } else if (entries.includes(LOCK_OWNER_FILE) && !options.dryRun) {
    // An owner record without its lock: the lock was released or removed; the record is meaningless.
    const owner = await readOwner(join(dir, LOCK_OWNER_FILE));
    if (ownerState(owner) !== 'alive') await rm(join(dir, LOCK_OWNER_FILE), { force: true });
  }
  return found;
}

/**
 * The owner in a temporary name written by `tempPathBeside` (`.<base>.tmp-<pid>-<hex>`): the pid,
 * on this host (a store is written from one host; one shared between hosts relies on the age).
 */
function ownerFromName(entry: string): Owner | undefined {
  const m = /\.tmp-(\d+)-[0-9a-f]+$/.exec(entry);
  return m ? { pid: Number(m[1]), hostname: hostname(), startedAt: '' } : undefined;
}

/** {@link cleanLeftovers} over every bundle name of the store. */
export async function cleanStore(artifacts: string, options: { dryRun?: boolean } = {}): Promise<Leftover[]> {
  let entries: string[];
  try {
    entries = await readdir(artifacts);
  } catch {
    return [];
  }
  const out: Leftover[] = [];
  for (const e of entries.sort()) if (isBundleName(e)) out.push(...(await cleanLeftovers(artifacts, e, options)));
  return out;
}
