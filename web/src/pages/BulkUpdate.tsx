// Bulk update from a CSV file: choose the file → preview (a dry run: counts,
// transitions, every row error) → import (the same file, applied) → result.

import { useState } from 'preact/hooks';
import * as api from '../api';
import { Alert, Success } from '../components/Messages';
import { Page } from '../components/Page';
import { ProgressBar } from '../components/ProgressBar';
import { Stat } from '../components/Stat';
import { Steps } from '../components/Steps';
import { StatusBadge } from '../components/StatusBadge';
import { downloadText, toCsv } from '../csv';
import { formatBytes, formatCount, plural } from '../format';
import { useUploader } from '../hooks';
import { Link } from '../router';
import type { ImportReport, Status } from '../types';

const SHOWN_ERRORS = 500;
const TEMPLATE = 'referralkey_id,referralkey_externalid,referralkey_email,campaign,status,note\r\n42,,,,qualified,met sales\r\n,crm-1001,,,approved,contract signed\r\n,,ada@example.com,Spring,denied,\r\n';

type Step =
  | { kind: 'choose' }
  | { kind: 'preview'; report: ImportReport }
  | { kind: 'done'; report: ImportReport };

function baseName(file: File): string {
  return file.name.replace(/\.[^.]*$/, '') || 'import';
}

