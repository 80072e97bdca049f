// Qualify referred users by upload: choose what to match by (and the campaign
// for emails) → read the list (a dry run) → N data points recognized →
// the estimate → qualify (the same list, applied) → done.

import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { Alert, Success } from '../components/Messages';
import { Page } from '../components/Page';
import { ProgressBar } from '../components/ProgressBar';
import { Stat } from '../components/Stat';
import { Steps } from '../components/Steps';
import { formatCount, plural } from '../format';
import { useLoad, useUploader } from '../hooks';
import { Link } from '../router';
import type { MatchBy, QualifyReport } from '../types';

const MATCH_BY: { value: MatchBy; label: string; example: string }[] = [
  { value: 'email', label: 'Email', example: 'ada@example.com' },
  { value: 'referral_code', label: 'Referral code', example: 'ADA-2026' },
  { value: 'coupon_code', label: 'Coupon code', example: 'WELCOME10' },
];

type Step =
  | { kind: 'setup' }
  | { kind: 'recognized'; report: QualifyReport }
  | { kind: 'estimate'; report: QualifyReport }
  | { kind: 'done'; report: QualifyReport };

const STEP_INDEX: Record<Step['kind'], number> = { setup: 0, recognized: 1, estimate: 2, done: 3 };

/** The first values of the list (first column of the first lines), read in the browser to show what was chosen. */
async function firstValues(file: File, count = 6): Promise<string[]> {
  const text = await file.slice(0, 64 * 1024).text();
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line) => line.split(',')[0].trim().replace(/^"(.*)"$/, '$1'))
    .filter((value) => value !== '')
    .slice(0, count);
}

