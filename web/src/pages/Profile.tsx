// One referral's profile: its status with a drop-down of the changes the
// rules allow (and the refused ones with their reason), its details, history and rewards.

import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { Alert, EmptyState, Loading, Success } from '../components/Messages';
import { Page } from '../components/Page';
import { StatusBadge } from '../components/StatusBadge';
import { Time } from '../components/Time';
import { formatAmount } from '../format';
import { useLoad } from '../hooks';
import type { ComponentChild } from 'preact';
import { Link } from '../router';
import { STATUSES, type ReferralDetails, type Status, type Transition } from '../types';

const SOURCES: Record<string, string> = {
  manual: 'manual',
  api: 'api',
  import: 'import',
  qualify_upload: 'qualify_upload',
};

/** The server's list of transitions; an older server without it gets the rules of SPEC §2 worked out here. */
function transitionsOf(r: ReferralDetails): Transition[] {
  if (r.transitions) return r.transitions;
  return STATUSES.filter((s) => s !== r.status).map((to): Transition => {
    if (r.status === 'approved') return { to, allowed: false, reason: 'approved is final: no change is allowed after approval' };
    if (r.status === 'denied' && to === 'qualified' && r.qualified_at) {
      return { to, allowed: false, reason: `referral ${r.id} was qualified before; it cannot be qualified again from denied` };
    }
    return { to, allowed: true, reason: null };
  });
}

