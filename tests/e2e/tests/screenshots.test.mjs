// A full-page PNG of every page at 1280 px (and the referrals list and a profile
// at 375 px) under $E2E_ARTIFACTS, each taken once the page shows the seeded data.
// (The bulk update preview and result and the qualify steps are taken by their
// own tests: bulk-update-*.png, qualify-*.png.) At 375 px nothing may overflow
// the page sideways: wide tables scroll in their own box.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useApp, DESKTOP, PHONE, expectText } from '../lib/app.mjs';
import { CAMPAIGNS, REFERRALS, REWARD_RULE, seededCounts, seededState } from '../lib/seed.mjs';

const app = useApp('screens');

async function heading(page, name) {
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
  assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1, `one h1 on "${name}"`);
}

async function noSidewaysScroll(page, what) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `${what}: the page is ${scrollWidth} px wide in a ${innerWidth} px window`);
}

test('sign-in page', () =>
  app.withPage('sign-in', async ({ page }) => {
    await page.goto('/');
    await heading(page, 'Sign in');
    await app.shot(page, 'sign-in-1280');
  }, { session: false }));

test('dashboard, referrals, profile, campaigns and rewards at 1280 px', () =>
  app.withPage('desktop', async ({ page }) => {
    await app.signIn(page);
    await heading(page, 'Dashboard');
    for (const campaign of CAMPAIGNS) {
      const s = seededCounts(campaign);
      await page.getByRole('img', { name: `Funnel for ${campaign}: ${s.total} referred`, exact: false }).waitFor();
    }
    await app.shot(page, 'dashboard-1280');

    await page.goto('/referrals');
    await heading(page, 'Referrals');
    const all = seededCounts();
    await expectText(page.getByTestId('count-total'), all.total);
    for (const [status, n] of Object.entries(all.counts)) await expectText(page.getByTestId(`count-${status}`), n);
    await page.getByRole('table').locator('tbody tr').nth(Math.min(all.total, 50) - 1).waitFor();
    await app.shot(page, 'referrals-1280');

    const alan = REFERRALS.find((r) => r.key === 'alan');
    await page.goto(`/referrals/${app.ids.alan}`);
    await heading(page, alan.name);
    await expectText(page.getByTestId('current-status'), seededState(alan).status);
    await app.shot(page, 'profile-1280');

    await page.goto('/campaigns');
    await heading(page, 'Campaigns');
    for (const campaign of CAMPAIGNS) {
      const section = page.locator('section', { has: page.getByRole('heading', { level: 2, name: campaign, exact: true }) });
      await section.waitFor();
      const removeButtons = section.getByRole('button', { name: 'Remove rule' });
      const rules = campaign === REWARD_RULE.campaign ? 1 : 0;
      if (rules) await removeButtons.first().waitFor();
      else await section.getByText('No reward rules', { exact: false }).waitFor();
      assert.equal(await removeButtons.count(), rules, `${campaign} has ${rules} reward rule(s)`);
    }
    await app.shot(page, 'campaigns-1280');

    // One reward for each referral of the rule's campaign that was ever qualified (approving passes through qualified).
    const rewarded = REFERRALS.filter((r) => r.campaign === REWARD_RULE.campaign && seededState(r).everQualified)
      .map((r) => `#${app.ids[r.key]}`).sort();
    await page.goto('/rewards');
    await heading(page, 'Rewards');
    const rows = page.getByRole('table').locator('tbody tr');
    await rows.nth(rewarded.length - 1).waitFor();
    assert.equal(await rows.count(), rewarded.length);
    const referralColumn = (await page.getByRole('table').locator('thead th').allTextContents()).indexOf('Referral');
    const listed = [];
    for (let i = 0; i < rewarded.length; i += 1) listed.push((await rows.nth(i).locator('td').nth(referralColumn).textContent()).trim());
    assert.deepEqual(listed.sort(), rewarded);
    const payout = page.getByRole('link', { name: 'Download payout CSV' });
    assert.match(await payout.getAttribute('href'), /^\/api\/v1\/rewards\/export\.csv/);
    await app.shot(page, 'rewards-1280');
  }, { viewport: DESKTOP }));

test('referrals list and profile at 375 px', () =>
  app.withPage('phone', async ({ page }) => {
    await app.signIn(page, { path: '/referrals' });
    await heading(page, 'Referrals');
    await page.getByRole('table').locator('tbody tr').first().waitFor();
    await noSidewaysScroll(page, 'referrals');
    const overflow = await page.getByRole('table').evaluate((table) => getComputedStyle(table.parentElement).overflowX);
    assert.ok(['auto', 'scroll'].includes(overflow), `the table's box scrolls sideways (overflow-x: ${overflow})`);
    await page.getByRole('button', { name: 'Sign out' }).waitFor({ state: 'attached' });
    await app.shot(page, 'referrals-375');

    const donald = REFERRALS.find((r) => r.key === 'donald');
    await page.goto(`/referrals/${app.ids.donald}`);
    await heading(page, donald.name);
    await page.getByTestId('history').locator('li').nth(donald.path.length - 1).waitFor();
    await noSidewaysScroll(page, 'profile');
    await app.shot(page, 'profile-375');
  }, { viewport: PHONE }));

test('campaigns: a campaign and a reward rule added and removed in the page are in the database', () =>
  app.withPage('campaigns-form', async ({ page }) => {
    await app.signIn(page, { path: '/campaigns' });
    await heading(page, 'Campaigns');
    await page.getByLabel('Campaign name', { exact: true }).fill('Autumn');
    await page.getByRole('button', { name: 'Add campaign' }).click();
    const section = page.locator('section', { has: page.getByRole('heading', { level: 2, name: 'Autumn', exact: true }) });
    await section.waitFor();
    const campaign = app.ws.json(['campaign', 'list']).campaigns.find((c) => c.name === 'Autumn');
    assert.ok(campaign, 'the CLI lists the new campaign');

    const on = section.getByLabel('On status', { exact: true });
    const offered = (await on.locator('option').allTextContents()).map((t) => t.trim());
    assert.deepEqual(offered.sort(), ['approved', 'pending', 'qualified'], 'no reward on denied (SPEC §3)');
    await on.selectOption('approved');
    await section.getByLabel('Recipient', { exact: true }).selectOption('both');
    await section.getByLabel('Amount', { exact: true }).fill('40');
    await section.getByLabel('Currency', { exact: true }).fill('EUR');
    await section.getByLabel('Description', { exact: true }).fill('a thank-you');
    await section.getByRole('button', { name: 'Add rule' }).click();
    await section.getByRole('button', { name: 'Remove rule' }).waitFor();
    const rules = app.ws.json(['reward-rule', 'list', '--campaign', 'Autumn']).rules;
    assert.equal(rules.length, 1);
    assert.deepEqual([rules[0].on, rules[0].to, Number(rules[0].amount), rules[0].currency, rules[0].description],
      ['approved', 'both', 40, 'EUR', 'a thank-you']);

    await section.getByRole('button', { name: 'Remove rule' }).click();
    await section.getByText('No reward rules', { exact: false }).waitFor();
    assert.equal(app.ws.json(['reward-rule', 'list', '--campaign', 'Autumn']).rules.length, 0, 'the rule is removed');
  }));
