// The things reftrack keeps (SPEC §1). Plain values: no behavior, no storage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/status.h"
#include "util/time.h"

namespace reftrack {

struct Campaign {
  int64_t id = 0;
  std::string name;
  Micros created_at = 0;
  // What a reward rule's amount is in when the rule names no currency (ISO 4217).
  std::string currency = "USD";
};

// A person who refers others in one campaign (the "advocate").
struct Member {
  int64_t id = 0;
  int64_t campaign_id = 0;
  std::string email;  // normalized
  std::string name;
  std::optional<std::string> referral_code;
  Micros created_at = 0;
};

struct NewMember {
  int64_t campaign_id = 0;
  std::string email;  // normalized
  std::string name;
  std::optional<std::string> referral_code;  // normalized
};

struct Referral {
  int64_t id = 0;
  int64_t campaign_id = 0;
  std::string campaign;  // the campaign's name
  std::optional<int64_t> referrer_id;
  std::optional<std::string> referrer_email;
  std::string name;
  std::string email;  // normalized
  std::optional<std::string> external_id;
  std::optional<std::string> referral_code;
  std::optional<std::string> coupon_code;
  std::string note;
  Status status = Status::kPending;
  std::optional<Micros> qualified_at;  // the first qualification; never changes after
  std::optional<Micros> approved_at;
  std::optional<Micros> denied_at;  // the latest denial
  Micros status_changed_at = 0;
  Micros created_at = 0;

  bool ever_qualified() const { return qualified_at.has_value(); }
};

// A referral's status and timestamps: what a bulk status change (a qualify upload)
// reads and writes, without the referral's text.
struct ReferralState {
  int64_t id = 0;
  int64_t campaign_id = 0;
  std::optional<int64_t> referrer_id;
  Status status = Status::kPending;
  std::optional<Micros> qualified_at;
  std::optional<Micros> approved_at;
  std::optional<Micros> denied_at;
  Micros status_changed_at = 0;

  bool ever_qualified() const { return qualified_at.has_value(); }
};

// A referral to create; all text already normalized and validated by the engine.
struct NewReferral {
  int64_t campaign_id = 0;
  std::optional<int64_t> referrer_id;
  std::string name;
  std::string email;
  std::optional<std::string> external_id;
  std::optional<std::string> referral_code;
  std::optional<std::string> coupon_code;
  Micros created_at = 0;
};

// One row of a referral's history.
struct StatusChange {
  int64_t referral_id = 0;
  Status from = Status::kPending;
  Status to = Status::kPending;
  Micros at = 0;
  ChangeSource source = ChangeSource::kManual;
  std::string actor;
  std::optional<int64_t> batch_id;  // the import or upload it belongs to
};

struct ReferralFilter {
  std::optional<Status> status;
  std::optional<int64_t> campaign_id;
  std::string query;                 // substring of email or name; empty: all
  std::optional<int64_t> before_id;  // keyset cursor: only ids below this one
  int limit = 50;
};

// One error of a bulk file, as a spreadsheet shows it.
struct RowError {
  int64_t row = 0;      // the header is row 1; a quoted field spanning lines is one row
  std::string column;   // the column at fault, or empty for the whole row
  std::string message;
};

// A bulk file that changed data (an import or a qualify upload), as recorded.
struct ImportRecord {
  int64_t id = 0;
  std::string kind;       // "import" or "qualify_upload"
  std::string file_name;
  std::string sha256;     // of the file's bytes, lower-case hex
  std::string actor;
  Micros started_at = 0;
  Micros finished_at = 0;
  std::string counts;     // the report's counts, a JSON object
  // Qualify uploads: what the values were matched by ("email", "referral_code" or
  // "coupon_code") and the campaign chosen, if any.
  std::string match_by;
  std::optional<int64_t> campaign_id;
};

struct ReferralPage {
  std::vector<Referral> referrals;
  std::optional<int64_t> next_before_id;  // set when there may be more
};

}  // namespace reftrack
