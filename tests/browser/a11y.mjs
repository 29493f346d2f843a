// Every page in headless Chromium, checked with axe-core (the accessibility rules of WCAG 2.x A
// and AA) at 1280 px and at 375 px wide: no serious or critical violation, and nothing wider
// than the 375 px screen (no sideways scrolling). The pages are found the way a person finds
// them: signed in, from the home page, following every same-site link (one page per route
// shape: /series/1 and /series/2 count once), plus the pages no admin link reaches (sign-in,
// the direct's link, a page that does not exist).
// Started by the Rust test `web::every_page_passes_the_accessibility_check_at_1280_and_375_px`.
//
// Environment: BASE_URL, ADMIN_TOKEN, NODE_DIR (the .node folder holding playwright-core and
// axe-core), EXTRA_PATHS (space-separated paths visited without signing in: the direct's link),
// ARTIFACTS (folder for screenshots of failures).

import { join } from 'node:path';
import { env, fresh, nodeRequire } from './common.mjs';

const AXE = nodeRequire.resolve('axe-core/axe.min.js');
const base = env('BASE_URL');
const artifacts = env('ARTIFACTS');
const WIDTHS = [1280, 375];
// The JSON and metrics endpoints are for machines (a page links /readyz for its details).
const SKIP = [
  /^\/signout/, /^\/static\//, /^\/api\//, /^\/oauth\//, /^\/connect\/google/,
  /^\/readyz/, /^\/healthz/, /^\/metrics/,
];

/** The route shape of a path: numbers and tokens replaced, so each page is checked once. */
const shape = (path) => path.replace(/\/\d+/g, '/N').replace(/\/d\/[^/]+/, '/d/T').replace(/\?.*$/, '');

// The pages' Content-Security-Policy forbids scripts (they need none); axe-core is injected.
const { context, page } = await fresh('a11y', { width: 1280, bypassCSP: true });

const problems = [];
let checked = 0;

/** axe-core and the width check on the page as it stands, at each width. */
async function check(path) {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(base + path);
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
    );
    for (const v of result.violations) {
      if (v.impact !== 'serious' && v.impact !== 'critical') continue;
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ');
      problems.push(`${path} at ${width} px: ${v.impact} ${v.id}: ${v.help} (${where})`);
    }
    if (width === 1280) await keyboard(path);
    if (width === 375) {
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      if (wide > 376) {
        const culprit = await page.evaluate(() => {
          const all = [...document.querySelectorAll('body *')];
          const over = all.filter((e) => e.getBoundingClientRect().right > 376);
          const e = over[over.length - 1];
          return e ? `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className ? '.' + e.className : ''}` : '?';
        });
        problems.push(`${path} at 375 px: the page is ${wide} px wide (scrolls sideways; widest: ${culprit})`);
        await page.screenshot({ path: join(artifacts, `wide-${shape(path).replace(/\W+/g, '_')}.png`), fullPage: true });
      }
    }
    checked++;
  }
}

/**
 * Keyboard only: Tab from the top reaches every link, button and field of the page, in order,
 * each showing where the focus is (an outline), and Tab never gets stuck.
 */
async function keyboard(path) {
  const wanted = await page.evaluate(() => {
    const sel = 'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])';
    const all = [...document.querySelectorAll(sel)].filter((e) => !e.disabled && e.getClientRects().length > 0);
    all.forEach((e, i) => e.setAttribute('data-a11y-k', String(i)));
    return all.length;
  });
  const reached = new Set();
  const unmarked = [];
  for (let i = 0; i < wanted + 3; i++) {
    await page.keyboard.press('Tab');
    const seen = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      const style = getComputedStyle(e);
      const shown = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
      const name = `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.name ? '[name=' + e.name + ']' : ''}`;
      return { k: e.getAttribute('data-a11y-k'), shown, name };
    });
    if (!seen) continue;
    if (seen.k !== null) reached.add(seen.k);
    if (!seen.shown && !unmarked.includes(seen.name)) unmarked.push(seen.name);
  }
  if (reached.size < wanted) {
    problems.push(`${path}: Tab reaches ${reached.size} of its ${wanted} links, buttons and fields`);
  }
  if (unmarked.length > 0) {
    problems.push(`${path}: focused, these show no outline: ${unmarked.join(', ')}`);
  }
}

try {
  // The pages before signing in.
  await check('/signin');
  for (const p of env('EXTRA_PATHS').split(/\s+/).filter(Boolean)) await check(p);
  await check('/no/such/page');

  // Sign in, then every page a link leads to.
  await page.goto(base + '/signin');
  await page.fill('#token', env('ADMIN_TOKEN'));
  await page.click('button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  const seen = new Set();
  const queue = ['/'];
  while (queue.length > 0 && seen.size < 60) {
    const path = queue.shift();
    if (seen.has(shape(path))) continue;
    seen.add(shape(path));
    await check(path);
    const links = await page.evaluate(() => [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')));
    for (const href of links) {
      if (!href.startsWith('/') || href.startsWith('//')) continue;
      const clean = href.split('#')[0];
      if (SKIP.some((r) => r.test(clean)) || seen.has(shape(clean))) continue;
      queue.push(clean);
    }
  }
  console.log(`checked ${seen.size} signed-in page shapes and the public pages, ${checked} page views`);
  console.log(`pages: ${[...seen].join(' ')}`);
} finally {
  await context.close();
}
if (problems.length > 0) {
  console.error(`${problems.length} accessibility problem(s):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log('no serious or critical violation, nothing wider than 375 px');
