// The one place that talks to the server: JSON over fetch, uploads over
// XMLHttpRequest (for upload progress), the CSRF header on every change,
// problem+json errors as ApiError, and a 401 sends the user back to sign in.

import type {
  Campaign, ImportReport, MatchBy, NewRewardRule, QualifyReport, ReferralDetails,
  ReferralPage, Reward, RewardRule, Session, Stats, Status, StatusChangeOutcome,
} from './types';

const BASE = '/api/v1';

/** An answer that is not 2xx; `detail` is the server's words for a person. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly detail: string) {
    super(detail);
    this.name = 'ApiError';
  }
}

let csrfToken = '';
let unauthorizedHandler: () => void = () => {};

/** Called once by the app: what to do when the session is gone (any 401). */
export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler;
}

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** The human message of any error thrown by this module (or anything else). */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  if (err instanceof Error) return err.message;
  return String(err);
}

function problemDetail(status: number, statusText: string, body: string): string {
  try {
    const problem = JSON.parse(body) as { detail?: string; title?: string };
    if (problem.detail) return problem.detail;
    if (problem.title) return problem.title;
  } catch {
    // Not JSON: fall through to the status line.
  }
  return `The server answered ${status} ${statusText}`.trim();
}

interface RequestOptions {
  body?: unknown;
  /** Sign-in answers 401 for wrong credentials: that is an error to show, not a lost session. */
  signingIn?: boolean;
}

async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, 'Cannot reach the reftrack server. Check that it is running, then try again.');
  }
  const text = await response.text();
  if (!response.ok) {
    if (response.status === 401 && !options.signingIn) unauthorizedHandler();
    throw new ApiError(response.status, problemDetail(response.status, response.statusText, text));
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * Where an upload is: sending bytes (percent known), then the server reading its rows
 * (percent known once the server reports it, from GET /progress/{id}).
 */
export type UploadProgress = { phase: 'sending'; percent: number } | { phase: 'reading'; percent?: number };

/** A name for one upload, to ask the server how far it has read it. */
function newProgressId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return 'up-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

interface ServerProgress {
  reading: boolean;
  bytes_read: number;
  bytes_total: number;
}

/** Sends `file` as the raw body (text/csv) and reports progress; resolves with the JSON answer. */
function upload<T>(path: string, file: File, onProgress: (p: UploadProgress) => void): Promise<T> {
  const progressId = newProgressId();
  let polling: number | undefined;
  const stopPolling = () => window.clearInterval(polling);
  // Once the bytes are sent, the server reads the rows: ask it how far it is.
  const poll = () => {
    request<ServerProgress>('GET', `/progress/${progressId}`)
      .then((p) => {
        if (polling !== undefined && p.reading && p.bytes_total > 0) {
          onProgress({ phase: 'reading', percent: Math.min(100, Math.round((p.bytes_read / p.bytes_total) * 100)) });
        }
      })
      .catch(() => undefined);
  };
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', BASE + path + (path.includes('?') ? '&' : '?') + `progress_id=${progressId}`);
    xhr.setRequestHeader('Content-Type', 'text/csv');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) {
        onProgress({ phase: 'sending', percent: Math.min(100, Math.round((event.loaded / event.total) * 100)) });
      }
    };
    xhr.upload.onload = () => {
      onProgress({ phase: 'reading' });
      polling = window.setInterval(poll, 250);
    };
    xhr.onloadend = stopPolling;
    xhr.onerror = () =>
      reject(new ApiError(0, 'The upload was interrupted. Check your connection and that the server is running, then try again.'));
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText) as T);
        } catch {
          reject(new ApiError(xhr.status, 'The server sent an answer this page cannot read.'));
        }
        return;
      }
      if (xhr.status === 401) unauthorizedHandler();
      reject(new ApiError(xhr.status, problemDetail(xhr.status, xhr.statusText, xhr.responseText)));
    };
    onProgress({ phase: 'sending', percent: 0 });
    xhr.send(file);
  });
}

function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// Session

export const getSession = () => request<Session>('GET', '/session');
export const signIn = (email: string, password: string) =>
  request<Session>('POST', '/session', { body: { email, password }, signingIn: true });
export const signOut = () => request<void>('DELETE', '/session');

// Referrals

export interface ReferralFilter {
  status?: string;
  campaign?: string;
  q?: string;
  cursor?: string;
  limit?: number;
}

export const listReferrals = (filter: ReferralFilter) =>
  request<ReferralPage>('GET', `/referrals${query({ ...filter })}`);
export const getReferral = (id: number) => request<ReferralDetails>('GET', `/referrals/${id}`);
export const changeStatus = (id: number, status: Status, note?: string) =>
  request<StatusChangeOutcome>('PATCH', `/referrals/${id}`, { body: note === undefined ? { status } : { status, note } });

export const getStats = (campaign?: string) => request<Stats>('GET', `/stats${query({ campaign })}`);

// Bulk update and qualify by upload

export const uploadImport = (file: File, dryRun: boolean, onProgress: (p: UploadProgress) => void) =>
  upload<ImportReport>(`/imports${query({ dry_run: dryRun, filename: file.name })}`, file, onProgress);
export const importErrorsUrl = (importId: number) => `${BASE}/imports/${importId}/errors.csv`;

export const uploadQualify = (
  file: File, by: MatchBy, campaign: string | undefined, dryRun: boolean, onProgress: (p: UploadProgress) => void,
) => upload<QualifyReport>(`/qualifications${query({ by, campaign, dry_run: dryRun, filename: file.name })}`, file, onProgress);

// Campaigns, reward rules, rewards

export const listCampaigns = () =>
  request<{ campaigns: Campaign[] }>('GET', '/campaigns').then((answer) => answer.campaigns);
export const createCampaign = (name: string) => request<Campaign>('POST', '/campaigns', { body: { name } });
export const listRules = (campaignId: number) =>
  request<{ reward_rules: RewardRule[] }>('GET', `/campaigns/${campaignId}/reward-rules`).then((a) => a.reward_rules);
export const addRule = (campaignId: number, rule: NewRewardRule) =>
  request<RewardRule>('POST', `/campaigns/${campaignId}/reward-rules`, { body: rule });
export const removeRule = (ruleId: number) => request<void>('DELETE', `/reward-rules/${ruleId}`);

export const listRewards = (campaign?: string) =>
  request<{ rewards: Reward[] }>('GET', `/rewards${query({ campaign })}`).then((a) => a.rewards);
export const payoutCsvUrl = (campaign?: string) => `${BASE}/rewards/export.csv${query({ campaign })}`;
