// The referrals list: counts per status, filters and search kept in the
// address, keyset paging (Next page / First page).

import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { Alert, EmptyState, Loading } from '../components/Messages';
import { Page } from '../components/Page';
import { StatusBadge } from '../components/StatusBadge';
import { Time } from '../components/Time';
import { formatCount } from '../format';
import { useLoad } from '../hooks';
import { Link, navigate, withQuery } from '../router';
import { STATUSES, type Stats } from '../types';

interface Filter {
  status: string;
  campaign: string;
  q: string;
  cursor: string;
  limit: string;
}

function readFilter(query: URLSearchParams): Filter {
  return {
    status: query.get('status') ?? '',
    campaign: query.get('campaign') ?? '',
    q: query.get('q') ?? '',
    cursor: query.get('cursor') ?? '',
    limit: query.get('limit') ?? '',
  };
}

function go(filter: Filter): void {
  navigate(withQuery('/referrals', { ...filter }));
}

function Counts({ stats, filter }: { stats: Stats | undefined; filter: Filter }) {
  const items: { key: string; label: string; value: number | undefined }[] = [
    { key: 'total', label: 'All', value: stats?.total },
    ...STATUSES.map((s) => ({ key: s, label: s, value: stats?.counts[s] })),
  ];
  return (
    <ul class="status-tabs">
      {items.map((item) => {
        const status = item.key === 'total' ? '' : item.key;
        const current = filter.status === status;
        return (
          <li key={item.key}>
            <Link
              href={withQuery('/referrals', { ...filter, status, cursor: '' })}
              class={`status-tab status-tab-${item.key}${current ? ' status-tab-current' : ''}`}
              aria-current={current ? 'true' : undefined}
            >
              <span class="status-tab-label">{item.label}</span>
              <span class="status-tab-value" data-testid={`count-${item.key}`}>
                {item.value === undefined ? '…' : formatCount(item.value)}
              </span>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}

export function ReferralsPage({ query }: { query: URLSearchParams }) {
  const filter = readFilter(query);
  const [search, setSearch] = useState(filter.q);
  useEffect(() => setSearch(filter.q), [filter.q]);

  const campaigns = useLoad(() => api.listCampaigns(), []);
  const stats = useLoad(() => api.getStats(filter.campaign || undefined), [filter.campaign]);
  const page = useLoad(
    () => api.listReferrals({
      status: filter.status, campaign: filter.campaign, q: filter.q, cursor: filter.cursor,
      limit: filter.limit ? Number(filter.limit) : undefined,
    }),
    [filter.status, filter.campaign, filter.q, filter.cursor, filter.limit],
  );

  const filtered = Boolean(filter.status || filter.campaign || filter.q);
  const referrals = page.data?.referrals ?? [];

  return (
    <Page title="Referrals" lead="Everyone referred to your programs, newest first.">
      <Counts stats={stats.data} filter={filter} />

      <div class="toolbar">
        <div class="field field-inline">
          <label for="filter-status">Status</label>
          <select
            id="filter-status" value={filter.status}
            onChange={(e) => go({ ...filter, status: e.currentTarget.value, cursor: '' })}
          >
            <option value="">All</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </div>
        <div class="field field-inline">
          <label for="filter-campaign">Campaign</label>
          <select
            id="filter-campaign" value={filter.campaign}
            onChange={(e) => go({ ...filter, campaign: e.currentTarget.value, cursor: '' })}
          >
            <option value="">All</option>
            {(campaigns.data ?? []).map((c) => <option key={c.id} value={c.name}>{c.name}</option>)}
            {filter.campaign && campaigns.data && !campaigns.data.some((c) => c.name === filter.campaign) && (
              <option value={filter.campaign}>{filter.campaign}</option>
            )}
          </select>
        </div>
        <form
          class="search" role="search"
          onSubmit={(e) => { e.preventDefault(); go({ ...filter, q: search.trim(), cursor: '' }); }}
        >
          <div class="field field-inline field-grow">
            <label for="filter-q">Search</label>
            <input
              id="filter-q" type="search" placeholder="Email, name or external id" value={search}
              onInput={(e) => setSearch(e.currentTarget.value)}
            />
          </div>
          <button type="submit" class="button">Search</button>
        </form>
        {filtered && <Link href="/referrals" class="button button-quiet">Clear filters</Link>}
      </div>

      {(page.error || stats.error) && <Alert>{page.error ?? stats.error}</Alert>}
      {!page.data && page.loading && <Loading />}

      {page.data && referrals.length === 0 && (
        filtered || filter.cursor ? (
          <EmptyState title="No referrals match these filters">
            <p><Link href="/referrals">Clear the filters</Link> to see every referral.</p>
          </EmptyState>
        ) : (
          <EmptyState title="No referrals yet — add some with the CLI or the API">
            <p>For example <code>reftrack referral add --campaign Spring --email ada@example.com</code>,
              {' '}<code>reftrack referral load referrals.csv</code>, or <code>POST /api/v1/referrals</code>.</p>
          </EmptyState>
        )
      )}

      {referrals.length > 0 && (
        <div class={page.loading ? 'table-wrap is-loading' : 'table-wrap'} aria-busy={page.loading}>
          <table class="table">
            <caption class="visually-hidden">Referrals{filter.status ? `, ${filter.status}` : ''}{filter.campaign ? `, in ${filter.campaign}` : ''}</caption>
            <thead>
              <tr>
                <th scope="col" class="num">ID</th>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Campaign</th>
                <th scope="col">Status</th>
                <th scope="col">Qualified at</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {referrals.map((r) => (
                <tr key={r.id}>
                  <td class="num">{r.id}</td>
                  <td>{r.name || <span class="muted">—</span>}</td>
                  <td><Link href={`/referrals/${r.id}`}>{r.email}</Link></td>
                  <td>{r.campaign}</td>
                  <td><StatusBadge status={r.status} /></td>
                  <td class="nowrap"><Time at={r.qualified_at} /></td>
                  <td class="nowrap"><Time at={r.created_at} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {page.data && (referrals.length > 0 || filter.cursor) && (
        <div class="pager">
          <span class="muted small">{formatCount(referrals.length)} on this page</span>
          <div class="pager-buttons">
            <button type="button" class="button" disabled={!filter.cursor} onClick={() => go({ ...filter, cursor: '' })}>
              First page
            </button>
            {page.data.next_cursor && (
              <button
                type="button" class="button"
                onClick={() => page.data?.next_cursor && go({ ...filter, cursor: page.data.next_cursor })}
              >
                Next page
              </button>
            )}
          </div>
        </div>
      )}
    </Page>
  );
}
