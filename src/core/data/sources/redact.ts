/**
 * Removing secrets from what mlpipe records and prints. A URL keeps its scheme, host, port, path and
 * harmless query parameters; the password (and user info with it) and any query parameter whose name
 * looks like a credential are replaced by `***`.
 */

const SECRET_PARAM = /(pass|pwd|secret|token|key|auth|signature|sig|credential|session)/i;

/** `postgres://bob:hunter2@db:5432/x?sslpassword=y` → `postgres://bob:***@db:5432/x?sslpassword=***`. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL: strip anything that looks like user:password@ before a host.
    return url.replace(/\/\/([^/@\s:]+):([^/@\s]*)@/, '//$1:***@');
  }
  if (parsed.password) parsed.password = '***';
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, '***');
  }
  // URL encodes `*`; keep the marker readable.
  return parsed.toString().replace(/%2A%2A%2A/g, '***');
}

/**
 * Replaces every occurrence of the given secret values (passwords, tokens read from the environment)
 * in a text with `***`; used on error messages that quote a server's or library's words.
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 3) out = out.split(s).join('***');
  }
  return out;
}

/**
 * Expands `${NAME}` references from the environment (connection URLs, headers, tokens in a config).
 * Returns the expanded text and the values used, so callers can scrub them from messages. An unset
 * variable is an error naming it (the caller turns it into a ConfigError with its config path).
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): { value: string; secrets: string[]; missing: string[] } {
  const secrets: string[] = [];
  const missing: string[] = [];
  const value = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) {
      missing.push(name);
      return '';
    }
    secrets.push(v);
    return v;
  });
  return { value, secrets, missing };
}