function Transitions({ transitions }: { transitions: Record<string, number> }) {
  const rows = Object.entries(transitions).filter(([, n]) => n > 0);
  if (rows.length === 0) return <p class="muted">No status would change.</p>;
  return (
    <div class="table-wrap">
      <table class="table table-compact">
        <caption class="visually-hidden">Status changes</caption>
        <thead><tr><th scope="col">From</th><th scope="col">To</th><th scope="col" class="num">Rows</th></tr></thead>
        <tbody>
          {rows.map(([key, n]) => {
            const [from, to] = key.split('->') as [Status, Status];
            return (
              <tr key={key}>
                <td><StatusBadge status={from} /></td>
                <td><StatusBadge status={to} /></td>
                <td class="num">{formatCount(n)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Errors({ report, file }: { report: ImportReport; file: File }) {
  if (report.errors.length === 0) return <p class="muted">No errors: every row can be imported.</p>;
  const download = () =>
    downloadText(`${baseName(file)}-errors.csv`, toCsv(['row', 'column', 'message'], report.errors.map((e) => [e.row, e.column, e.message])));
  const shown = report.errors.slice(0, SHOWN_ERRORS);
  return (
    <>
      <div class="section-actions">
        <p class="muted small">These rows are skipped by the import; fix them in your spreadsheet and upload them again.</p>
        <button type="button" class="button button-small" onClick={download}>Download errors as CSV</button>
      </div>
      <div class="table-wrap table-scroll-y">
        <table class="table table-compact">
          <caption class="visually-hidden">Rows in error</caption>
          <thead><tr><th scope="col" class="num">Row</th><th scope="col">Column</th><th scope="col">Reason</th></tr></thead>
          <tbody>
            {shown.map((e, i) => (
              <tr key={i}>
                <td class="num">{e.row}</td>
                <td><code>{e.column || '—'}</code></td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {report.errors.length > shown.length && (
        <p class="muted small">Showing the first {formatCount(shown.length)} of {formatCount(report.errors.length)} errors; the CSV has them all.</p>
      )}
    </>
  );
}

export function BulkUpdatePage() {
  const [file, setFile] = useState<File | null>(null);
  const [step, setStep] = useState<Step>({ kind: 'choose' });
  const [error, setError] = useState<string>();
  const uploader = useUploader();
  const busy = uploader.progress !== null;

  const send = async (dryRun: boolean) => {
    if (!file) {
      setError('Choose a CSV file first.');
      return;
    }
    setError(undefined);
    try {
      const report = await uploader.run((onProgress) => api.uploadImport(file, dryRun, onProgress));
      setStep(dryRun ? { kind: 'preview', report } : { kind: 'done', report });
    } catch (err) {
      setError(api.errorMessage(err));
    }
  };

  const startOver = () => {
    setFile(null);
    setError(undefined);
    setStep({ kind: 'choose' });
  };

  const current = step.kind === 'choose' ? 0 : step.kind === 'preview' ? 1 : 2;

  return (
    <Page
      title="Bulk update"
      lead="Update many referrals at once from a spreadsheet: preview every change and error first, then import."
    >
      <Steps steps={['Upload file', 'Preview', 'Import']} current={current} />
      {error && <Alert>{error}</Alert>}

      {step.kind === 'choose' && (
        <section class="card" aria-labelledby="choose-heading">
          <h2 id="choose-heading">Upload your spreadsheet</h2>
          <p class="muted">
            The first row is the header. Each row names a referral by <code>referralkey_id</code>,
            {' '}<code>referralkey_externalid</code> or <code>referralkey_email</code> (with <code>campaign</code> when the email is
            in several campaigns), and sets <code>status</code>, <code>name</code>, <code>email</code>, <code>external_id</code> or <code>note</code>.
            {' '}<button type="button" class="link-button" onClick={() => downloadText('bulk-update-template.csv', TEMPLATE)}>Download a template</button>
          </p>
          <form class="stack" onSubmit={(e) => { e.preventDefault(); void send(true); }}>
            <div class="field">
              <label for="bulk-file">CSV file</label>
              <input
                id="bulk-file" type="file" accept=".csv,text/csv" disabled={busy}
                onChange={(e) => { setFile(e.currentTarget.files?.[0] ?? null); setError(undefined); }}
              />
              {file && <p class="hint">{file.name} · {formatBytes(file.size)}</p>}
            </div>
            {uploader.progress && file && <ProgressBar progress={uploader.progress} fileName={file.name} />}
            <div>
              <button type="submit" class="button button-primary" disabled={busy}>Preview</button>
            </div>
            <p class="hint">Preview reads the whole file and changes nothing. Import then applies the valid rows in one transaction.</p>
          </form>
        </section>
      )}

      {step.kind === 'preview' && file && (
        <>
          <section class="card" aria-labelledby="preview-heading">
            <h2 id="preview-heading">Preview of {file.name}</h2>
            <p class="muted">Nothing has changed yet. This is what the import would do with the data as it is now.</p>
            <div class="stats">
              <Stat label="rows read" value={step.report.rows} testId="preview-rows" />
              <Stat label="would change" value={step.report.changed} testId="preview-changed" tone="good" />
              <Stat label="unchanged" value={step.report.unchanged} testId="preview-unchanged" />
              <Stat label="errors" value={step.report.error_count} testId="preview-errors" tone={step.report.error_count > 0 ? 'bad' : undefined} />
            </div>
            <h3>Status changes</h3>
            <Transitions transitions={step.report.transitions} />
            {step.report.warnings.length > 0 && (
              <>
                <h3>Warnings</h3>
                <ul class="warnings">
                  {step.report.warnings.map((w, i) => <li key={i}>{w}</li>)}
                </ul>
              </>
            )}
            <h3>Errors</h3>
            <Errors report={step.report} file={file} />
          </section>
          <div class="wizard-actions">
            {uploader.progress && <ProgressBar progress={uploader.progress} fileName={file.name} />}
            <button type="button" class="button" onClick={startOver} disabled={busy}>Start over</button>
            <button
              type="button" class="button button-primary" onClick={() => void send(false)}
              disabled={busy || step.report.changed === 0}
              aria-describedby="import-hint"
            >
              Import
            </button>
            <span id="import-hint" class="muted small">
              {step.report.changed === 0
                ? 'Nothing would change: there is nothing to import.'
                : `Applies ${plural(step.report.changed, 'row', 'rows')} in one transaction${step.report.error_count ? ` and skips ${plural(step.report.error_count, 'row', 'rows')} in error` : ''}.`}
            </span>
          </div>
        </>
      )}

      {step.kind === 'done' && (
        <section class="card" aria-labelledby="done-heading">
          <h2 id="done-heading">Import complete</h2>
          <Success>
            {plural(step.report.changed, 'referral', 'referrals')} updated
            {step.report.import_id !== undefined ? ` (import #${step.report.import_id})` : ''}.
          </Success>
          <div class="stats">
            <Stat label="changed" value={step.report.changed} testId="result-changed" tone="good" />
            <Stat label="unchanged" value={step.report.unchanged} testId="result-unchanged" />
            <Stat label="errors (skipped)" value={step.report.error_count} testId="result-errors" tone={step.report.error_count > 0 ? 'bad' : undefined} />
          </div>
          <Transitions transitions={step.report.transitions} />
          <div class="wizard-actions">
            {step.report.import_id !== undefined && step.report.error_count > 0 && (
              <a class="button" href={api.importErrorsUrl(step.report.import_id)} download>Download errors as CSV</a>
            )}
            <Link href="/referrals" class="button">See the list</Link>
            <button type="button" class="button button-primary" onClick={startOver}>Start over</button>
          </div>
        </section>
      )}

    </Page>
  );
}