export function QualifyPage() {
  const campaigns = useLoad(() => api.listCampaigns(), []);
  const [by, setBy] = useState<MatchBy>('email');
  const [campaign, setCampaign] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [sample, setSample] = useState<string[]>([]);
  const [step, setStep] = useState<Step>({ kind: 'setup' });
  const [error, setError] = useState<string>();
  const uploader = useUploader();
  const busy = uploader.progress !== null;

  // One campaign: choose it for the user.
  useEffect(() => {
    if (!campaign && campaigns.data?.length === 1) setCampaign(campaigns.data[0].name);
  }, [campaigns.data]);

  useEffect(() => {
    setSample([]);
    if (file) firstValues(file).then(setSample, () => setSample([]));
  }, [file]);

  const send = async (dryRun: boolean) => {
    if (by === 'email' && !campaign) {
      setError('Choose the campaign: an email may be referred in several campaigns.');
      return;
    }
    if (!file) {
      setError('Choose the list file first.');
      return;
    }
    setError(undefined);
    try {
      const report = await uploader.run((onProgress) =>
        api.uploadQualify(file, by, by === 'email' ? campaign : undefined, dryRun, onProgress));
      setStep(dryRun ? { kind: 'recognized', report } : { kind: 'done', report });
    } catch (err) {
      setError(api.errorMessage(err));
    }
  };

  const startOver = () => {
    setFile(null);
    setError(undefined);
    setStep({ kind: 'setup' });
  };

  const byLabel = MATCH_BY.find((m) => m.value === by)!.label.toLowerCase();
  const progress = uploader.progress && file && <ProgressBar progress={uploader.progress} fileName={file.name} />;

  return (
    <Page
      title="Qualify referred users"
      lead="Upload a list of your converted customers: every referral on it that was never qualified becomes qualified. Safe to upload the same list again."
    >
      <Steps steps={['Choose list', 'Recognized', 'Estimate', 'Done']} current={STEP_INDEX[step.kind]} />
      {error && <Alert>{error}</Alert>}

      {step.kind === 'setup' && (
        <section class="card" aria-labelledby="setup-heading">
          <h2 id="setup-heading">Choose the list</h2>
          <form class="stack" onSubmit={(e) => { e.preventDefault(); void send(true); }}>
            <fieldset class="choice-group" role="radiogroup" aria-labelledby="match-by-legend" disabled={busy}>
              <legend id="match-by-legend">Match by</legend>
              <div class="choices">
                {MATCH_BY.map((m) => (
                  <label key={m.value} class={by === m.value ? 'choice choice-checked' : 'choice'}>
                    <input type="radio" name="match-by" value={m.value} checked={by === m.value} onChange={() => setBy(m.value)} />
                    <span class="choice-label">{m.label}</span>
                    <span class="choice-example" aria-hidden="true">{m.example}</span>
                  </label>
                ))}
              </div>
            </fieldset>
            {by === 'email' && (
              <div class="field">
                <label for="qualify-campaign">Campaign</label>
                <select
                  id="qualify-campaign" required value={campaign} disabled={busy}
                  aria-describedby="qualify-campaign-hint"
                  onChange={(e) => setCampaign(e.currentTarget.value)}
                >
                  <option value="">Choose a campaign…</option>
                  {(campaigns.data ?? []).map((c) => <option key={c.id} value={c.name}>{c.name}</option>)}
                </select>
                <p id="qualify-campaign-hint" class="hint">A person may take part in several campaigns: emails are matched in this one.</p>
              </div>
            )}
            <div class="field">
              <label for="qualify-file">List file</label>
              <input
                id="qualify-file" type="file" accept=".csv,.txt,text/csv,text/plain" disabled={busy}
                aria-describedby="qualify-file-hint"
                onChange={(e) => { setFile(e.currentTarget.files?.[0] ?? null); setError(undefined); }}
              />
              <p id="qualify-file-hint" class="hint">
                A CSV with <strong>no header row</strong>: one {byLabel} a line (only the first column is read).
              </p>
            </div>
            {file && sample.length > 0 && (
              <div class="sample">
                <p class="small muted">First values in {file.name}:</p>
                <ul class="sample-values">{sample.map((v, i) => <li key={i}><code>{v}</code></li>)}</ul>
              </div>
            )}
            {progress}
            <div>
              <button type="submit" class="button button-primary" disabled={busy}>Read file</button>
            </div>
          </form>
        </section>
      )}

      {step.kind === 'recognized' && (
        <section class="card" aria-labelledby="recognized-heading">
          <h2 id="recognized-heading">Check the data points</h2>
          <p class="big-number">
            <span data-testid="qualify-recognized">{formatCount(step.report.recognized)}</span> data points recognized
          </p>
          <p class="muted">
            {plural(step.report.lines, 'line', 'lines')} read from {file?.name};
            {' '}<span data-testid="qualify-not-recognized">{formatCount(step.report.not_recognized)}</span> not recognized
            {step.report.not_recognized > 0 ? ` (not a valid ${byLabel}: a header word or a malformed value)` : ''}.
            {' '}A value listed twice counts once. Does this match your list?
          </p>
          <div class="wizard-actions">
            <button type="button" class="button" onClick={startOver}>Start over</button>
            <button type="button" class="button button-primary" onClick={() => setStep({ kind: 'estimate', report: step.report })}>
              Show estimate
            </button>
          </div>
        </section>
      )}

      {step.kind === 'estimate' && (
        <section class="card" aria-labelledby="estimate-heading">
          <h2 id="estimate-heading">Estimate</h2>
          <p class="muted">Nothing has changed yet. Of the {plural(step.report.recognized, 'recognized value', 'recognized values')}:</p>
          <div class="stats">
            <Stat label="will be qualified" value={step.report.qualified} testId="estimate-qualified" tone="good" />
            <Stat label="already qualified or approved" value={step.report.already_qualified} testId="estimate-already-qualified" />
            <Stat label="not allowed (denied after a qualification)" value={step.report.not_allowed} testId="estimate-not-allowed" tone={step.report.not_allowed > 0 ? 'warn' : undefined} />
            <Stat label="matched no referral" value={step.report.unmatched} testId="estimate-unmatched" />
          </div>
          {progress}
          <div class="wizard-actions">
            <button type="button" class="button" onClick={startOver} disabled={busy}>Start over</button>
            <button type="button" class="button button-primary" onClick={() => void send(false)} disabled={busy}>Qualify</button>
          </div>
        </section>
      )}

      {step.kind === 'done' && (
        <section class="card" aria-labelledby="done-heading">
          <h2 id="done-heading">Qualification complete</h2>
          <Success>
            <span data-testid="result-qualified">{formatCount(step.report.qualified)}</span>
            {step.report.qualified === 1 ? ' referral' : ' referrals'} qualified
            {step.report.upload_id !== undefined ? ` (upload #${step.report.upload_id})` : ''}.
          </Success>
          <p class="muted">
            {plural(step.report.already_qualified, 'was', 'were')} already qualified, {formatCount(step.report.not_allowed)} not allowed,
            {' '}{formatCount(step.report.unmatched)} matched nobody.
          </p>
          <div class="wizard-actions">
            <Link href="/referrals?status=qualified" class="button">See who is qualified</Link>
            <button type="button" class="button button-primary" onClick={startOver}>Start over</button>
          </div>
        </section>
      )}
    </Page>
  );
}
