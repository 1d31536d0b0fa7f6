/**
 * The registry's alias operations, on any store: promote a version to an alias, roll an alias back
 * to its previous target, read an alias's history, and remove old versions that no alias needs.
 * Every change goes through {@link BundleStore.updateAliases} (a lock or a conditional write), so it
 * lands in the store's append-only alias history with who made it.
 */
import { ConfigError, ConflictError, NotFoundError, VerificationError } from '../errors.js';
import { ownValue } from '../records/dict.js';
import { suggest } from '../suggest.js';
import { MANIFEST_FILE } from './manifest.js';
import { VERSION_RE, isBundleName, shown } from './names.js';
import { type AliasEvent, checkAlias, isFolderRef, openStore, resolveRef } from './store.js';
import type { BundleStore } from './stores/types.js';
import { verifyBundle } from './verify.js';
import type { Leftover } from './leftovers.js';

/** What {@link promoteBundle} and {@link rollbackAlias} did. */
export interface AliasMove {
  name: string;
  alias: string;
  /** The version the alias pointed at before (null: it did not exist). */
  from: string | null;
  to: string;
  /** False when the alias already pointed at `to` (nothing was written). */
  changed: boolean;
}

/** Checks a bundle name given on its own (`bundles rollback <name>`), saying what exists instead. */
async function existingName(store: BundleStore, name: string): Promise<string[]> {
  if (!isBundleName(name)) throw new ConfigError(`${shown(name)}: not a bundle name (give the name alone, e.g. penguins)`);
  const versions = await store.listVersions(name);
  if (versions.length === 0) {
    const names = await store.listNames();
    const hint = suggest(name, names);
    throw new NotFoundError(`no bundle named "${name}" in ${store.location}${hint ? ` (did you mean "${hint}"?)` : names.length ? ` (bundles: ${names.join(', ')})` : ' (the store is empty)'}`);
  }
  return versions;
}

/**
 * Points `alias` at the bundle `ref` names in the store (verified first: a changed bundle is never
 * promoted). A bundle folder outside the store cannot be promoted. The change is recorded in the
 * alias history as `action` (`promote`).
 */
export async function promoteBundle(artifacts: string, ref: string, alias: string, action = 'promote'): Promise<AliasMove> {
  checkAlias(alias);
  const resolved = await resolveRef(ref, artifacts);
  if (resolved.name === undefined || resolved.version === undefined) {
    throw new ConfigError(`${ref}: only bundles inside the store (${artifacts}) can be promoted; package it there first (mlpipe package … --artifacts ${artifacts})`);
  }
  const { name, version } = resolved;
  const m = await verifyBundle(resolved.dir);
  if (m.name !== name || m.version !== version) {
    throw new VerificationError(MANIFEST_FILE, `${resolved.dir}: the manifest says ${m.name}@${m.version}, but the bundle is stored as ${name}@${version}; refusing to promote it`);
  }
  const store = await openStore(artifacts);
  const { before } = await store.updateAliases(name, (aliases) => ({ ...aliases, [alias]: version }), action);
  const from = ownValue(before, alias) ?? null;
  return { name, alias, from, to: version, changed: from !== version };
}

/**
 * The version an alias goes back to: the target before the change that set its current one.
 * Rollbacks undo: the history is read as a stack where a `rollback` event takes back the change it
 * undid, so a second rollback goes one step further back (1.0.2 → 1.0.1 → 1.0.0), never forward to
 * the version the first one left. Null when there is nothing to go back to.
 */
export function previousTarget(events: readonly AliasEvent[], alias: string, current: string): { to: string | null; event: AliasEvent | undefined } {
  const stack: AliasEvent[] = [];
  for (const e of events) {
    if (e.alias !== alias) continue;
    const top = stack[stack.length - 1];
    if (e.action === 'rollback' && top !== undefined && top.to === e.from && top.from === e.to) stack.pop();
    else stack.push(e);
  }
  const top = stack[stack.length - 1];
  if (top !== undefined && top.to === current) return { to: top.from, event: top };
  // A history that does not end at the current target (aliases.json changed by hand): the last
  // event that set it to the current target says where it came from.
  const last = [...events].reverse().find((e) => e.alias === alias && e.to === current);
  return { to: last?.from ?? null, event: last };
}

/**
 * Points `alias` of `name` back to its previous target (see {@link previousTarget}), verified first;
 * recorded in the history as `rollback`. NotFoundError when the alias does not exist, when there is
 * nothing to roll back to, or when that version no longer exists; ConflictError when another mlpipe
 * moved the alias meanwhile.
 */
