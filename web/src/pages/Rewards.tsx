// Issued rewards, per campaign, with the payout CSV.

import * as api from '../api';
import { Alert, EmptyState, Loading } from '../components/Messages';
import { Page } from '../components/Page';
import { Time } from '../components/Time';
import { formatAmount, plural } from '../format';
import { useLoad } from '../hooks';
import { Link, navigate, withQuery } from '../router';

export function RewardsPage({ query }: { query: URLSearchParams }) {
  const campaign = query.get('campaign') ?? '';
  const campaigns = useLoad(() => api.listCampaigns(), []);
  const rewards = useLoad(() => api.listRewards(campaign || undefined), [campaign]);
  const list = rewards.data ?? [];

  return (
    <Page title="Rewards" lead="Every reward your reward rules issued, ready to pay out.">
      <div class="toolbar">
        <div class="field field-inline">
          <label for="rewards-campaign">Campaign</label>
          <select id="rewards-campaign" value={campaign}
            onChange={(e) => navigate(withQuery('/rewards', { campaign: e.currentTarget.value }))}>
            <option value="">All</option>
            {(campaigns.data ?? []).map((c) => <option key={c.id} value={c.name}>{c.name}</option>)}
          </select>
        </div>
        <a class="button" href={api.payoutCsvUrl(campaign || undefined)} download>
          <svg class="icon" viewBox="0 0 20 20" aria-hidden="true"><path d="M10 3v9m0 0-4-4m4 4 4-4M4 15h12" /></svg>
          Download payout CSV
        </a>
        {rewards.data && <span class="muted small">{plural(list.length, 'reward', 'rewards')}</span>}
      </div>
      {rewards.error && <Alert>{rewards.error}</Alert>}
      {!rewards.data && rewards.loading && <Loading />}
      {rewards.data && list.length === 0 && (
        <EmptyState title="No rewards issued yet">
          <p>Rewards are issued when a referral reaches the status of one of its campaign's <Link href="/campaigns">reward rules</Link>.</p>
        </EmptyState>
      )}
      {list.length > 0 && (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">Rewards{campaign ? ` in ${campaign}` : ''}</caption>
            <thead>
              <tr>
                <th scope="col">Campaign</th><th scope="col">Referral</th><th scope="col">Recipient</th>
                <th scope="col">Email</th><th scope="col" class="num">Amount</th><th scope="col">Currency</th>
                <th scope="col">State</th><th scope="col">Issued at</th>
              </tr>
            </thead>
            <tbody>
              {list.map((w) => (
                <tr key={w.id}>
                  <td>{w.campaign}</td>
                  <td><Link href={`/referrals/${w.referral_id}`}>#{w.referral_id}</Link></td>
                  <td>{w.recipient}</td>
                  <td>{w.recipient_email}</td>
                  <td class="num nowrap">{w.amount ? formatAmount(w.amount) : <span class="muted">{w.description || '—'}</span>}</td>
                  <td>{w.currency ?? ''}</td>
                  <td><span class={`tag tag-${w.state}`}>{w.state}</span></td>
                  <td class="nowrap"><Time at={w.issued_at} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
