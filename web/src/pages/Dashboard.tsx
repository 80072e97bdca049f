import * as api from '../api';
import { Funnel } from '../components/Funnel';
import { Alert, EmptyState, Loading } from '../components/Messages';
import { Page } from '../components/Page';
import { formatCount, percent } from '../format';
import { useLoad } from '../hooks';
import { Link, withQuery } from '../router';
import type { Stats } from '../types';

function Totals({ stats }: { stats: Stats }) {
  const cards = [
    { label: 'Referred', value: stats.total, note: 'everyone referred', href: '/referrals' },
    { label: 'Qualified', value: stats.ever_qualified, note: `${percent(stats.ever_qualified, stats.total)} of referred, ever`, href: '/referrals?status=qualified' },
    { label: 'Approved', value: stats.counts.approved, note: `${percent(stats.counts.approved, stats.total)} of referred`, href: '/referrals?status=approved' },
    { label: 'Pending', value: stats.counts.pending, note: 'waiting for a decision', href: '/referrals?status=pending' },
  ];
  return (
    <ul class="kpis">
      {cards.map((card) => (
        <li key={card.label} class="kpi">
          <Link href={card.href} class="kpi-link">
            <span class="kpi-label">{card.label}</span>
            <span class="kpi-value">{formatCount(card.value)}</span>
            <span class="kpi-note">{card.note}</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

export function DashboardPage() {
  const stats = useLoad(() => api.getStats(), []);
  const data = stats.data;
  return (
    <Page title="Dashboard" lead="How your referral programs convert, campaign by campaign.">
      {stats.error && <Alert>{stats.error}</Alert>}
      {!data && stats.loading && <Loading />}
      {data && data.campaigns.length === 0 && (
        <EmptyState title="No campaigns yet">
          <p><Link href="/campaigns">Add your first campaign</Link>, then add referrals with the CLI or the API.</p>
        </EmptyState>
      )}
      {data && data.campaigns.length > 0 && (
        <>
          <Totals stats={data} />
          <div class="grid-cards">
            {data.campaigns.map((campaign) => (
              <section key={campaign.id} class="card" aria-labelledby={`funnel-${campaign.id}`}>
                <div class="card-header">
                  <h2 id={`funnel-${campaign.id}`}>{campaign.name}</h2>
                  <Link href={withQuery('/referrals', { campaign: campaign.name })} class="card-link">
                    See the list →
                  </Link>
                </div>
                <Funnel stats={campaign} />
                {campaign.total === 0 && (
                  <p class="muted small">No referrals yet — add some with the CLI or the API.</p>
                )}
              </section>
            ))}
          </div>
        </>
      )}
    </Page>
  );
}
