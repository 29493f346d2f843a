// The manager's weekly tasks in headless Chromium (playwright-core), at 1280 px and at 375 px:
// the home page lists the coming 1:1s soonest first (next 7 days, then later), each with one link
// to its page; on a 1:1's page a past meeting is marked as held and then as not held; /insights
// opens on its lines in words, and the full table is one click away.
// Started by the Rust test `web::the_weekly_tasks_work_in_chromium_on_a_desktop_and_a_phone`.
//
// Environment: BASE_URL, ADMIN_TOKEN, NODE_DIR (the .node folder holding playwright-core),
// ARTIFACTS (folder for screenshots).

import { env, fresh } from './common.mjs';

const base = env('BASE_URL');
const { context, page, shot } = await fresh('cockpit', { width: 1280 });
const fail = async (what) => {
  await shot('failure');
  throw new Error(what);
};

try {
  await page.goto(base + '/signin');
  await page.fill('#token', env('ADMIN_TOKEN'));
  await page.click('button[type=submit]');
  await page.waitForSelector('h1');

  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    // Home: the coming 1:1s, soonest first; the next 7 days before the later ones.
    await page.goto(base + '/');
    const coming = await page.$$eval('li.coming', (lis) =>
      lis.map((li) => ({
        at: li.querySelector('time')?.getAttribute('datetime'),
        group: li.closest('section')?.id,
        links: li.querySelectorAll('a').length,
        text: li.textContent.replace(/\s+/g, ' ').trim(),
      })),
    );
    if (coming.length < 2) await fail(`home lists ${coming.length} coming 1:1s:\n${JSON.stringify(coming)}`);
    for (let i = 1; i < coming.length; i++) {
      if (Date.parse(coming[i - 1].at) > Date.parse(coming[i].at)) {
        await fail(`not soonest first: ${coming[i - 1].text} before ${coming[i].text}`);
      }
    }
    const groups = coming.map((c) => c.group).join(' ');
    if (!/^(week ?)*(later ?)*$/.test(groups)) await fail(`groups out of order: ${groups}`);
    if (coming.some((c) => c.links !== 1)) await fail(`each 1:1 has one link: ${JSON.stringify(coming)}`);
    if (!coming.every((c) => /topic|follow-up/.test(c.text))) await fail(`counts missing: ${JSON.stringify(coming)}`);
    await shot(`home-${width}`);

    // A 1:1's page (the first one with a past meeting), reached from home: that meeting marked
    // held, then not held, by a person.
    const pages = await page.$$eval('li.coming a', (as) => as.map((a) => a.getAttribute('href')));
    let held = null;
    for (const href of pages) {
      await page.goto(base + href);
      const candidate = page.locator('button[id^=held-]:not([disabled])').first();
      if ((await candidate.count()) > 0) {
        held = candidate;
        break;
      }
    }
    if (!held) await fail(`no past meeting to mark on the 1:1 pages ${pages}`);
    const id = (await held.getAttribute('id')).slice('held-'.length);
    await held.click();
    await page.waitForSelector(`#held-${id}[disabled]`);
    const article = page.locator('article.meeting', { has: page.locator(`#held-${id}`) });
    if (!/marked from the web/.test(await article.textContent())) await fail('the mark is not shown');
    await page.click(`#skipped-${id}`);
    await page.waitForSelector(`#skipped-${id}[disabled]`);
    await shot(`series-${width}`);
    // Put it back as held for the next width.
    await page.click(`#held-${id}`);
    await page.waitForSelector(`#held-${id}[disabled]`);

    // Insights: lines in words, the full table one click away.
    await page.goto(base + '/insights');
    const lines = await page.$$eval('#attention li', (lis) => lis.map((li) => li.textContent.trim()));
    const calm = await page.$('#calm');
    if (lines.length === 0 && !calm) await fail('insights show neither lines nor the calm line');
    if (lines.some((l) => !/[a-z]{3,} /.test(l))) await fail(`a line is not in words: ${lines}`);
    await page.click('#all-numbers');
    await page.waitForSelector('table');
    await shot(`insights-${width}`);
  }
  console.log('cockpit steps done');
} finally {
  await context.close();
}
