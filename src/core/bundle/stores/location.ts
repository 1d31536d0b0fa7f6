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
