// Signing in and out: a wrong password is refused with the server's words,
// the right one opens the dashboard (its funnels counting the seeded data), and
// signing out ends the session on the server too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useApp, expectContains } from '../lib/app.mjs';
import { CAMPAIGNS, USER, seededCounts } from '../lib/seed.mjs';

const app = useApp('signin');

test('a wrong password shows the server\'s reason and keeps the sign-in page', () =>
  app.withPage('wrong-password', async ({ context, page }) => {
    await page.goto('/');
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.getByLabel('Email', { exact: true }).fill(USER.email);
    await page.getByLabel('Password', { exact: true }).fill(`${USER.password}!`);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // What the server says to the same wrong credentials, shown as it is.
    const refused = await context.request.post('/api/v1/session', {
      data: { email: USER.email, password: `${USER.password}!` }, failOnStatusCode: false,
    });
    assert.equal(refused.status(), 401);
    const { detail } = await refused.json();
    assert.ok(detail, 'the 401 has a detail');
    await expectContains(page.getByRole('alert'), detail);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Sign in');
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
    assert.equal((await context.cookies()).filter((c) => c.name === 'rt_session').length, 0, 'no session cookie');
  }, { session: false }));

test('the right password shows the dashboard and the email; sign out returns to sign-in', () =>
  app.withPage('sign-in-out', async ({ context, page }) => {
    await app.signIn(page);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1, 'one h1');
    await page.getByText(USER.email, { exact: true }).waitFor();

    const nav = page.getByRole('navigation');
    for (const [name, href] of [['Dashboard', '/'], ['Referrals', '/referrals'], ['Bulk update', '/bulk-update'],
      ['Qualify', '/qualify'], ['Campaigns', '/campaigns'], ['Rewards', '/rewards']]) {
      assert.equal(await nav.getByRole('link', { name, exact: true }).getAttribute('href'), href, `nav link ${name}`);
    }

    // One funnel per campaign, counting what the seed left.
    for (const campaign of CAMPAIGNS) {
      const s = seededCounts(campaign);
      const label = `Funnel for ${campaign}: ${s.total} referred, ${s.ever_qualified} qualified, ` +
        `${s.counts.approved} approved, ${s.counts.denied} denied`;
      await page.getByRole('img', { name: label, exact: true }).waitFor();
    }

    // A reload keeps the session (the cookie), a client-side route works on reload.
    await page.goto('/referrals');
    await page.getByRole('heading', { level: 1, name: 'Referrals' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    const session = await context.request.get('/api/v1/session', { failOnStatusCode: false });
    assert.equal(session.status(), 401, 'the session is gone on the server');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  }, { session: false }));
