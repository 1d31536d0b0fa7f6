import { type GoldenFile, goldenFileOf } from '../bundle/golden.js';
import type { Manifest } from '../bundle/manifest.js';
import { readVerifiedFile } from '../bundle/verify.js';

/**
 * A real record for a model's examples: the input of the bundle's first golden record (a holdout row
 * as a client sends it), read through the checksum check; undefined when the bundle has none or the
 * file does not read as expected (examples are a courtesy: they never stop a document being built).
 */
export async function goldenExample(dir: string, manifest: Manifest): Promise<Record<string, unknown> | undefined> {
  const file = goldenFileOf(manifest);
  if (file === undefined) return undefined;
  try {
    const golden = JSON.parse((await readVerifiedFile(dir, manifest, file)).toString('utf8')) as GoldenFile;
    const input = golden.records?.[0]?.input;
    return input !== null && typeof input === 'object' && !Array.isArray(input) ? input : undefined;
  } catch {
    return undefined;
  }
}
