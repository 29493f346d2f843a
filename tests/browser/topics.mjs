// A 1:1's topics managed on its page in headless Chromium at 375 px wide, as a manager who never
// saw the product would: by the labels, typing and pressing Enter, one button per action. Started
// by the Rust test `web_topics::browser_topics_managed_on_a_phone_sized_page_reach_the_calendar`,
// which checks the calendar after.
//
// Environment: BASE_URL, ADMIN_TOKEN, SERIES_PATH (the 1:1's page), ARTIFACTS (screenshots),
// NODE_DIR (the .node folder holding playwright-core).

import { env, fresh } from './common.mjs';

const base = env('BASE_URL');
const series = env('SERIES_PATH');
const { context, page, shot } = await fresh('topics', { width: 375, height: 800 });

/** What the page says it did. */
async function notice(want) {
  const text = await page.textContent('#topics-notice');
  if (!text.includes(want)) throw new Error(`notice ${JSON.stringify(text)} lacks ${JSON.stringify(want)}`);
}

/** The page fits 375 px: nothing to scroll sideways. */
async function fits(what) {
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wide > 375) {
    await shot(`too-wide-${what}`);
    throw new Error(`${what}: the page is ${wide} px wide at 375`);
  }
}

try {
  await page.goto(base + '/');
  await page.fill('#token', env('ADMIN_TOKEN'));
  await page.press('#token', 'Enter');
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  await page.goto(base + series);
  await fits('series page');

  // Add by typing into the field labelled for the section and pressing Enter.
  for (const text of ['Budget', 'Share the roadmap', 'Old idea', 'Book the offsite']) {
    await page.getByLabel('New topic for Your topics').fill(text);
    await page.getByLabel('New topic for Your topics').press('Enter');
    await notice(`“${text}” is added to Your topics.`);
  }
  await fits('four topics');
  await shot('01-added');

  // Reword: the topic's own field, Enter saves.
  const field = page.locator('input[name=text][value="Share the roadmap"]');
  await field.fill('Share the Q3 roadmap');
  await field.press('Enter');
  await notice('The topic now reads “Share the Q3 roadmap”.');

  // Up, by keyboard: focus the button and press Enter.
  await page.getByRole('button', { name: 'Up: Share the Q3 roadmap' }).press('Enter');
  await notice('“Share the Q3 roadmap” is now #1 of Your topics.');

  // To the direct's topics.
  const direct = (await page.textContent('#section-direct h3')).trim();
  await page.getByLabel('Move “Share the Q3 roadmap” to').selectOption({ label: direct });
  await page.locator('li', { has: page.locator('input[value="Share the Q3 roadmap"]') }).getByRole('button', { name: 'Move' }).click();
  await notice(`“Share the Q3 roadmap” is now #1 of ${direct}.`);

  // Done and dropped.
  await page.getByRole('button', { name: 'Done: Book the offsite' }).click();
  await notice('“Book the offsite” is done');
  await page.getByRole('button', { name: 'Drop: Old idea' }).click();
  await notice('“Old idea” is dropped');
  await fits('after the changes');
  const pass = await page.textContent('#next-pass');
  if (!/next pass/.test(pass)) throw new Error(`no word on the next pass: ${pass}`);
  await shot('02-changed');

  await page.click('#sync-now');
  await page.waitForSelector('#topics');
  console.log('topic steps done');
} catch (e) {
  await shot('failure').catch(() => {});
  throw e;
} finally {
  await context.close();
}
