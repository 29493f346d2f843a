// The web pages in headless Chromium, driven by playwright-core: sign in, connect the test
// Radicale, include a series, make the direct's link, add a topic as the direct, press Start.
// Started by the Rust test `web::browser_direct_topic_reaches_the_agenda_in_the_calendar`, which
// checks the calendar after.
//
// Environment: BASE_URL, ADMIN_TOKEN, CALDAV_URL, CALDAV_USER, CALDAV_PASSWORD, OWNER, TOPIC,
// ARTIFACTS (folder for screenshots), NODE_DIR (the .node folder holding playwright-core),
// AGENDA_PNG (optional: where to save the README's picture).

import { join } from 'node:path';
import { env, fresh } from './common.mjs';

const base = env('BASE_URL');
const topic = env('TOPIC');
const shot = (page, name) => page.screenshot({ path: join(env('ARTIFACTS'), `${name}.png`), fullPage: true });

/** Reloads `path` until `check(page)` holds (a pass runs in the background). */
async function until(page, path, check, what) {
  for (let i = 0; i < 60; i++) {
    await page.goto(base + path);
    if (await check(page)) return;
    await page.waitForTimeout(500);
  }
  await shot(page, `timeout-${what.replace(/\W+/g, '-')}`);
  throw new Error(`timed out waiting for ${what}`);
}

const admin = await fresh('admin');
const { page } = admin;
try {
  // Sign in.
  await page.goto(base + '/');
  if (!page.url().endsWith('/signin')) throw new Error(`not sent to sign in: ${page.url()}`);
  await page.fill('#token', 'wrong');
  await page.click('button[type=submit]');
  await page.waitForSelector('#error');
  await shot(page, '01-signin-refused');
  await page.fill('#token', env('ADMIN_TOKEN'));
  await page.click('button[type=submit]');
  await page.waitForSelector('#connect-caldav');
  await shot(page, '02-signed-in');

  // Connect CalDAV: first a wrong password (the page says why), then the right one.
  await page.click('#connect-caldav');
  await page.fill('#url', env('CALDAV_URL'));
  await page.fill('#username', env('CALDAV_USER'));
  await page.fill('#password', 'not-the-password');
  await page.fill('#owner', env('OWNER'));
  await page.click('button[type=submit]');
  const error = await page.textContent('#error');
  if (!/refused the user name or password/.test(error)) throw new Error(`unexpected error: ${error}`);
  await shot(page, '03-connect-refused');
  await page.fill('#password', env('CALDAV_PASSWORD'));
  await page.click('button[type=submit]');
  // The account's page: it reads the calendar (refreshing itself), then shows what it found and
  // that nothing was written, with the Start button.
  await page.waitForSelector('#start-writing', { timeout: 30000 });
  const accountPath = new URL(page.url()).pathname;
  const found = await page.textContent('#found');
  if (!found.includes('1:1 Alice / Sam')) throw new Error(`Alice's 1:1 not in the preview:\n${found}`);
  await page.waitForSelector('#nothing-written');
  await shot(page, '04-connected');

  // The first pass finds the series; include Alice's explicitly.
  await until(page, '/series', async (p) => (await p.content()).includes('1:1 Alice / Sam'), 'series');
  const row = page.locator('tr', { hasText: '1:1 Alice / Sam' });
  await row.locator('button[value=included]').click();
  await page.waitForSelector('text=included by hand');
  await shot(page, '05-series');

  // The direct's link.
  await page.locator('tr', { hasText: '1:1 Alice / Sam' }).locator('a').click();
  const seriesPath = new URL(page.url()).pathname;
  await page.click('#make-link');
  const link = await page.inputValue('#direct-link');
  if (!/\/d\/[A-Za-z0-9_-]{43}$/.test(link)) throw new Error(`odd link: ${link}`);

  const direct = await fresh('direct');
  try {
    await direct.page.goto(link);
    await direct.page.fill('#text', topic);
    await direct.page.click('button[type=submit]');
    await direct.page.waitForSelector(`#topics >> text=${topic}`);
    const agenda = await direct.page.textContent('#agenda');
    if (!agenda.includes(topic)) throw new Error(`topic not in the direct's preview:\n${agenda}`);
    const body = await direct.page.textContent('body');
    for (const leak of ['Bob', 'Team sync', 'Dana', 'Sign out']) {
      if (body.includes(leak)) throw new Error(`${leak} shown on the direct's page`);
    }
    await shot(direct.page, '06-direct');
  } finally {
    await direct.context.close();
  }

  // The series page shows the next agenda with the topic; then run a pass from the home page.
  await page.goto(base + seriesPath);
  const preview = await page.textContent('#agenda');
  if (!preview.includes(topic)) throw new Error(`topic not in the preview:\n${preview}`);
  await shot(page, '07-series-agenda');
  if (process.env.AGENDA_PNG) {
    await page.screenshot({ path: process.env.AGENDA_PNG, fullPage: false });
  }
  // Start: the agendas are written from now on.
  await page.goto(base + accountPath);
  await page.click('#start-writing');
  await page.waitForSelector('#started');
  await shot(page, '08-started');
  console.log('browser steps done');
} catch (e) {
  await shot(page, 'failure').catch(() => {});
  throw e;
} finally {
  await admin.context.close();
}
