// The bulk update wizard with a real CSV file: the preview on screen is the
// CLI's dry run of the same file against the same data (and what SPEC §4.1
// predicts), the import applies it, and the database then shows the new statuses.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { useApp, expectText } from '../lib/app.mjs';
import { REFERRALS, STATUSES, allowed, seededState } from '../lib/seed.mjs';
import { parseCsv, toCsv } from '../lib/csv.mjs';

const app = useApp('bulk');

const HEADER = ['referralkey_id', 'referralkey_externalid', 'referralkey_email', 'campaign', 'status', 'colour'];
const ref = (key) => REFERRALS.find((r) => r.key === key);

/** The file's rows: [id key | null, external key | null, email | null, campaign, status]. */
function fileRows(ids) {
  return [
    [ids.ken, '', '', '', 'qualified', 'red'], // pending -> qualified
    ['', ref('dennis').externalId, '', '', 'denied', ''], // by external id: pending -> denied
    ['', '', ref('margaret').email, 'Spring', 'Approved', ''], // by email, status in any case: pending -> approved
    [ids.bjarne, '', '', '', 'qualified', ''], // one referral walked through two steps:
    [ids.bjarne, '', '', '', 'approved', ''], //   qualified -> approved, checked against the row above
    ['', '', 'nobody@example.com', 'Spring', 'qualified', ''], // unknown key
    [ids.grace, '', '', '', 'promoted', ''], // not a status
    [ids.alan, '', '', '', 'pending', ''], // refused: approved is final
    ['', '', ref('donald').email, 'Spring', 'qualified', ''], // refused: denied after a qualification
    [ids.linus, '', '', '', 'qualified', ''], // unchanged
    ['', '', 'ada@example.com', '', 'qualified', ''], // ambiguous: ada is in two campaigns
    ['', '', ` ${ref('guido').email.toUpperCase()} `, 'Summer', 'pending', ''], // trimmed, any case: denied -> pending
  ];
}

/**
 * What SPEC §4.1 says the import does with the file: rows in order against the
 * state the rows above left. Returns the report's counts, the error rows (header =
 * row 1) and the final status of every referral.
 */
function predict(rows, ids) {
  const state = Object.fromEntries(REFERRALS.map((r) => [r.key, seededState(r)]));
  const byId = Object.fromEntries(Object.entries(ids).map(([key, id]) => [String(id), key]));
  const report = { rows: rows.length, changed: 0, unchanged: 0, error_count: 0, transitions: {}, errorRows: [] };
  const changes = Object.fromEntries(REFERRALS.map((r) => [r.key, []]));
  rows.forEach(([id, external, email, campaign, status], i) => {
    const row = i + 2;
    let matches;
    if (id !== '') matches = byId[String(id)] ? [byId[String(id)]] : [];
    else if (external !== '') matches = REFERRALS.filter((r) => r.externalId === external).map((r) => r.key);
    else {
      matches = REFERRALS.filter((r) => r.email === email.trim().toLowerCase() && (!campaign || r.campaign === campaign))
        .map((r) => r.key);
    }
    const to = status.toLowerCase();
    if (matches.length !== 1 || !STATUSES.includes(to)) {
      report.error_count += 1;
      report.errorRows.push(row);
      return;
    }
    const s = state[matches[0]];
    if (!allowed(s.status, to, s.everQualified)) {
      report.error_count += 1;
      report.errorRows.push(row);
    } else if (s.status === to) {
      report.unchanged += 1;
    } else {
      report.changed += 1;
      const t = `${s.status}->${to}`;
      report.transitions[t] = (report.transitions[t] ?? 0) + 1;
      changes[matches[0]].push(t);
      state[matches[0]] = { status: to, everQualified: s.everQualified || to === 'qualified' || to === 'approved' };
    }
  });
  return { report, changes, final: Object.fromEntries(Object.entries(state).map(([k, s]) => [k, s.status])) };
}

async function tableRows(table) {
  const rows = table.locator('tbody tr');
  const out = [];
  for (let i = 0; i < await rows.count(); i += 1) {
    out.push((await rows.nth(i).locator('td').allTextContents()).map((t) => t.trim()));
  }
  return out;
}

