import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it), or MLPIPE_CHROMIUM. */
export const CHROMIUM = process.env.MLPIPE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless Chromium for a browser test, with the flags that keep it off this machine's closed network.
 * Without chromium the calling `before` hook's suite is skipped with a note, except in CI, where it fails.
 */
export async function launchChromium(hook: Mocha.Context): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
    console.warn(`    (skipped: ${CHROMIUM} not found; apt-get install -y chromium, or set MLPIPE_CHROMIUM)`);
    hook.skip();
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}
