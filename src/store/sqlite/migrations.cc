#include "store/sqlite/migrations.h"

namespace reftrack::sqlite {

namespace {

// Timestamps are ISO 8601 text in UTC with microseconds (util/time.h).
// Emails are stored normalized; codes and external ids trimmed.
constexpr const char* kV1 = R"sql(
CREATE TABLE campaigns (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL
);

CREATE TABLE members (
  id             INTEGER PRIMARY KEY,
  campaign_id    INTEGER NOT NULL REFERENCES campaigns(id),
  email          TEXT NOT NULL,
  name           TEXT NOT NULL DEFAULT '',
  referral_code  TEXT UNIQUE,
  created_at     TEXT NOT NULL,
  UNIQUE (campaign_id, email)
);

CREATE TABLE referrals (
  id                 INTEGER PRIMARY KEY,
  campaign_id        INTEGER NOT NULL REFERENCES campaigns(id),
  referrer_id        INTEGER REFERENCES members(id),
  name               TEXT NOT NULL DEFAULT '',
  email              TEXT NOT NULL,
  external_id        TEXT,
  referral_code      TEXT,
  coupon_code        TEXT,
  note               TEXT NOT NULL DEFAULT '',
  -- OR, not IN: SQLite builds a temporary table for an IN list on every insert.
  status             TEXT NOT NULL DEFAULT 'pending'
                       CHECK (status = 'pending' OR status = 'qualified'
                              OR status = 'approved' OR status = 'denied'),
  qualified_at       TEXT,
  approved_at        TEXT,
  denied_at          TEXT,
  status_changed_at  TEXT NOT NULL,
  created_at         TEXT NOT NULL
);
-- Uniqueness of SPEC §1; email and external id lead so they also serve look-ups
-- that do not name a campaign.
CREATE UNIQUE INDEX referrals_email_campaign ON referrals (email, campaign_id);
CREATE UNIQUE INDEX referrals_external_id_campaign ON referrals (external_id, campaign_id);
CREATE UNIQUE INDEX referrals_referral_code ON referrals (referral_code);
CREATE UNIQUE INDEX referrals_coupon_code ON referrals (coupon_code);
-- Newest-first listing, whole or by campaign or status.
CREATE INDEX referrals_campaign_id ON referrals (campaign_id, id);
-- Pending, the status every referral is created with, is left out: creating a
-- million referrals then costs this index nothing, and listing pending referrals
-- newest first reads the table backwards, where they are the common case.
CREATE INDEX referrals_status_id ON referrals (status, id) WHERE status <> 'pending';

CREATE TABLE status_changes (
  id           INTEGER PRIMARY KEY,
  referral_id  INTEGER NOT NULL REFERENCES referrals(id),
  from_status  TEXT NOT NULL,
  to_status    TEXT NOT NULL,
  at           TEXT NOT NULL,
  source       TEXT NOT NULL CHECK (source = 'manual' OR source = 'import'
                                    OR source = 'qualify_upload' OR source = 'api'),
  actor        TEXT NOT NULL DEFAULT '',
  batch_id     INTEGER
);
CREATE INDEX status_changes_referral ON status_changes (referral_id, id);
)sql";

// Imports and qualify uploads, and the errors of each, so they can be downloaded
// again. status_changes.batch_id names the import a change belongs to.
constexpr const char* kV2 = R"sql(
CREATE TABLE imports (
  id           INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind = 'import' OR kind = 'qualify_upload'),
  file_name    TEXT NOT NULL,
  sha256       TEXT NOT NULL,
  actor        TEXT NOT NULL DEFAULT '',
  started_at   TEXT NOT NULL,
  finished_at  TEXT,
  counts       TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE import_errors (
  import_id    INTEGER NOT NULL REFERENCES imports(id),
  file_row     INTEGER NOT NULL,
  column_name  TEXT NOT NULL DEFAULT '',
  message      TEXT NOT NULL
);
CREATE INDEX import_errors_import ON import_errors (import_id, file_row);
CREATE INDEX status_changes_batch ON status_changes (batch_id) WHERE batch_id IS NOT NULL;
)sql";

// Qualify uploads record what their values were matched by and the campaign chosen.
constexpr const char* kV3 = R"sql(
ALTER TABLE imports ADD COLUMN match_by TEXT
  CHECK (match_by = 'email' OR match_by = 'referral_code' OR match_by = 'coupon_code');
