import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** mlpipe's own version, from package.json (same relative place under src/ and dist/). */
export function mlpipeVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
      cached = pkg.version ?? '0.0.0';
    } catch {
      cached = '0.0.0';
    }
  }
  return cached;
}

/** Installed versions of the libraries a bundle's behaviour depends on (read from node_modules). */
export function dependencyVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['ml-random-forest', 'ml-cart', 'ajv', 'apache-arrow']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version?: string };
      out[name] = pkg.version ?? 'unknown';
    } catch {
      out[name] = 'unknown';
    }
  }
  return out;
}