export async function rollbackAlias(artifacts: string, name: string, alias: string): Promise<AliasMove> {
  checkAlias(alias);
  const store = await openStore(artifacts);
  const versions = await existingName(store, name);
  const aliases = await store.readAliases(name);
  const current = ownValue(aliases, alias);
  if (current === undefined) {
    const known = Object.keys(aliases);
    throw new NotFoundError(`${name}@${alias}: no such alias, nothing to roll back (${known.length ? `aliases: ${known.join(', ')}` : 'no aliases yet; see mlpipe bundles promote'})`);
  }
  const { to, event } = previousTarget(await store.readHistory(name), alias, current);
  if (to === null) {
    const how = event ? `it was first set to ${current} (${event.action} by ${event.by} at ${event.at})` : `its history has no change that set it to ${current}`;
    throw new NotFoundError(`${name}@${alias} → ${current}: nothing to roll back to; ${how}`);
  }
  if (!versions.includes(to)) {
    throw new NotFoundError(`${name}@${alias}: its previous target ${to} no longer exists in ${store.location} (removed by bundles gc?); promote a version instead`);
  }
  const resolved = await resolveRef(`${name}@${to}`, artifacts);
  await verifyBundle(resolved.dir);
  await store.updateAliases(
    name,
    (now) => {
      const moved = ownValue(now, alias);
      if (moved !== current) throw new ConflictError(`${name}@${alias}: moved to ${moved ?? '(removed)'} by another mlpipe while rolling back; nothing changed, run the rollback again`);
      return { ...now, [alias]: to };
    },
    'rollback',
  );
  return { name, alias, from: current, to, changed: true };
}

/** The alias history of a name, oldest first (only `alias`'s events when given). */
export async function aliasHistory(artifacts: string, name: string, alias?: string): Promise<AliasEvent[]> {
  if (alias !== undefined) checkAlias(alias);
  const store = await openStore(artifacts);
  await existingName(store, name);
  const events = await store.readHistory(name);
  return alias === undefined ? events : events.filter((e) => e.alias === alias);
}

/** One version {@link gcVersions} looked at. */
export interface GcVersion {
  version: string;
  action: 'kept' | 'removed';
  /** Why it was kept: among the newest, or the aliases pointing at it. */
  reason: string;
  aliases: string[];
}

/** What {@link gcVersions} did. */
export interface GcResult {
  name: string;
  keep: number;
  dryRun: boolean;
  versions: GcVersion[];
  /** Leftovers of killed publishers and promoters of this name. */
  leftovers: Leftover[];
}

/**
 * Removes old versions of `name`: keeps the `keep` newest and every version an alias points at,
 * removes the others with {@link BundleStore.removeVersion} (nothing with `dryRun`), and removes the
 * name's leftovers. The aliases are read again just before each removal: a version promoted
 * meanwhile is kept.
 */
export async function gcVersions(artifacts: string, name: string, keep: number, options: { dryRun?: boolean } = {}): Promise<GcResult> {
  if (!Number.isInteger(keep) || keep < 0) throw new ConfigError(`--keep: must be a whole number ≥ 0, got ${keep}`);
  const store = await openStore(artifacts);
  const versions = await existingName(store, name);
  const dryRun = options.dryRun === true;
  const leftovers = await store.cleanLeftovers(name, { dryRun });
  const newest = new Set(versions.slice(Math.max(0, versions.length - keep)));
  const aliasesOf = (aliases: Record<string, string>, v: string) => Object.entries(aliases).filter(([, t]) => t === v).map(([a]) => a).sort();
  let aliases = await store.readAliases(name);
  const out: GcVersion[] = [];
  for (const version of [...versions].reverse()) {
    if (!dryRun && !newest.has(version)) aliases = await store.readAliases(name);
    const pointing = aliasesOf(aliases, version);
    if (newest.has(version)) out.push({ version, action: 'kept', reason: `one of the ${keep} newest`, aliases: pointing });
    else if (pointing.length > 0) out.push({ version, action: 'kept', reason: `alias ${pointing.join(', ')}`, aliases: pointing });
    else {
      if (!dryRun) await store.removeVersion(name, version);
      out.push({ version, action: 'removed', reason: `not one of the ${keep} newest, no alias`, aliases: [] });
    }
  }
  return { name, keep, dryRun, versions: out, leftovers };
}

/**
 * True when `ref` names an alias (`name@production`) that does not exist yet, in a store where the
 * name has no such alias or no version at all: a first release, which `promote --if-better` lets
 * through without a gate. False for every other reference (a folder, a version, `name`, an alias
 * that exists).
 */
export async function isMissingAlias(artifacts: string, ref: string): Promise<boolean> {
  const at = ref.indexOf('@');
  if (at < 0 || isFolderRef(ref)) return false;
  const name = ref.slice(0, at);
  const selector = ref.slice(at + 1);
  if (!isBundleName(name) || selector === '' || selector === 'latest' || VERSION_RE.test(selector)) return false;
  const store = await openStore(artifacts);
  return ownValue(await store.readAliases(name), selector) === undefined;
}
