// A real headless Chromium (Debian's /usr/bin/chromium) driven by
// playwright-core. Each launch gets a new empty profile; the flags keep it
// from calling out to the network, which this kind of machine refuses.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.RAMPART_CHROMIUM ?? '/usr/bin/chromium';

/** null (and one line on stderr) when Chromium is not installed: browser tests then skip. */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  return `${CHROMIUM} not found: browser tests are skipped (apt-get install chromium)`;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}