function StatusForm({ referral, onChanged }: { referral: ReferralDetails; onChanged: () => Promise<void> }) {
  const transitions = transitionsOf(referral);
  const allowed = transitions.filter((t) => t.allowed);
  const refused = transitions.filter((t) => !t.allowed);
  const [target, setTarget] = useState<Status | ''>(allowed[0]?.to ?? '');
  const [note, setNote] = useState(referral.note);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();

  useEffect(() => {
    if (!allowed.some((t) => t.to === target)) setTarget(allowed[0]?.to ?? '');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [referral.status, referral.transitions]);
  useEffect(() => setNote(referral.note), [referral.note]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!target) return;
    setBusy(true);
    setMessage(undefined);
    try {
      const outcome = await api.changeStatus(referral.id, target, note !== referral.note ? note : undefined);
      await onChanged();
      setMessage({
        ok: true,
        text: outcome.changed
          ? `Status changed from ${outcome.from} to ${outcome.to}`
          : `Status unchanged: the referral is already ${outcome.to}`,
      });
    } catch (err) {
      // A refused change may mean the referral changed meanwhile: show it as it is now.
      if (err instanceof api.ApiError && err.status === 409) await onChanged();
      setMessage({ ok: false, text: api.errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card">
      <h2 id="status-heading">Status</h2>
      <p class="current-status">
        Current status <StatusBadge status={referral.status} testId="current-status" />
        {referral.status_changed_at && <span class="muted small"> since <Time at={referral.status_changed_at} /></span>}
      </p>
      {message && (message.ok ? <Success>{message.text}</Success> : <Alert>{message.text}</Alert>)}
      <form class="stack" onSubmit={submit}>
        <div class="field">
          <label for="new-status">New status</label>
          <select
            id="new-status" value={target} disabled={allowed.length === 0}
            aria-describedby={allowed.length === 0 ? 'no-change-hint' : undefined}
            onChange={(e) => setTarget(e.currentTarget.value as Status)}
          >
            {allowed.map((t) => <option key={t.to} value={t.to}>{t.to}</option>)}
          </select>
          {allowed.length === 0 && <p id="no-change-hint" class="hint">No change is allowed from {referral.status}.</p>}
        </div>
        <div class="field">
          <label for="status-note">Note</label>
          <input
            id="status-note" type="text" value={note} placeholder="Why? (kept on the referral)"
            onInput={(e) => setNote(e.currentTarget.value)}
          />
        </div>
        <div>
          <button type="submit" class="button button-primary" disabled={busy || !target}>
            {busy ? 'Changing…' : 'Change status'}
          </button>
        </div>
      </form>
      <h3 id="refused-heading">Not allowed</h3>
      {refused.length === 0 ? (
        <p class="muted small">Every other status is allowed.</p>
      ) : (
        <ul class="refused" aria-labelledby="refused-heading">
          {refused.map((t) => (
            <li key={t.to}>
              <StatusBadge status={t.to} /> <span class="refused-reason">{t.reason ?? 'refused by the status rules'}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Details({ r }: { r: ReferralDetails }) {
  const rows: [string, ComponentChild][] = [
    ['ID', r.id],
    ['Campaign', <Link href={`/referrals?campaign=${encodeURIComponent(r.campaign)}`}>{r.campaign}</Link>],
    ['Email', r.email],
    ['Name', r.name || <span class="muted">—</span>],
    ['External ID', r.external_id ?? <span class="muted">—</span>],
    ['Referral code', r.referral_code ?? <span class="muted">—</span>],
    ['Coupon code', r.coupon_code ?? <span class="muted">—</span>],
    ['Referred by', r.referrer_email ?? <span class="muted">—</span>],
    ['Note', r.note || <span class="muted">—</span>],
    ['Created', <Time at={r.created_at} />],
    ['Qualified at', <Time at={r.qualified_at} />],
    ['Approved at', <Time at={r.approved_at} />],
    ['Denied at', <Time at={r.denied_at} />],
  ];
  return (
    <section class="card" aria-labelledby="details-heading">
      <h2 id="details-heading">Details</h2>
      <dl class="details">
        {rows.map(([term, value]) => (
          <div key={term} class="details-row">
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function History({ r }: { r: ReferralDetails }) {
  return (
    <section class="card" aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      <ol class="timeline" data-testid="history">
        {r.history.map((h, i) => (
          <li key={i} class="timeline-item">
            <span class="timeline-dot" aria-hidden="true" />
            <span class="timeline-change">{h.from} → {h.to}</span>
            <span class="timeline-meta">
              <Time at={h.at} />
              <span class="tag">{SOURCES[h.source] ?? h.source}{h.batch_id !== undefined ? ` #${h.batch_id}` : ''}</span>
              <span>by {h.actor || 'unknown'}</span>
            </span>
          </li>
        ))}
      </ol>
      <p class="muted small">
        {r.history.length === 0 ? 'No status change yet. ' : ''}Created <Time at={r.created_at} /> as pending.
      </p>
    </section>
  );
}

function Rewards({ r }: { r: ReferralDetails }) {
  return (
    <section class="card" aria-labelledby="rewards-heading">
      <h2 id="rewards-heading">Rewards</h2>
      {r.rewards.length === 0 ? (
        <p class="muted">No rewards issued for this referral. Rewards follow the <Link href="/campaigns">campaign's reward rules</Link>.</p>
      ) : (
        <ul class="reward-list">
          {r.rewards.map((w) => (
            <li key={w.id} class="reward-item">
              <span class="reward-what">
                {[w.amount ? `${formatAmount(w.amount)} ${w.currency ?? ''}`.trim() : '', w.description].filter(Boolean).join(' — ') || 'A reward'}
              </span>
              <span class="reward-meta">
                to the {w.recipient} <span class="reward-email">{w.recipient_email}</span>
                <span class={`tag tag-${w.state}`}>{w.state}</span>
                <Time at={w.issued_at} />
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function ProfilePage({ id }: { id: number }) {
  const referral = useLoad(() => api.getReferral(id), [id]);
  const r = referral.data;
  if (!r) {
    return (
      <Page title={referral.error ? 'Referral not found' : 'Referral'}>
        <p><Link href="/referrals">← Back to the list</Link></p>
        {referral.error ? <Alert>{referral.error}</Alert> : <Loading />}
        {referral.error && <EmptyState title={`No referral #${id} to show`} />}
      </Page>
    );
  }
  return (
    <Page
      key="loaded"
      title={r.name || r.email}
      lead={<>{r.name ? `${r.email} · ` : ''}#{r.id} in {r.campaign}</>}
    >
      <p class="back"><Link href="/referrals">← Back to the list</Link></p>
      {referral.error && <Alert>{referral.error}</Alert>}
      <div class="profile-grid">
        <div class="stack">
          <StatusForm referral={r} onChanged={referral.reload} />
          <Details r={r} />
        </div>
        <div class="stack">
          <History r={r} />
          <Rewards r={r} />
        </div>
      </div>
    </Page>
  );
}