test('preview equals the CLI dry run; import applies it; the database shows the new statuses', () =>
  app.withPage('bulk-update', async ({ context, page }) => {
    const rows = fileRows(app.ids);
    const file = app.ws.file('spring-statuses.csv', toCsv([HEADER, ...rows]));
    const { report: predicted, changes, final } = predict(rows, app.ids);

    // The CLI's preview of the same file against the same data, before anything is applied.
    const dry = app.ws.json(['import', file, '--dry-run']);
    assert.equal(dry.applied, false);
    assert.deepEqual(
      { rows: dry.rows, changed: dry.changed, unchanged: dry.unchanged, error_count: dry.error_count, transitions: dry.transitions },
      { rows: predicted.rows, changed: predicted.changed, unchanged: predicted.unchanged, error_count: predicted.error_count, transitions: predicted.transitions },
      'the CLI\'s dry run is what SPEC §4.1 predicts');
    assert.deepEqual(dry.errors.map((e) => e.row), predicted.errorRows);
    assert.equal(dry.warnings.length, 1, 'one warning: the unknown column');

    await app.signIn(page, { path: '/bulk-update' });
    await page.getByRole('heading', { level: 1, name: 'Bulk update' }).waitFor();
    await page.getByLabel('CSV file', { exact: true }).setInputFiles(file);
    // Hold the upload a moment on its way to the real server, to see the progress bar.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route('**/api/v1/imports?*', async (route) => { await held; await route.continue(); });
    await page.getByRole('button', { name: 'Preview' }).click();
    const progress = page.getByRole('progressbar', { name: 'Upload progress' });
    await progress.waitFor();
    const now = Number(await progress.getAttribute('aria-valuenow'));
    assert.ok(now >= 0 && now <= 100, `aria-valuenow ${now} is a percentage`);
    release();
    await page.unrouteAll({ behavior: 'wait' });

    await expectText(page.getByTestId('preview-rows'), dry.rows);
    await expectText(page.getByTestId('preview-changed'), dry.changed);
    await expectText(page.getByTestId('preview-unchanged'), dry.unchanged);
    await expectText(page.getByTestId('preview-errors'), dry.error_count);

    const transitions = await tableRows(page.getByRole('table', { name: 'Status changes' }));
    assert.deepEqual(
      Object.fromEntries(transitions.map(([from, to, n]) => [`${from}->${to}`, Number(n)])), dry.transitions);
    const errors = await tableRows(page.getByRole('table', { name: 'Rows in error' }));
    assert.deepEqual(errors, dry.errors.map((e) => [String(e.row), e.column || '—', e.message]),
      'the errors table lists the CLI\'s errors: Row, Column, Reason');
    for (const warning of dry.warnings) await page.getByText(warning, { exact: true }).waitFor();
    await app.shot(page, 'bulk-update-preview-1280');

    // The errors as CSV, made in the browser.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download errors as CSV' }).click(),
    ]);
    const downloaded = parseCsv(readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, ''));
    assert.deepEqual(downloaded.slice(1).map(([row, , message]) => [row, message]),
      dry.errors.map((e) => [String(e.row), e.message]));

    // Nothing changed by the preview.
    assert.equal(app.ws.show(app.ids.ken).status, seededState(ref('ken')).status);

    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('heading', { level: 2, name: 'Import complete' }).waitFor();
    await expectText(page.getByTestId('result-changed'), dry.changed);
    await expectText(page.getByTestId('result-errors'), dry.error_count);
    await app.shot(page, 'bulk-update-result-1280');

    // The import's errors, kept by the server.
    const link = page.getByRole('link', { name: 'Download errors as CSV' });
    const href = await link.getAttribute('href');
    assert.match(href, /^\/api\/v1\/imports\/\d+\/errors\.csv$/);
    const kept = parseCsv(await (await context.request.get(href)).text());
    assert.equal(kept.length - 1, dry.error_count, 'errors.csv has one line per error after its header');

    // The database: every referral as predicted; the changed ones changed by the import.
    for (const r of REFERRALS) {
      const shown = app.ws.show(app.ids[r.key]);
      assert.equal(shown.status, final[r.key], `${r.key} (${r.campaign}) is ${final[r.key]}`);
      assert.deepEqual(shown.history.filter((h) => h.source === 'import').map((h) => `${h.from}->${h.to}`), changes[r.key],
        `${r.key}: the import's history rows`);
    }
    assert.equal(changes.bjarne.length, 2, 'the file walks bjarne through two steps');

    await page.getByRole('button', { name: 'Start over' }).click();
    await page.getByLabel('CSV file', { exact: true }).waitFor();
  }));
