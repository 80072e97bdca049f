// The JSON shapes of reftrack's HTTP API (src/http/openapi.json) that the page uses.

export const STATUSES = ['pending', 'qualified', 'approved', 'denied'] as const;
export type Status = (typeof STATUSES)[number];

export interface Session {
  email: string;
  csrf_token: string;
}

export interface Referral {
  id: number;
  campaign: string;
  name: string;
  email: string;
  external_id: string | null;
  referral_code: string | null;
  coupon_code: string | null;
  referrer_email: string | null;
  note: string;
  status: Status;
  qualified_at: string | null;
  approved_at: string | null;
  denied_at: string | null;
  status_changed_at: string;
  created_at: string;
}

export interface ReferralPage {
  referrals: Referral[];
  next_cursor: string | null;
}

export interface StatusChange {
  from: Status;
  to: Status;
  at: string;
  source: 'manual' | 'import' | 'qualify_upload' | 'api' | string;
  actor: string;
  batch_id?: number;
}

export interface Reward {
  id: number;
  rule: number;
  referral_id: number;
  campaign: string;
  recipient: 'referrer' | 'referred';
  recipient_email: string;
  amount: string | null;
  currency: string | null;
  description: string;
  state: string;
  issued_at: string;
  paid_at: string | null;
}

export interface Transition {
  to: Status;
  allowed: boolean;
  reason: string | null;
}

export interface ReferralDetails extends Referral {
  history: StatusChange[];
  rewards: Reward[];
  transitions?: Transition[];
}

export interface StatusChangeOutcome {
  id: number;
  from: Status;
  to: Status;
  changed: boolean;
  result: 'changed' | 'unchanged';
}

export interface RowError {
  row: number;
  column: string;
  message: string;
}

export interface ImportReport {
  rows: number;
  changed: number;
  unchanged: number;
  error_count: number;
  errors: RowError[];
  warnings: string[];
  transitions: Record<string, number>;
  applied: boolean;
  import_id?: number;
}

export type MatchBy = 'email' | 'referral_code' | 'coupon_code';

export interface QualifyReport {
  lines: number;
  recognized: number;
  not_recognized: number;
  matched: number;
  qualified: number;
  already_qualified: number;
  not_allowed: number;
  unmatched: number;
  applied: boolean;
  upload_id?: number;
}

export interface Campaign {
  id: number;
  name: string;
  created_at: string;
}

export type Recipient = 'referrer' | 'referred' | 'both';

export interface RewardRule {
  id: number;
  campaign_id: number;
  on: 'pending' | 'qualified' | 'approved';
  to: Recipient;
  amount: string | null;
  currency: string | null;
  description: string;
  created_at: string;
}

export interface NewRewardRule {
  on: RewardRule['on'];
  to: Recipient;
  amount?: string;
  currency?: string;
  description?: string;
}

export type StatusCounts = Record<Status, number>;

export interface CampaignStats {
  id: number;
  name: string;
  total: number;
  counts: StatusCounts;
  ever_qualified: number;
}

export interface Stats {
  total: number;
  counts: StatusCounts;
  ever_qualified: number;
  campaigns: CampaignStats[];
}
