// The data every test file starts from, put in through the real CLI:
// two campaigns, referrals loaded from a CSV (`referral load`) and walked to their
// statuses one `referral set-status` at a time, a reward rule and a user.
// The expectations of the tests are worked out from this table, not written down.

import { toCsv } from './csv.mjs';

export const USER = { email: 'ops@example.com', password: 'correct horse battery staple' };
export const CAMPAIGNS = ['Spring', 'Summer'];

/** One referral: `path` is the statuses it is set to after creation, in order. */
export const REFERRALS = [
  { key: 'ada', campaign: 'Spring', email: 'ada@example.com', name: 'Ada Lovelace', path: [] },
  { key: 'grace', campaign: 'Spring', email: 'grace@example.com', name: 'Grace Hopper', path: ['qualified'] },
  { key: 'alan', campaign: 'Spring', email: 'alan@example.com', name: 'Alan Turing', path: ['qualified', 'approved'] },
  { key: 'edsger', campaign: 'Spring', email: 'edsger@example.com', name: 'Edsger Dijkstra', path: ['approved'] },
  { key: 'barbara', campaign: 'Spring', email: 'barbara@example.com', name: 'Barbara Liskov', path: ['denied'] },
  { key: 'donald', campaign: 'Spring', email: 'donald@example.com', name: 'Donald Knuth', path: ['qualified', 'denied'] },
  { key: 'ken', campaign: 'Spring', email: 'ken@example.com', name: 'Ken Thompson', path: [] },
  { key: 'dennis', campaign: 'Spring', email: 'dennis@example.com', name: 'Dennis Ritchie', path: [] },
  { key: 'margaret', campaign: 'Spring', email: 'margaret@example.com', name: '', path: [] },
  { key: 'linus', campaign: 'Spring', email: 'linus@example.com', name: 'Linus Torvalds', path: ['qualified'] },
  { key: 'ada2', campaign: 'Summer', email: 'ada@example.com', name: 'Ada King', path: ['qualified'] },
  { key: 'bjarne', campaign: 'Summer', email: 'bjarne@example.com', name: 'Bjarne Stroustrup', path: [] },
  { key: 'guido', campaign: 'Summer', email: 'guido@example.com', name: 'Guido van Rossum', path: ['denied'] },
  { key: 'james', campaign: 'Summer', email: 'james@example.com', name: 'James Gosling', path: ['approved'] },
].map((r, i) => ({
  ...r,
  externalId: `crm-${1001 + i}`,
  referralCode: `REF-${r.key.toUpperCase()}`,
  couponCode: `WELCOME-${r.key.toUpperCase()}`,
}));

export const REWARD_RULE = { campaign: 'Spring', on: 'qualified', to: 'referred', amount: '25', currency: 'USD' };

export const STATUSES = ['pending', 'qualified', 'approved', 'denied'];

/**
 * SPEC §2 as a small model: may a referral in `from` (qualified before when
 * `everQualified`) go to `to`? Approved is final; denied -> qualified only if never qualified.
 */
export function allowed(from, to, everQualified) {
  if (from === to) return true;
  if (from === 'approved') return false;
  if (from === 'denied' && to === 'qualified') return !everQualified;
  return true;
}

/** A referral as the seed leaves it: {status, everQualified, history length}. */
export function seededState(r) {
  let status = 'pending';
  let everQualified = false;
  for (const to of r.path) {
    if (!allowed(status, to, everQualified)) throw new Error(`the seed walks ${r.key} ${status} -> ${to}, which SPEC §2 forbids`);
    if (to === 'qualified' || to === 'approved') everQualified = true;
    status = to;
  }
  return { status, everQualified, changes: r.path.length };
}

/** Counts per status as the seed leaves them, for one campaign or all (`total`, `counts`, `ever_qualified`). */
export function seededCounts(campaign) {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  let total = 0;
  let everQualified = 0;
  for (const r of REFERRALS) {
    if (campaign && r.campaign !== campaign) continue;
    const state = seededState(r);
    counts[state.status] += 1;
    total += 1;
    if (state.everQualified) everQualified += 1;
  }
  return { total, counts, ever_qualified: everQualified };
}

/**
 * Seeds the workspace's database and returns `ids`: referral key -> id, as the
 * CLI reports them (`referral list --json`).
 */
export function seed(ws) {
  for (const name of CAMPAIGNS) ws.cli(['campaign', 'add', name]);
  ws.cli(['reward-rule', 'add', '--campaign', REWARD_RULE.campaign, '--on', REWARD_RULE.on,
    '--to', REWARD_RULE.to, '--amount', REWARD_RULE.amount, '--currency', REWARD_RULE.currency]);

  const csv = toCsv([
    ['campaign', 'email', 'name', 'external_id', 'referral_code', 'coupon_code', 'referrer_email'],
    ...REFERRALS.map((r) => [r.campaign, r.email, r.name, r.externalId, r.referralCode, r.couponCode, '']),
  ]);
  const loaded = ws.json(['referral', 'load', ws.file('seed-referrals.csv', csv)]);
  if (loaded.created !== REFERRALS.length || loaded.error_count !== 0) {
    throw new Error(`referral load created ${loaded.created} of ${REFERRALS.length}: ${JSON.stringify(loaded.errors)}`);
  }

  const listed = ws.json(['referral', 'list', '--limit', '1000']).referrals;
  const ids = {};
  for (const r of REFERRALS) {
    const found = listed.find((l) => l.email === r.email && l.campaign === r.campaign);
    if (!found) throw new Error(`referral list has no ${r.email} in ${r.campaign}`);
    ids[r.key] = found.id;
  }
  for (const r of REFERRALS) {
    for (const status of r.path) ws.cli(['referral', 'set-status', `id:${ids[r.key]}`, status]);
  }
  ws.cli(['user', 'add', USER.email], { input: `${USER.password}\n` });
  return ids;
}
