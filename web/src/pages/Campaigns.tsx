// Campaigns and their reward rules: add a campaign, add or remove a rule.

import { useState } from 'preact/hooks';
import * as api from '../api';
import { Alert, EmptyState, Loading, Success } from '../components/Messages';
import { Page } from '../components/Page';
import { Time } from '../components/Time';
import { formatAmount } from '../format';
import { useLoad } from '../hooks';
import { Link, withQuery } from '../router';
import type { Campaign, NewRewardRule, Recipient, RewardRule } from '../types';

const ON: RewardRule['on'][] = ['pending', 'qualified', 'approved'];
const RECIPIENTS: Recipient[] = ['referrer', 'referred', 'both'];

function describe(rule: RewardRule): string {
  const what = [rule.amount ? `${formatAmount(rule.amount)} ${rule.currency ?? ''}`.trim() : '', rule.description]
    .filter(Boolean)
    .join(' — ');
  const whom = rule.to === 'both' ? 'the referrer and the referred' : `the ${rule.to}`;
  return `${what || 'A reward'} to ${whom} when a referral becomes ${rule.on}`;
}

function RuleForm({ campaign, onAdded }: { campaign: Campaign; onAdded: () => Promise<void> }) {
  const [on, setOn] = useState<RewardRule['on']>('approved');
  const [to, setTo] = useState<Recipient>('referrer');
  const [amount, setAmount] = useState('');
  const [currency, setCurrency] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const id = (name: string) => `rule-${campaign.id}-${name}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    const rule: NewRewardRule = { on, to };
    if (amount.trim()) {
      rule.amount = amount.trim();
      rule.currency = currency.trim().toUpperCase();
    }
    if (description.trim()) rule.description = description.trim();
    if (!rule.amount && !rule.description) {
      setError('A rule needs an amount (with its currency) or a description.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await api.addRule(campaign.id, rule);
      setAmount('');
      setDescription('');
      await onAdded();
    } catch (err) {
      setError(api.errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="rule-form" onSubmit={submit} aria-label={`Add a reward rule to ${campaign.name}`}>
      {error && <Alert>{error}</Alert>}
      <div class="rule-fields">
        <div class="field">
          <label for={id('on')}>On status</label>
          <select id={id('on')} value={on} onChange={(e) => setOn(e.currentTarget.value as RewardRule['on'])}>
            {ON.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </div>
        <div class="field">
          <label for={id('to')}>Recipient</label>
          <select id={id('to')} value={to} onChange={(e) => setTo(e.currentTarget.value as Recipient)}>
            {RECIPIENTS.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </div>
        <div class="field">
          <label for={id('amount')}>Amount</label>
          <input id={id('amount')} type="text" inputMode="decimal" placeholder="50.00" value={amount}
            onInput={(e) => setAmount(e.currentTarget.value)} />
        </div>
        <div class="field field-narrow">
          <label for={id('currency')}>Currency</label>
          <input id={id('currency')} type="text" maxLength={3} placeholder="USD" value={currency} autocapitalize="characters"
            onInput={(e) => setCurrency(e.currentTarget.value)} />
        </div>
        <div class="field field-grow">
          <label for={id('description')}>Description</label>
          <input id={id('description')} type="text" placeholder="a free month" value={description}
            onInput={(e) => setDescription(e.currentTarget.value)} />
        </div>
        <div class="field field-button">
          <button type="submit" class="button button-primary" disabled={busy}>Add rule</button>
        </div>
      </div>
    </form>
  );
}

function CampaignSection({ campaign }: { campaign: Campaign }) {
  const rules = useLoad(() => api.listRules(campaign.id), [campaign.id]);
  const [error, setError] = useState<string>();

  const remove = async (rule: RewardRule) => {
    setError(undefined);
    try {
      await api.removeRule(rule.id);
      await rules.reload();
    } catch (err) {
      setError(api.errorMessage(err));
    }
  };

  return (
    <section class="card" aria-labelledby={`campaign-${campaign.id}`}>
      <div class="card-header">
        <h2 id={`campaign-${campaign.id}`}>{campaign.name}</h2>
        <span class="muted small">
          Created <Time at={campaign.created_at} /> ·{' '}
          <Link href={withQuery('/referrals', { campaign: campaign.name })}>People referred</Link> ·{' '}
          <Link href={withQuery('/rewards', { campaign: campaign.name })}>Payouts</Link>
        </span>
      </div>
      <h3>Reward rules</h3>
      {(error || rules.error) && <Alert>{error ?? rules.error}</Alert>}
      {!rules.data && rules.loading && <Loading />}
      {rules.data && rules.data.length === 0 && (
        <p class="muted">No reward rules: referrals of this campaign earn nothing yet. Add one below.</p>
      )}
      {rules.data && rules.data.length > 0 && (
        <ul class="rules">
          {rules.data.map((rule) => (
            <li key={rule.id} class="rule">
              <span class="rule-text" id={`rule-${rule.id}`}>{describe(rule)}</span>
              <button type="button" class="button button-small button-danger" aria-describedby={`rule-${rule.id}`}
                onClick={() => void remove(rule)}>
                Remove rule
              </button>
            </li>
          ))}
        </ul>
      )}
      <RuleForm campaign={campaign} onAdded={rules.reload} />
    </section>
  );
}

export function CampaignsPage() {
  const campaigns = useLoad(() => api.listCampaigns(), []);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();

  const add = async (event: Event) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    setBusy(true);
    setMessage(undefined);
    try {
      const created = await api.createCampaign(trimmed);
      await campaigns.reload();
      setName('');
      setMessage({ ok: true, text: `Campaign ${created.name} added.` });
    } catch (err) {
      setMessage({ ok: false, text: api.errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title="Campaigns" lead="Your referral programs and the rewards each one issues.">
      <form class="card inline-form" onSubmit={add}>
        <div class="field field-grow">
          <label for="campaign-name">Campaign name</label>
          <input id="campaign-name" type="text" required placeholder="Spring 2026" value={name}
            onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field field-button">
          <button type="submit" class="button button-primary" disabled={busy}>Add campaign</button>
        </div>
      </form>
      {message && (message.ok ? <Success>{message.text}</Success> : <Alert>{message.text}</Alert>)}
      {campaigns.error && <Alert>{campaigns.error}</Alert>}
      {!campaigns.data && campaigns.loading && <Loading />}
      {campaigns.data && campaigns.data.length === 0 && (
        <EmptyState title="No campaigns yet">
          <p>Add your first referral program above, then give it reward rules.</p>
        </EmptyState>
      )}
      <div class="stack">
        {(campaigns.data ?? []).map((c) => <CampaignSection key={c.id} campaign={c} />)}
      </div>
    </Page>
  );
}
