// JSON shapes of SPEC §5, shared by the CLI's --json and the HTTP API.
#pragma once

#include <nlohmann/json.hpp>
#include <iosfwd>
#include <string>

#include "engine/bulk_update.h"
#include "engine/qualify_upload.h"
#include "engine/engine.h"
#include "engine/referral_loader.h"

namespace reftrack {

nlohmann::json ToJson(const Campaign& campaign);
nlohmann::json ToJson(const Member& member);
// A referral without history (list rows).
nlohmann::json ToJson(const Referral& referral);
// `referral show`: the referral, its history and its rewards.
nlohmann::json ToJson(const ReferralDetails& details);
nlohmann::json ToJson(const StatusChange& change);
// A reward: the fields of SPEC §5's `rewards`, and its id, referral, campaign,
// recipient's email and paid_at.
nlohmann::json ToJson(const Reward& reward);
nlohmann::json ToJson(const RewardRule& rule);
// An API key as listed: never the key itself, which is shown once when it is made.
nlohmann::json ToJson(const ApiKey& key);
// A key just made: the key, and under "key" its secret, shown this once.
nlohmann::json ToJson(const Engine::NewApiKey& made);
nlohmann::json ToJson(const StatusChangeOutcome& outcome);
nlohmann::json ToJson(const ListResult& list);
nlohmann::json ToJson(const ReferralStats& stats);
nlohmann::json ToJson(const std::vector<RowError>& errors);
nlohmann::json ToJson(const LoadReport& report);
// `import`: the fields of SPEC §5, and the import's id once applied.
nlohmann::json ToJson(const ImportReport& report);
// `qualify`: the fields of SPEC §5, and the upload's id once applied.
nlohmann::json ToJson(const QualifyReport& report);

// A report's JSON written out as ToJson(report).dump() would write it (invalid UTF-8
// replaced), without building it: its errors are rendered one at a time, so a million
// of them cost their text, not a JSON tree.
void WriteJson(std::ostream& out, const ImportReport& report);
void WriteJson(std::ostream& out, const LoadReport& report);
void WriteJson(std::ostream& out, const QualifyReport& report);
// The same text as one string (an HTTP response body).
std::string JsonText(const ImportReport& report);
// `head` with `errors` in place of its empty array "errors", which is its first key
// or follows only keys of numbers and booleans; written as WriteJson above.
void WriteJson(std::ostream& out, const nlohmann::json& head, const std::vector<RowError>& errors);

// Rewards as a payout list, as `reward export` writes it and
// GET /api/v1/rewards/export.csv answers (cells a spreadsheet would run are quoted).
std::string PayoutCsv(const std::vector<Reward>& rewards);

// The statuses a referral may move to from where it is, and why not the others:
// [{"to": "approved", "allowed": true, "reason": null}, ...], one per other status.
nlohmann::json TransitionsJson(const Referral& referral);

// An import's errors as CSV (row, column, message), as `import errors` prints them and
// GET /api/v1/imports/{id}/errors.csv answers.
std::string RowErrorsCsv(const std::vector<RowError>& errors);

}  // namespace reftrack
