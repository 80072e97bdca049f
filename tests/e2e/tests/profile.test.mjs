// A referral's profile: changing its status from the "New status" drop-down,
// the refused changes listed with the rule's reason, and a change refused by the
// server (409) because the referral moved behind the page's back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useApp, expectCount, expectText, expectContains } from '../lib/app.mjs';
import { REFERRALS, REWARD_RULE, STATUSES, USER, allowed, seededCounts, seededState } from '../lib/seed.mjs';

const app = useApp('profile');

const seeded = (key) => REFERRALS.find((r) => r.key === key);

/** The statuses SPEC §2 lets `key` (as seeded) move to, and those it refuses. */
function rulesFor(key) {
  const state = seededState(seeded(key));
  const others = STATUSES.filter((s) => s !== state.status);
  return {
    state,
    allowed: others.filter((s) => allowed(state.status, s, state.everQualified)),
    refused: others.filter((s) => !allowed(state.status, s, state.everQualified)),
  };
}

async function options(select) {
  return (await select.locator('option').allTextContents()).map((t) => t.trim());
}

test('changing a pending referral to qualified adds the history entry and shows the new status', () =>
  app.withPage('change-status', async ({ page }) => {
    const ada = seeded('ada');
    const id = app.ids.ada;
    const rules = rulesFor('ada');
    assert.equal(rules.state.status, 'pending');

    // From the list, filtered to the campaign (ada@example.com is in two campaigns).
    await app.signIn(page, { path: '/referrals' });
    await page.getByLabel('Campaign', { exact: true }).selectOption(ada.campaign);
    await page.waitForURL(/campaign=Spring/);
    // The counts and the table follow the filter.
    const spring = seededCounts(ada.campaign);
    for (const status of STATUSES) await expectText(page.getByTestId(`count-${status}`), spring.counts[status]);
    await expectText(page.getByTestId('count-total'), spring.total);
    const rows = page.getByRole('table').locator('tbody tr');
    await expectCount(rows, spring.total);
    assert.equal(await rows.filter({ hasText: 'Summer' }).count(), 0, 'no Summer referral in the Spring list');
    await page.getByRole('link', { name: ada.email, exact: true }).click();
    await page.waitForURL(`**/referrals/${id}`);
    await page.getByRole('heading', { level: 1, name: ada.name }).waitFor();
    await expectText(page.getByTestId('current-status'), 'pending');

    const select = page.getByLabel('New status', { exact: true });
    assert.deepEqual((await options(select)).sort(), [...rules.allowed].sort(), 'only the allowed transitions are offered');
    assert.equal(await page.getByTestId('history').locator('li').count(), 0, 'no history yet');

    await select.selectOption('qualified');
    await page.getByLabel('Note', { exact: true }).fill('signed the contract (e2e)');
    await page.getByRole('button', { name: 'Change status' }).click();
    await page.getByRole('status').filter({ hasText: 'Status changed from pending to qualified' }).waitFor();
    await expectText(page.getByTestId('current-status'), 'qualified');

    // The database, through the CLI: one change, by this user, and the reward rule fired.
    const shown = app.ws.show(id);
    assert.equal(shown.status, 'qualified');
    assert.ok(shown.qualified_at, 'qualified_at is set');
    assert.equal(shown.history.length, 1);
    const change = shown.history[0];
    assert.deepEqual([change.from, change.to], ['pending', 'qualified']);
    assert.ok(['web', 'api', 'manual'].includes(change.source), `source ${change.source}`);
    assert.ok(change.actor.includes(USER.email), `the actor ${change.actor} names ${USER.email}`);
    assert.equal(shown.rewards.length, 1, 'the qualified reward rule issued one reward');
    assert.equal(shown.rewards[0].recipient, REWARD_RULE.to);

    // The page shows the same history entry.
    const items = page.getByTestId('history').locator('li');
    await expectCount(items, 1);
    const entry = await items.first().innerText();
    for (const part of ['pending → qualified', change.source, change.actor]) {
      assert.ok(entry.includes(part), `history entry ${JSON.stringify(entry)} shows ${JSON.stringify(part)}`);
    }
    const rewards = page.locator('section', { has: page.getByRole('heading', { name: 'Rewards', exact: true }) });
    await expectContains(rewards, REWARD_RULE.currency);

    // The drop-down now offers what is allowed from qualified.
    const now = STATUSES.filter((s) => s !== 'qualified' && allowed('qualified', s, true));
    assert.deepEqual((await options(select)).sort(), now.sort());
  }));

