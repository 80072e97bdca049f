#include "engine/json.h"

#include <ostream>
#include <string_view>

#include "csv/writer.h"
#include "domain/status_rules.h"

namespace reftrack {

using nlohmann::json;

namespace {

json OptText(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json OptTime(const std::optional<Micros>& t) {
  return t ? json(FormatTimestamp(*t)) : json(nullptr);
}

}  // namespace

json ToJson(const Campaign& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"currency", c.currency},
          {"created_at", FormatTimestamp(c.created_at)}};
}

json ToJson(const Member& m) {
  return {{"id", m.id},
          {"campaign_id", m.campaign_id},
          {"email", m.email},
          {"name", m.name},
          {"referral_code", OptText(m.referral_code)},
          {"created_at", FormatTimestamp(m.created_at)}};
}

json ToJson(const Referral& r) {
  return {{"id", r.id},
          {"campaign", r.campaign},
          {"name", r.name},
          {"email", r.email},
          {"external_id", OptText(r.external_id)},
          {"referral_code", OptText(r.referral_code)},
          {"coupon_code", OptText(r.coupon_code)},
          {"referrer_email", OptText(r.referrer_email)},
          {"note", r.note},
          {"status", StatusName(r.status)},
          {"qualified_at", OptTime(r.qualified_at)},
          {"approved_at", OptTime(r.approved_at)},
          {"denied_at", OptTime(r.denied_at)},
          {"status_changed_at", FormatTimestamp(r.status_changed_at)},
          {"created_at", FormatTimestamp(r.created_at)}};
}

json ToJson(const StatusChange& c) {
  json j = {{"from", StatusName(c.from)},
            {"to", StatusName(c.to)},
            {"at", FormatTimestamp(c.at)},
            {"source", SourceName(c.source)},
            {"actor", c.actor}};
  if (c.batch_id) j["batch_id"] = *c.batch_id;
  return j;
}

json ToJson(const ReferralDetails& d) {
  json j = ToJson(d.referral);
  json history = json::array();
  for (const StatusChange& c : d.history) history.push_back(ToJson(c));
  j["history"] = std::move(history);
  json rewards = json::array();
  for (const Reward& r : d.rewards) rewards.push_back(ToJson(r));
  j["rewards"] = std::move(rewards);
  return j;
}

json ToJson(const Reward& r) {
  return {{"id", r.id},
          {"rule", r.rule_id},
          {"referral_id", r.referral_id},
          {"campaign", r.campaign},
          {"recipient", RecipientName(r.recipient)},
          {"recipient_email", r.recipient_email},
          {"amount", r.amount ? json(*r.amount) : json(nullptr)},
          {"currency", r.currency.empty() ? json(nullptr) : json(r.currency)},
          {"description", r.description},
          {"state", RewardStateName(r.state)},
          {"issued_at", FormatTimestamp(r.issued_at)},
          {"paid_at", r.paid_at ? json(FormatTimestamp(*r.paid_at)) : json(nullptr)}};
}

json ToJson(const RewardRule& r) {
  return {{"id", r.id},
          {"campaign_id", r.campaign_id},
          {"on", StatusName(r.on)},
          {"to", RuleRecipientsName(r.to)},
          {"amount", r.amount ? json(*r.amount) : json(nullptr)},
          {"currency", r.currency.empty() ? json(nullptr) : json(r.currency)},
          {"description", r.description},
          {"created_at", FormatTimestamp(r.created_at)}};
}

json ToJson(const ApiKey& k) {
  return {{"id", k.id},
          {"name", k.name},
          {"scope", ScopeName(k.scope)},
          {"prefix", k.prefix},
          {"created_at", FormatTimestamp(k.created_at)},
          {"revoked_at", OptTime(k.revoked_at)}};
}

json ToJson(const Engine::NewApiKey& made) {
  json out = ToJson(made.key);
  out["key"] = made.secret;
  return out;
}

json ToJson(const StatusChangeOutcome& o) {
  return {{"id", o.referral_id},
          {"from", StatusName(o.from)},
          {"to", StatusName(o.to)},
          {"changed", o.changed},
          {"result", o.changed ? "changed" : "unchanged"}};
}

namespace {

json ToJson(const StatusCounts& c) {
  json counts = json::object();
  for (Status s : kAllStatuses) {
    counts[std::string(StatusName(s))] = c.by_status[static_cast<size_t>(s)];
  }
  return {{"total", c.total}, {"counts", std::move(counts)}, {"ever_qualified", c.ever_qualified}};
}

}  // namespace

json ToJson(const ReferralStats& stats) {
  json j = ToJson(stats.all);
  json campaigns = json::array();
  for (const CampaignCounts& c : stats.campaigns) {
    json one = ToJson(c.counts);
    one["id"] = c.campaign.id;
    one["name"] = c.campaign.name;
    campaigns.push_back(std::move(one));
  }
  j["campaigns"] = std::move(campaigns);
  return j;
}

json ToJson(const ListResult& list) {
  json rows = json::array();
  for (const Referral& r : list.referrals) rows.push_back(ToJson(r));
  return {{"referrals", std::move(rows)},
          {"next_cursor", list.next_cursor.empty() ? json(nullptr) : json(list.next_cursor)}};
}

json ToJson(const std::vector<RowError>& errors) {
  json out = json::array();
  for (const RowError& e : errors) {
    out.push_back({{"row", e.row}, {"column", e.column}, {"message", e.message}});
  }
  return out;
}

