import { userInfo } from 'node:os';
import { ConfigError, messageOf } from '../../errors.js';
import type { AliasEvent } from './types.js';

/** `<name>/alias-history.ndjson` (folder) or `<name>/history/<time>-<id>.json` objects (S3): one event each. */
export const HISTORY_FILE = 'alias-history.ndjson';

/** Compares X.Y.Z versions numerically. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The version after `v` with its patch number raised (`1.2.3` → `1.2.4`); `1.0.0` when there is none. */
export function nextPatch(v: string | undefined): string {
  if (!v) return '1.0.0';
  const [major, minor, patch] = v.split('.').map(Number) as [number, number, number];
  return `${major}.${minor}.${patch + 1}`;
}

/** Parses an aliases.json text (an object of alias → version); ConfigError naming `where` otherwise. */
export function parseAliases(text: string, where: string): Record<string, string> {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected an object of alias → version');
    for (const [k, v] of Object.entries(parsed)) if (typeof v !== 'string') throw new Error(`alias ${JSON.stringify(k)} is not a version string`);
    return parsed as Record<string, string>;
  } catch (err) {
    throw new ConfigError(`${where}: invalid aliases file (${messageOf(err)})`);
  }
}

/** Who changes an alias: `MLPIPE_USER`, else the CI's actor, else the login name. */
export function actor(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.MLPIPE_USER || env.GITHUB_ACTOR || env.GITLAB_USER_LOGIN || env.BUILDKITE_BUILD_CREATOR || env.USER || env.LOGNAME;
  if (fromEnv) return fromEnv.slice(0, 200);
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The history events of one alias change: one per alias whose target changed. */
export function aliasEvents(before: Record<string, string>, after: Record<string, string>, action: string, at = new Date().toISOString()): AliasEvent[] {
  const by = actor();
  const events: AliasEvent[] = [];
  for (const alias of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const from = Object.hasOwn(before, alias) ? (before[alias] as string) : null;
    const to = Object.hasOwn(after, alias) ? (after[alias] as string) : null;
    if (from !== to) events.push({ at, by, alias, from, to, action });
  }
  return events;
}

function isEvent(v: unknown): v is AliasEvent {
  const e = v as Partial<AliasEvent> | null;
  return (
    e !== null &&
    typeof e === 'object' &&
    typeof e.at === 'string' &&
    typeof e.by === 'string' &&
    typeof e.alias === 'string' &&
    (e.from === null || typeof e.from === 'string') &&
    (e.to === null || typeof e.to === 'string') &&
    typeof e.action === 'string'
  );
}

/** Parses one history event (JSON); ConfigError naming `where` when it is not one. */
export function parseEvent(text: string, where: string): AliasEvent {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${where}: invalid alias history entry (${messageOf(err)})`);
  }
  if (!isEvent(v)) throw new ConfigError(`${where}: invalid alias history entry (expected at, by, alias, from, to, action)`);
  return v;
}

/** Parses an NDJSON alias history (a folder store's), naming the line at fault. */
export function parseHistory(text: string, where: string): AliasEvent[] {
  const out: AliasEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    // A last line cut by a crash mid-append is not an event; every earlier line must be one.
    if (line === '' || (i === lines.length - 1 && !text.endsWith('\n'))) continue;
    out.push(parseEvent(line, `${where}: line ${i + 1}`));
  }
  return out;
}
