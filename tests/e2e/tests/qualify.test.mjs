// The qualify wizard, by email for one campaign, with a real list: the numbers
// on screen are the CLI's `qualify --dry-run` of the same list (and what SPEC
// §4.2 predicts from the seed); after "Qualify" the CLI and the referrals list
// show the referrals qualified, with their "Qualified at".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useApp, expectText } from '../lib/app.mjs';
import { REFERRALS, seededState } from '../lib/seed.mjs';

const app = useApp('qualify');

const CAMPAIGN = 'Spring';
const LIST = [
  'email', // a header word: not recognized
  'ken@example.com', // pending: qualified
  'dennis@example.com', // pending: qualified
  'ken@example.com', // listed twice: counts once
  'not-an-email', // malformed: not recognized
  'stranger@example.com', // nobody: unmatched
  'grace@example.com', // qualified: already qualified
  'alan@example.com', // approved: already qualified
  'donald@example.com', // denied after a qualification: not allowed
  'barbara@example.com', // denied, never qualified: qualified
  'bjarne@example.com', // in Summer only: unmatched in Spring
  '',
  'MARGARET@example.com,2026-03-01', // first column, any case: qualified
];

/** SPEC §4.2 applied to the list and the seed. */
function predict() {
  const values = LIST.map((line) => line.split(',')[0].trim()).filter((v) => v !== '');
  const valid = values.filter((v) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v));
  const distinct = [...new Set(valid.map((v) => v.toLowerCase()))];
  const p = { lines: values.length, recognized: distinct.length, not_recognized: values.length - valid.length,
    matched: 0, qualified: 0, already_qualified: 0, not_allowed: 0, unmatched: 0, toQualify: [] };
  for (const email of distinct) {
    const r = REFERRALS.find((x) => x.campaign === CAMPAIGN && x.email === email);
    if (!r) { p.unmatched += 1; continue; }
    p.matched += 1;
    const s = seededState(r);
    if (!s.everQualified) { p.qualified += 1; p.toQualify.push(r.key); }
    else if (s.status === 'denied') p.not_allowed += 1;
    else p.already_qualified += 1;
  }
  return p;
}

const COUNTS = ['lines', 'recognized', 'not_recognized', 'matched', 'qualified', 'already_qualified', 'not_allowed', 'unmatched'];
const pick = (o) => Object.fromEntries(COUNTS.map((k) => [k, o[k]]));

test('recognized and estimate equal the CLI\'s dry run; "Qualify" qualifies them, with a "Qualified at"', () =>
  app.withPage('qualify', async ({ page }) => {
    const file = app.ws.file('converted-customers.csv', `${LIST.join('\n')}\n`);
    const predicted = predict();
    const dry = app.ws.json(['qualify', file, '--by', 'email', '--campaign', CAMPAIGN, '--dry-run']);
    assert.equal(dry.applied, false);
    assert.deepEqual(pick(dry), pick(predicted), 'the CLI\'s estimate is what SPEC §4.2 predicts');

    await app.signIn(page, { path: '/qualify' });
    await page.getByRole('heading', { level: 1, name: 'Qualify referred users' }).waitFor();
    const matchBy = page.getByRole('radiogroup', { name: 'Match by' });
    for (const name of ['Email', 'Referral code', 'Coupon code']) await matchBy.getByRole('radio', { name, exact: true }).waitFor();
    await matchBy.getByRole('radio', { name: 'Email', exact: true }).check();
    await page.getByLabel('Campaign', { exact: true }).selectOption(CAMPAIGN);
    await page.getByLabel('List file', { exact: true }).setInputFiles(file);
    await page.getByRole('button', { name: 'Read file' }).click();

    await expectText(page.getByTestId('qualify-recognized'), dry.recognized);
    await expectText(page.getByTestId('qualify-not-recognized'), dry.not_recognized);
    await page.getByText(`${dry.recognized} data points recognized`).waitFor();
    await app.shot(page, 'qualify-recognized-1280');

    await page.getByRole('button', { name: 'Show estimate' }).click();
    await expectText(page.getByTestId('estimate-qualified'), dry.qualified);
    await expectText(page.getByTestId('estimate-already-qualified'), dry.already_qualified);
    await expectText(page.getByTestId('estimate-not-allowed'), dry.not_allowed);
    await expectText(page.getByTestId('estimate-unmatched'), dry.unmatched);
    await app.shot(page, 'qualify-estimate-1280');
    for (const key of predicted.toQualify) {
      assert.equal(app.ws.show(app.ids[key]).qualified_at, null, `the estimate did not qualify ${key}`);
    }

    await page.getByRole('button', { name: 'Qualify', exact: true }).click();
    await page.getByRole('heading', { level: 2, name: 'Qualification complete' }).waitFor();
    await expectText(page.getByTestId('result-qualified'), dry.qualified);
    await app.shot(page, 'qualify-done-1280');

    // The database: exactly the predicted referrals were qualified, by the upload.
    for (const r of REFERRALS) {
      const shown = app.ws.show(app.ids[r.key]);
      const seeded = seededState(r);
      if (predicted.toQualify.includes(r.key)) {
        assert.equal(shown.status, 'qualified', `${r.key} is qualified`);
        assert.ok(shown.qualified_at, `${r.key} has a qualified_at`);
        assert.equal(shown.history.at(-1).source, 'qualify_upload');
      } else {
        assert.equal(shown.status, seeded.status, `${r.key} is still ${seeded.status}`);
      }
    }
    // The same list again changes nothing.
    const again = app.ws.json(['qualify', file, '--by', 'email', '--campaign', CAMPAIGN, '--dry-run']);
    assert.equal(again.qualified, 0);
    assert.equal(again.already_qualified, dry.already_qualified + dry.qualified);

    // The referrals list shows when each was qualified.
    await page.getByRole('navigation').getByRole('link', { name: 'Referrals', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Referrals' }).waitFor();
    const table = page.getByRole('table');
    const headers = (await table.locator('thead th').allTextContents()).map((t) => t.trim());
    assert.deepEqual(headers, ['ID', 'Name', 'Email', 'Campaign', 'Status', 'Qualified at', 'Created']);
    const column = headers.indexOf('Qualified at');
    for (const key of predicted.toQualify) {
      const r = REFERRALS.find((x) => x.key === key);
      await page.getByLabel('Search', { exact: true }).fill(r.email);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.waitForURL((url) => url.searchParams.get('q') === r.email);
      const row = table.locator('tbody tr').filter({ has: page.getByRole('link', { name: r.email, exact: true }) });
      await row.waitFor();
      assert.equal(await table.locator('tbody tr').count(), 1, `one referral found for ${r.email}`);
      const cell = row.locator('td').nth(column);
      const shown = app.ws.show(app.ids[key]);
      assert.equal(await cell.locator('time').getAttribute('datetime'), shown.qualified_at,
        `${key}: "Qualified at" is the database's qualified_at`);
      assert.notEqual((await cell.textContent()).trim(), '—');
      assert.equal((await row.locator('td').nth(headers.indexOf('Status')).textContent()).trim(), 'qualified');
    }
  }));