ALTER TABLE imports ADD COLUMN campaign_id INTEGER REFERENCES campaigns(id);
)sql";

// Reward rules and the rewards they issued (SPEC §3): at most one reward per (rule,
// referral, recipient), whoever issues it.
constexpr const char* kV4 = R"sql(
CREATE TABLE reward_rules (
  id           INTEGER PRIMARY KEY,
  campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
  on_status    TEXT NOT NULL
                 CHECK (on_status = 'pending' OR on_status = 'qualified' OR on_status = 'approved'),
  recipients   TEXT NOT NULL
                 CHECK (recipients = 'referrer' OR recipients = 'referred' OR recipients = 'both'),
  amount       TEXT,
  currency     TEXT NOT NULL DEFAULT '',
  description  TEXT NOT NULL DEFAULT '',
  created_at   TEXT NOT NULL,
  removed_at   TEXT
);
CREATE INDEX reward_rules_campaign ON reward_rules (campaign_id);

-- A reward's terms (amount, currency, description) are its rule's, which never
-- change, and its referrer is its referral's: the row keeps only what is its own.
-- Its id packs (referral, rule, recipient), and the CHECK holds every writer to
-- that: the primary key is then the unique constraint on the three, and the table
-- one b-tree, written in one sweep when a bulk change issues rewards in referral
-- order (rule ids below 2^19).
CREATE TABLE rewards (
  id           INTEGER PRIMARY KEY,
  referral_id  INTEGER NOT NULL REFERENCES referrals(id),
  rule_id      INTEGER NOT NULL REFERENCES reward_rules(id),
  recipient    TEXT NOT NULL CHECK (recipient = 'referrer' OR recipient = 'referred'),
  state        TEXT NOT NULL DEFAULT 'issued' CHECK (state = 'issued' OR state = 'paid'),
  issued_at    TEXT NOT NULL,
  paid_at      TEXT,
  CHECK (rule_id > 0 AND rule_id < 524288 AND
         id = referral_id * 1048576 + rule_id * 2 + (recipient = 'referred'))
);
)sql";

// API keys: only a key's hash is kept (domain/api_key.h).
constexpr const char* kV5 = R"sql(
CREATE TABLE api_keys (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  scope       TEXT NOT NULL CHECK (scope = 'read' OR scope = 'write' OR scope = 'admin'),
  prefix      TEXT NOT NULL,
  hash        TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
);
)sql";

// People who sign in to the web page, and their sessions (domain/user.h): a
// password only as its argon2id hash, a session only as its token's SHA-256.
constexpr const char* kV6 = R"sql(
CREATE TABLE users (
  id             INTEGER PRIMARY KEY,
  email          TEXT NOT NULL UNIQUE,
  password_hash  TEXT NOT NULL,
  created_at     TEXT NOT NULL
);
CREATE TABLE sessions (
  token_hash  TEXT PRIMARY KEY,
  user_id     INTEGER NOT NULL REFERENCES users(id),
  csrf_token  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
)sql";

// A campaign's currency: what a reward rule's amount is in when the rule names none
// (SPEC §5: `reward-rule add --amount A` without --currency). Three letters.
constexpr const char* kV7 = R"sql(
ALTER TABLE campaigns ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
)sql";

// The counts the dashboard shows (CountReferrals), kept by every writer in its
// transaction (sqlite_store.cc, FlushCounts).
constexpr const char* kReferralCounts = R"sql(
CREATE TABLE referral_counts (
  campaign_id     INTEGER NOT NULL,
  status          TEXT NOT NULL,
  ever_qualified  INTEGER NOT NULL,
  n               INTEGER NOT NULL,
  PRIMARY KEY (campaign_id, status, ever_qualified)
) WITHOUT ROWID;
INSERT INTO referral_counts (campaign_id, status, ever_qualified, n)
  SELECT campaign_id, status, qualified_at IS NOT NULL, count(*) FROM referrals GROUP BY 1, 2, 3;
)sql";

constexpr const char* kMigrations[] = {kV1, kV2, kV3, kV4, kV5, kV6, kV7, kReferralCounts};

}  // namespace

std::span<const char* const> Migrations() { return kMigrations; }

}  // namespace reftrack::sqlite