namespace {

constexpr auto kReplace = json::error_handler_t::replace;

// The report's JSON but for its errors, which are left an empty array.
json WithoutErrors(const ImportReport& report) {
  json transitions = json::object();
  for (const auto& [t, n] : report.transitions) transitions[t] = n;
  json j = {{"rows", report.rows},
            {"changed", report.changed},
            {"unchanged", report.unchanged},
            {"error_count", report.errors.size()},
            {"errors", json::array()},
            {"warnings", report.warnings},
            {"transitions", std::move(transitions)},
            {"applied", report.applied}};
  if (report.import_id) j["import_id"] = *report.import_id;
  return j;
}

json WithoutErrors(const LoadReport& report) {
  return {{"rows", report.rows},
          {"created", report.created},
          {"error_count", report.errors.size()},
          {"errors", json::array()},
          {"warnings", report.warnings},
          {"applied", true}};
}

// Gives `emit` the text of `head` (a report without its errors) with `errors` in
// place of its empty "errors" array (a key after only numbers and booleans, if any): byte for byte what dump() of the whole report
// writes (keys in order, invalid UTF-8 replaced), one error at a time, so a report
// of a million errors is never a JSON tree (about 500 bytes an error) in memory.
template <class Emit>
void RenderReport(const json& head, const std::vector<RowError>& errors, Emit&& emit) {
  const std::string text = head.dump(-1, ' ', false, kReplace);
  // The keys before "errors" ("applied", "changed" or "created", "error_count"; none in
  // an import's errors) hold numbers and booleans, so the first match is the key itself.
  constexpr std::string_view kSlot = "\"errors\":[]";
  const size_t close = text.find(kSlot) + kSlot.size() - 1;
  emit(std::string_view(text).substr(0, close));
  std::string item;
  for (size_t i = 0; i < errors.size(); ++i) {
    const RowError& e = errors[i];
    item.assign(i == 0 ? "{\"column\":" : ",{\"column\":");
    item += json(e.column).dump(-1, ' ', false, kReplace);
    item += ",\"message\":";
    item += json(e.message).dump(-1, ' ', false, kReplace);
    item += ",\"row\":";
    item += std::to_string(e.row);
    item += '}';
    emit(std::string_view(item));
  }
  emit(std::string_view(text).substr(close));
}

template <class Report>
void WriteReport(std::ostream& out, const Report& report) {
  RenderReport(WithoutErrors(report), report.errors, [&out](std::string_view s) {
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
  });
}

template <class Report>
std::string ReportText(const Report& report) {
  std::string out;
  RenderReport(WithoutErrors(report), report.errors, [&out](std::string_view s) { out += s; });
  return out;
}

}  // namespace

json ToJson(const ImportReport& report) {
  json j = WithoutErrors(report);
  j["errors"] = ToJson(report.errors);
  return j;
}

void WriteJson(std::ostream& out, const ImportReport& report) { WriteReport(out, report); }
void WriteJson(std::ostream& out, const LoadReport& report) { WriteReport(out, report); }
void WriteJson(std::ostream& out, const QualifyReport& report) {
  out << ToJson(report).dump(-1, ' ', false, kReplace);
}
std::string JsonText(const ImportReport& report) { return ReportText(report); }
void WriteJson(std::ostream& out, const json& head, const std::vector<RowError>& errors) {
  RenderReport(head, errors, [&out](std::string_view s) {
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
  });
}

json ToJson(const QualifyReport& report) {
  json j = {{"lines", report.lines},
            {"recognized", report.recognized},
            {"not_recognized", report.not_recognized},
            {"matched", report.matched},
            {"qualified", report.qualified},
            {"already_qualified", report.already_qualified},
            {"not_allowed", report.not_allowed},
            {"unmatched", report.unmatched},
            {"applied", report.applied}};
  if (report.upload_id) j["upload_id"] = *report.upload_id;
  return j;
}

json ToJson(const LoadReport& report) {
  json j = WithoutErrors(report);
  j["errors"] = ToJson(report.errors);
  return j;
}

std::string PayoutCsv(const std::vector<Reward>& rewards) {
  std::string out =
      csv::Line({"reward_id", "campaign", "referral_id", "recipient", "recipient_email", "amount",
                 "currency", "description", "state", "issued_at", "paid_at"});
  for (const Reward& r : rewards) {
    out += csv::Line({std::to_string(r.id), r.campaign, std::to_string(r.referral_id),
                      RecipientName(r.recipient), r.recipient_email, r.amount.value_or(""),
                      r.currency, r.description, RewardStateName(r.state),
                      FormatTimestamp(r.issued_at), r.paid_at ? FormatTimestamp(*r.paid_at) : ""});
  }
  return out;
}

json TransitionsJson(const Referral& referral) {
  json out = json::array();
  for (Status to : kAllStatuses) {
    if (to == referral.status) continue;
    Verdict verdict = Decide(referral.status, to, referral.qualified_at.has_value());
    bool refused = IsRefused(verdict);
    out.push_back({{"to", StatusName(to)},
                   {"allowed", !refused},
                   {"reason", refused ? json(RefusalMessage(referral.id, referral.status, to,
                                                            verdict))
                                      : json(nullptr)}});
  }
  return out;
}

std::string RowErrorsCsv(const std::vector<RowError>& errors) {
  std::string out = csv::Line({"row", "column", "message"});
  for (const RowError& e : errors) out += csv::Line({std::to_string(e.row), e.column, e.message});
  return out;
}

}  // namespace reftrack