for (const key of ['alan', 'donald']) {
  test(`the profile of ${key} (${seededState(seeded(key)).status}) lists the refused statuses with the server's reason`, () =>
    app.withPage(`refused-${key}`, async ({ context, page }) => {
      const id = app.ids[key];
      const rules = rulesFor(key);
      await app.signIn(page, { path: `/referrals/${id}` });
      await page.getByRole('heading', { level: 1, name: seeded(key).name }).waitFor();
      await expectText(page.getByTestId('current-status'), rules.state.status);

      const api = await (await context.request.get(`/api/v1/referrals/${id}`)).json();
      const reasons = Object.fromEntries(api.transitions.filter((t) => !t.allowed).map((t) => [t.to, t.reason]));
      assert.deepEqual(Object.keys(reasons).sort(), [...rules.refused].sort(), 'the server refuses what SPEC §2 refuses');

      const list = page.getByRole('list', { name: 'Not allowed' });
      const items = list.getByRole('listitem');
      assert.equal(await items.count(), rules.refused.length);
      for (const status of rules.refused) {
        assert.ok(reasons[status], `a reason for ${status}`);
        const item = items.filter({ hasText: reasons[status] }).filter({ hasText: status });
        assert.equal(await item.count(), 1, `"Not allowed" lists ${status}: ${reasons[status]}`);
      }
      if (rules.state.status === 'approved') {
        for (const reason of Object.values(reasons)) assert.match(reason, /approved is final/);
      }
      const offered = await options(page.getByLabel('New status', { exact: true }));
      assert.deepEqual(offered.sort(), [...rules.allowed].sort());
    }));
}

test('a change refused by the server (the referral was approved meanwhile) shows its 409 detail and changes nothing', () =>
  app.withPage('race', async ({ page }) => {
    const id = app.ids.ken;
    assert.equal(seededState(seeded('ken')).status, 'pending');
    await app.signIn(page, { path: `/referrals/${id}` });
    await expectText(page.getByTestId('current-status'), 'pending');
    await page.getByLabel('New status', { exact: true }).selectOption('qualified');

    // Behind the page's back.
    app.ws.cli(['referral', 'set-status', `id:${id}`, 'approved']);
    const before = app.ws.show(id);
    assert.equal(before.status, 'approved');

    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().endsWith(`/api/v1/referrals/${id}`)),
      page.getByRole('button', { name: 'Change status' }).click(),
    ]);
    assert.equal(response.status(), 409);
    const { detail } = await response.json();
    const alert = page.getByRole('alert');
    await expectContains(alert, detail);
    // The server's words for the refusal are the engine's: the CLI refuses the same change alike.
    const rule = app.ws.refusal(['referral', 'set-status', `id:${id}`, 'qualified']);
    await expectContains(alert, rule);
    assert.match(rule, /approved is final/);
    assert.equal(await page.getByRole('status').filter({ hasText: 'Status changed' }).count(), 0);

    const after = app.ws.show(id);
    assert.equal(after.status, 'approved');
    assert.deepEqual(after.history, before.history, 'no history row was written');
  }));

test('a referral without a name is titled by its email', () =>
  app.withPage('no-name', async ({ page }) => {
    const nameless = REFERRALS.find((r) => !r.name);
    await app.signIn(page, { path: `/referrals/${app.ids[nameless.key]}` });
    await page.getByRole('heading', { level: 1, name: nameless.email, exact: true }).waitFor();
    assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1);
  }));
