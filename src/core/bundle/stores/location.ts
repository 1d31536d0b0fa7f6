/** `scheme://` at the start of a store location (`s3://…`, `https://…`, `file://…`). */
const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/** The scheme of a store location, lower-cased (`s3`, `https`, …); undefined for a folder path. */
export function schemeOf(location: string): string | undefined {
  return SCHEME_RE.exec(location)?.[1]?.toLowerCase();
}

/** True when a store location names a remote store (or a `file://` URL) rather than a folder path: kept as written, never resolved against a folder. */
export function isRemoteLocation(location: string): boolean {
  return SCHEME_RE.test(location);
}

/** Where a bundle of a remote store is, for messages: `s3://bucket/prefix/name/1.0.0`, `https://host/path/name/1.0.0`. */
export function remoteBundleLocation(location: string, name: string, version: string): string {
  return `${location.replace(/\/+$/, '')}/${name}/${version}`;
}

/**
 * True when a bundle reference names a folder (`./x`, `a/b/1.0.0`) rather than a bundle of a store
 * (`name`, `name@1.2.0`, `name@alias`) or an npm package (`npm:…`).
 */
export function isFolderRef(ref: string): boolean {
  return !ref.startsWith('npm:') && (ref.includes('/') || ref.startsWith('.')) && !ref.includes('@');
}
