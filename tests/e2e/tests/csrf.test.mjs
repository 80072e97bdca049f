// The session's protections, from a signed-in page: a change without the
// session's X-CSRF-Token (or with a wrong one) is refused with 403 and changes
// nothing; with it, it is made. The session cookie is HttpOnly and SameSite=Strict,
// and the page is served under the Content-Security-Policy of the contract.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useApp } from '../lib/app.mjs';
import { USER, seededState, REFERRALS } from '../lib/seed.mjs';

const app = useApp('csrf');

/** A fetch made by the page itself (same origin, its cookie), returning {status, body}. */
function fetchFromPage(page, method, path, { body, token } = {}) {
  return page.evaluate(async ({ method, path, body, token }) => {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token !== undefined) headers['X-CSRF-Token'] = token;
    const response = await fetch(path, {
      method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, type: response.headers.get('Content-Type'), body: json ?? text };
  }, { method, path, body, token });
}

test('PATCH without the CSRF header or with a wrong one is 403 and changes nothing; with the right one it is 200', () =>
  app.withPage('csrf', async ({ page }) => {
    const id = app.ids.ken;
    assert.equal(seededState(REFERRALS.find((r) => r.key === 'ken')).status, 'pending');
    await app.signIn(page, { path: `/referrals/${id}` });
    const target = `/api/v1/referrals/${id}`;

    // Reading needs no token.
    const read = await fetchFromPage(page, 'GET', target);
    assert.equal(read.status, 200);
    assert.equal(read.body.status, 'pending');

    const missing = await fetchFromPage(page, 'PATCH', target, { body: { status: 'qualified' } });
    assert.equal(missing.status, 403, JSON.stringify(missing.body));
    assert.equal(missing.type, 'application/problem+json');
    assert.match(missing.body.detail, /CSRF/);
    let shown = app.ws.show(id);
    assert.equal(shown.status, 'pending');
    assert.equal(shown.history.length, 0);

    const session = await fetchFromPage(page, 'GET', '/api/v1/session');
    assert.equal(session.status, 200);
    assert.equal(session.body.email, USER.email);
    const token = session.body.csrf_token;
    assert.ok(token && token.length >= 16, 'a CSRF token');
    const wrongToken = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');

    const wrong = await fetchFromPage(page, 'PATCH', target, { body: { status: 'qualified' }, token: wrongToken });
    assert.equal(wrong.status, 403, JSON.stringify(wrong.body));
    assert.match(wrong.body.detail, /CSRF/);
    const empty = await fetchFromPage(page, 'PATCH', target, { body: { status: 'qualified' }, token: '' });
    assert.equal(empty.status, 403, JSON.stringify(empty.body));
    shown = app.ws.show(id);
    assert.equal(shown.status, 'pending');
    assert.equal(shown.history.length, 0);

    // Signing out is a change too.
    const signOut = await fetchFromPage(page, 'DELETE', '/api/v1/session');
    assert.equal(signOut.status, 403);
    assert.equal((await fetchFromPage(page, 'GET', '/api/v1/session')).status, 200, 'still signed in');

    const right = await fetchFromPage(page, 'PATCH', target, { body: { status: 'qualified' }, token });
    assert.equal(right.status, 200, JSON.stringify(right.body));
    assert.deepEqual([right.body.from, right.body.to, right.body.changed], ['pending', 'qualified', true]);
    shown = app.ws.show(id);
    assert.equal(shown.status, 'qualified');
    assert.equal(shown.history.length, 1);
    assert.ok(shown.history[0].actor.includes(USER.email), `actor ${shown.history[0].actor}`);
  }));

test('the session cookie is HttpOnly and SameSite=Strict, out of the page\'s reach', () =>
  app.withPage('cookie', async ({ context, page }) => {
    await app.signIn(page);
    const cookies = (await context.cookies()).filter((c) => c.name === 'rt_session');
    assert.equal(cookies.length, 1, 'one rt_session cookie');
    const [cookie] = cookies;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/');
    assert.equal(await page.evaluate(() => document.cookie.includes('rt_session')), false);
  }, { session: false }));

test('the page is served under the Content-Security-Policy and breaks none of it', () =>
  app.withPage('csp', async ({ page }) => {
    for (const path of ['/', '/referrals/1', '/bulk-update']) {
      const response = await page.goto(path);
      const csp = response.headers()['content-security-policy'] ?? '';
      for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"]) {
        assert.ok(csp.includes(directive), `${path}: CSP ${JSON.stringify(csp)} has ${directive}`);
      }
    }
    // App.withPage fails the test on any CSP violation the browser reported.
    await app.signIn(page, { path: '/referrals' });
    await page.getByRole('heading', { level: 1, name: 'Referrals' }).waitFor();
  }));
