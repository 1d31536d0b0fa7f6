import { ConfigError } from '../errors.js';

/**
 * The one rule for bundle names and versions: the store, the manifest schema, the pipeline config
 * schema, `init` and `package` all use these.
 *
 * A name is a folder of the store (`artifacts/<name>/`), so it is kept well under the 255 bytes a
 * file name may have on common file systems, with room for the temporary folders beside it.
 */
export const BUNDLE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
/** Longest bundle name (characters; names are ASCII, so also bytes). */
export const BUNDLE_NAME_MAX = 100;
/** Each part of an X.Y.Z version: at most 9 digits (exact as a number, a short folder name). */
export const BUNDLE_VERSION_PATTERN = '^(\\d{1,9})\\.(\\d{1,9})\\.(\\d{1,9})$';

const NAME_RE = new RegExp(BUNDLE_NAME_PATTERN);
export const VERSION_RE = new RegExp(BUNDLE_VERSION_PATTERN);

/** A name or value shown in a message: at most 60 characters of it, with its length when cut. */
export function shown(text: string): string {
  return text.length > 60 ? `${JSON.stringify(text.slice(0, 60))}… (${text.length} characters)` : JSON.stringify(text);
}

/** True when `name` is a valid bundle name (pattern and length). */
export function isBundleName(name: string): boolean {
  return bundleNameProblem(name) === undefined;
}

/** What is wrong with a bundle name (`is too long for a bundle name (…)`), or undefined when it is valid. */
export function bundleNameProblem(name: string): string | undefined {
  if (name.length > BUNDLE_NAME_MAX) return `is too long for a bundle name (at most ${BUNDLE_NAME_MAX} characters: it is a folder of the bundle store)`;
  if (!NAME_RE.test(name)) return 'is not a valid bundle name (letters, digits, ".", "_", "-"; starting with a letter or digit)';
  return undefined;
}

/** Checks a bundle name: letters, digits, `.`, `_`, `-`, starting with a letter or digit, at most {@link BUNDLE_NAME_MAX} characters. */
export function checkName(name: string, where = 'name'): string {
  const problem = bundleNameProblem(name);
  if (problem !== undefined) throw new ConfigError(`${where}: ${shown(name)} ${problem}`);
  return name;
}

/** Checks an X.Y.Z version (each part at most 9 digits). */
export function checkVersion(version: string, where = 'version'): string {
  if (!VERSION_RE.test(version)) throw new ConfigError(`${where}: ${shown(version)} is not a version of the form X.Y.Z with at most 9 digits in each part (e.g. 1.0.0)`);
  return version;
}
