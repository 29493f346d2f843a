// What every browser script shares: its environment, a headless Chromium (Debian's, driven by
// playwright-core from the project's .node folder) with a fresh profile, and screenshots.

import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The environment variable `name`, which must be set. */
export const env = (name) => {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${name} is not set`);
  return v;
};

/** `require` from the project's .node folder (playwright-core, axe-core). */
export const nodeRequire = createRequire(join(env('NODE_DIR'), 'package.json'));

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * A browser with its own fresh profile (--user-data-dir), so no state leaks between runs; `shot`
 * saves a full-page screenshot of its page into ARTIFACTS.
 */
export async function fresh(name, { width = 1100, height = 900, bypassCSP = false } = {}) {
  const { chromium } = nodeRequire('playwright-core');
  const artifacts = env('ARTIFACTS');
  mkdirSync(artifacts, { recursive: true });
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), `oneonone-${name}-`)), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    viewport: { width, height },
    bypassCSP,
  });
  // A limit, not a delay: only a step that fails waits it out. At 20 s a step once ran out on a
  // machine busy with a long simulation and a compile beside the tests.
  context.setDefaultTimeout(60000);
  const page = context.pages()[0] ?? (await context.newPage());
  const shot = (what) => page.screenshot({ path: join(artifacts, `${what}.png`), fullPage: true });
  return { context, page, shot };
}
