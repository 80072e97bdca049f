#include "engine/bulk_update.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <memory_resource>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "domain/normalize.h"
#include "domain/transition.h"
#include "engine/status_writer.h"
#include "util/huge_pages.h"
#include "util/value_set.h"

namespace reftrack {

namespace {

// Rows planned together: their referrals are looked up in a few batched queries and
// written in id order, so a large chunk reads and writes the table's pages in order.
constexpr size_t kChunkRows = 65536;

// One data row of the file, parsed and normalized; empty cells change nothing.
struct UpdateRow {
  int64_t row = 0;
  std::optional<int64_t> key_id;
  std::string key_external_id;
  std::string key_email;
  std::optional<int64_t> campaign_id;
  std::optional<Status> status;
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> external_id;
  std::optional<std::string> note;
  // In a status-only file, the keys' indexes in the plan's sets of named values.
  uint32_t external_id_key = 0, email_key = 0;
};

// What earlier rows made of a referral's status, which the store does not hold (a
// preview writes nothing; an import writes the statuses at the end), packed in a
// byte: a million changed referrals cost a few tens of MB. The plan needs no more: a
// row's outcome depends on the status and on whether the referral was ever
// qualified, not on the timestamps.
class Touched {
 public:
  Status status() const { return static_cast<Status>(bits_ & 3); }
  bool ever_qualified() const { return (bits_ & kEverQualified) != 0; }

  // `after` has just entered its status.
  void Entered(const Referral& after) {
    bits_ = static_cast<uint8_t>(static_cast<int>(after.status) |
                                 (after.ever_qualified() ? kEverQualified : 0));
  }

 private:
  static constexpr uint8_t kEverQualified = 4;
  uint8_t bits_ = 0;
};

// A row of a status-only file, kept until every referral the file names is looked
// up: its keys are indexes in the plan's sets of named values.
constexpr uint32_t kNoKey = UINT32_MAX;
struct StatusRow {
  int64_t row;
  int64_t key_id;  // 0: none
  uint32_t external_id_key, email_key;  // kNoKey: none
  int64_t campaign_id;  // 0: none
  std::optional<Status> status;
};

// A referral as a status-only plan needs it, as earlier rows left it.
struct SlimReferral {
  int64_t id;
  int64_t campaign_id;
  int64_t referrer_id;  // 0: none
  Status status;
  bool ever_qualified;
};

class BulkUpdatePlan {
  // Referral ids by an email or external id.
  using IdsByValue = absl::flat_hash_map<std::string_view, absl::InlinedVector<int64_t, 1>>;

 public:
  // With `import_id`, valid rows are written inside the caller's transaction: field
  // changes as each chunk is planned, in file order; status changes, their history
  // and rewards at the end, in referral order. Without, nothing is written.
  BulkUpdatePlan(Engine& engine, const CsvHeader& header, ImportReport& report,
                 std::optional<int64_t> import_id, std::string actor)
      : store_(engine.store()),
        report_(report),
        at_(engine.Now()),
        import_id_(import_id),
        actor_(std::move(actor)) {
    col_id_ = header.Index("referralkey_id");
    col_external_id_key_ = header.Index("referralkey_externalid");
    col_email_key_ = header.Index("referralkey_email");
    col_campaign_ = header.Index("campaign");
    col_status_ = header.Index("status");
    col_name_ = header.Index("name");
    col_email_ = header.Index("email");
    col_external_id_ = header.Index("external_id");
    col_note_ = header.Index("note");
    status_only_ = col_name_ < 0 && col_email_ < 0 && col_external_id_ < 0 && col_note_ < 0;
  }

  // The campaigns by name.
  Result<void> LoadCampaigns() {
    auto campaigns = store_.ListCampaigns();
    if (!campaigns) return std::unexpected(campaigns.error());
    for (const Campaign& c : *campaigns) {
      campaign_ids_.emplace(c.name, c.id);
      campaign_names_.emplace(c.id, c.name);
    }
    return {};
  }

  // About `rows` rows will come (estimated from the first rows and the file's size):
  // a status-only plan makes room for them at once.
  void Expect(size_t rows) {
    if (!status_only_) return;
    status_rows_.reserve(rows);
    if (col_external_id_key_ >= 0) named_external_ids_.Reserve(rows);
    if (col_email_key_ >= 0) named_emails_.Reserve(rows);
  }

  Result<void> Add(const csv::Record& record) {
    UpdateRow row;
    if (!Parse(record, row)) return {};
    if (status_only_) {
      status_rows_.push_back(
          {row.row, row.key_id.value_or(0),
           row.key_external_id.empty() ? kNoKey : named_external_ids_.Intern(row.key_external_id),
           row.key_email.empty() ? kNoKey : named_emails_.Intern(row.key_email),
           row.campaign_id.value_or(0), row.status});
      if (row.key_id) named_ids_.push_back(*row.key_id);
      return {};
    }
    chunk_rows_.push_back(std::move(row));
    if (chunk_rows_.size() >= kChunkRows) return PlanChunk();
    return {};
  }

  Result<void> Finish() {
    if (auto ok = status_only_ ? PlanStatusRows() : PlanChunk(); !ok) return ok;
    // Status changes are written by referral, many rows a statement: no row to name.
    if (auto ok = WriteSteps(); !ok) {
      return std::unexpected(InBulkWork(ok.error(), "import", std::nullopt));
    }
    for (Status from : kAllStatuses) {
      for (Status to : kAllStatuses) {
        if (int64_t n = transitions_[static_cast<int>(from)][static_cast<int>(to)]; n > 0) {
          report_.transitions[fmt::format("{}->{}", StatusName(from), StatusName(to))] = n;
        }
      }
    }
    return {};
  }

 private:
  void RowError(int64_t row, std::string_view column, std::string message) {
    report_.errors.push_back({row, std::string(column), std::move(message)});
  }

  std::string_view Cell(const csv::Record& record, int column) const {
    return Trim(FieldAt(record.fields, column));
  }

  // Reads one row's cells; a cell that cannot be what its column holds is the row's
  // error, and the row is skipped.
  bool Parse(const csv::Record& record, UpdateRow& row) {
    row.row = record.row;
    if (std::string_view id = Cell(record, col_id_); !id.empty()) {
      int64_t value = 0;
      auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
      if (ec != std::errc() || end != id.data() + id.size() || value <= 0) {
        RowError(row.row, "referralkey_id",
                 fmt::format("\"{}\" is not a referral id (a whole number)", Excerpt(id)));
        return false;
      }
      row.key_id = value;
    }
    row.key_external_id = NormalizeCode(Cell(record, col_external_id_key_));
    row.key_email = NormalizeEmail(Cell(record, col_email_key_));
    if (!row.key_id && row.key_external_id.empty() && row.key_email.empty()) {
      RowError(row.row, "",
               "the row names no referral: fill referralkey_id, referralkey_externalid or "
               "referralkey_email");
      return false;
    }
    if (std::string_view campaign = Cell(record, col_campaign_); !campaign.empty()) {
      auto it = campaign_ids_.find(std::string(campaign));
      if (it == campaign_ids_.end()) {
        RowError(row.row, "campaign",
                 fmt::format("campaign \"{}\" does not exist", Excerpt(campaign)));
        return false;
      }
      row.campaign_id = it->second;
    }
    if (std::string_view status = Cell(record, col_status_); !status.empty()) {
      row.status = ParseStatus(status);
      if (!row.status) {
        RowError(row.row, "status",
                 fmt::format("\"{}\" is not a status; use pending, qualified, approved or denied",
                             Excerpt(status)));
        return false;
      }
    }
    if (std::string_view name = Cell(record, col_name_); !name.empty()) row.name = name;
    if (std::string_view note = Cell(record, col_note_); !note.empty()) row.note = note;
    if (std::string_view email = Cell(record, col_email_); !email.empty()) {
      row.email = NormalizeEmail(email);
      if (!IsValidEmail(*row.email)) {
        RowError(row.row, "email",
                 fmt::format("\"{}\" is not a valid email address", Excerpt(email)));
        return false;
      }
    }
    if (std::string_view external_id = Cell(record, col_external_id_); !external_id.empty()) {
      row.external_id = NormalizeCode(external_id);
    }
    return true;
  }

  // A status-only file changes no email or external id, so what its rows name is
  // known once it is read: every referral it names is looked up at once, as the store
  // finds best (a pass over the table when the file names much of it), and the rows
  // are planned in order against those.
  Result<void> PlanStatusRows() {
    if (auto ok = LookUpNamed(); !ok) return ok;
    UpdateRow row;
    for (const StatusRow& r : status_rows_) {
      row.row = r.row;
      row.key_id = r.key_id ? std::optional(r.key_id) : std::nullopt;
      row.external_id_key = r.external_id_key;
      row.email_key = r.email_key;
      if (r.external_id_key == kNoKey) {
        row.key_external_id.clear();
      } else {
        row.key_external_id = named_external_ids_[r.external_id_key];
      }
      if (r.email_key == kNoKey) {
        row.key_email.clear();
      } else {
        row.key_email = named_emails_[r.email_key];
      }
      row.campaign_id = r.campaign_id ? std::optional(r.campaign_id) : std::nullopt;
      row.status = r.status;
      if (auto ok = PlanRow(row); !ok) return ok;
    }
    // What the writes do not need goes before they start.
    status_rows_ = {};
    named_external_ids_.Clear();
    named_emails_.Clear();
    external_id_holders_ = {};
    email_holders_ = {};
    slim_ = {};
    slim_by_id_ = {};
    return {};
  }

  Result<void> LookUpNamed() {
    // One key column finds each referral once (a referral holds one email, one
    // external id); with several, a referral found again is kept once.
    const bool once = (col_id_ >= 0) + (col_external_id_key_ >= 0) + (col_email_key_ >= 0) == 1;
    auto keep = [this, once](int64_t id, int64_t campaign_id, std::optional<int64_t> referrer_id,
                             Status status, bool ever_qualified) {
      const auto k = static_cast<uint32_t>(slim_.size());
      if (!once) {
        auto [it, added] = slim_by_id_.try_emplace(id, k);
        if (!added) return it->second;
      }
      slim_.push_back({id, campaign_id, referrer_id.value_or(0), status, ever_qualified});
      return k;
    };
    std::sort(named_ids_.begin(), named_ids_.end());
    named_ids_.erase(std::unique(named_ids_.begin(), named_ids_.end()), named_ids_.end());
    const size_t named = named_ids_.size() + named_external_ids_.size() + named_emails_.size();
    slim_.reserve(named);
    if (!once) slim_by_id_.reserve(named);
    for (size_t start = 0; start < named_ids_.size(); start += kChunkRows) {
      auto found = store_.FindReferralsByIds(std::span(named_ids_).subspan(
          start, std::min(kChunkRows, named_ids_.size() - start)));
      if (!found) return std::unexpected(found.error());
      for (const Referral& r : *found) {
        keep(r.id, r.campaign_id, r.referrer_id, r.status, r.ever_qualified());
      }
    }
    named_ids_ = {};
    auto match = [&](LookupColumn column, const ValueSet& values, HoldersByKey& holders) {
      holders.resize(values.size());
      return store_.ForEachMatch(column, std::nullopt, values,
                                 [&](const ReferralState& r, uint32_t value) {
                                   holders[value].push_back(keep(r.id, r.campaign_id,
                                                                 r.referrer_id, r.status,
                                                                 r.ever_qualified()));
                                 });
    };
    if (auto ok = match(LookupColumn::kExternalId, named_external_ids_, external_id_holders_);
        !ok) {
      return ok;
    }
    return match(LookupColumn::kEmail, named_emails_, email_holders_);
  }

  // Looks up every referral the chunk's rows name (and every email or external id
  // they would take), then plans the rows in order and, in an import, writes them.
  Result<void> PlanChunk() {
    if (chunk_rows_.empty()) return {};
    if (auto ok = LookUpChunk(); !ok) return ok;
    for (const UpdateRow& row : chunk_rows_) {
      if (auto ok = PlanRow(row); !ok) return ok;
    }
    chunk_rows_.clear();
    chunk_.clear();
    read_.clear();
    copies_.clear();
    by_email_.clear();
    by_external_id_.clear();
    keys_.release();
    if (!import_id_) return {};
    // The store now holds the emails and external ids the chunk's rows gave. Field
    // changes keep the file's order: one row may free an email that a later row gives
    // another referral. (Their statuses are rewritten at the end, as all others.)
    moved_email_.clear();
    moved_external_id_.clear();
    auto written = store_.WriteReferralFields(field_writes_);
    field_writes_.clear();
    if (!written) {
      std::optional<size_t> item = store_.FailedItem();
      return std::unexpected(InBulkWork(
          written.error(), "import",
          item && *item < field_rows_.size() ? std::optional(field_rows_[*item]) : std::nullopt));
    }
    field_rows_.clear();
    return written;
  }

  // In an import: every status change, through the one writer.
  Result<void> WriteSteps() {
    if (!import_id_) return {};
    StatusWriter writer(store_, at_, {ChangeSource::kImport, actor_, import_id_});
    auto ok = writer.Write(std::span<StatusStep>(steps_.data(), steps_.size()));
    steps_ = {};
    return ok;
  }

  Result<void> LookUpChunk() {
    std::vector<int64_t> ids;
    emails_.clear();
    external_ids_.clear();
    for (const UpdateRow& row : chunk_rows_) {
      if (row.key_id) ids.push_back(*row.key_id);
      if (!row.key_email.empty()) emails_.push_back(row.key_email);
      if (row.email) emails_.push_back(*row.email);
      if (!row.key_external_id.empty()) external_ids_.push_back(row.key_external_id);
      if (row.external_id) external_ids_.push_back(*row.external_id);
    }
    auto unique = [](auto& v) {
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
    };
    unique(ids);
    unique(emails_);
    unique(external_ids_);
    // The referrals stay where the store put them (read_ never moves them); each is
    // indexed by id, and by the email and external id it holds in the store when rows
    // look referrals up by those.
    auto keep = [this](Result<std::vector<Referral>> found) -> Result<void> {
      if (!found) return std::unexpected(found.error());
      for (Referral& r : read_.emplace_back(std::move(*found))) {
        if (!chunk_.try_emplace(r.id, &r).second) continue;
        if (!emails_.empty()) Index(by_email_, r.email, r.id);
        if (!external_ids_.empty() && r.external_id) {
          Index(by_external_id_, *r.external_id, r.id);
        }
        WithEarlierRows(r);
      }
      return {};
    };
    if (auto ok = keep(store_.FindReferralsByIds(ids)); !ok) return ok;
    if (auto ok = keep(store_.FindReferralsBy(LookupColumn::kEmail, emails_)); !ok) return ok;
    if (auto ok = keep(store_.FindReferralsBy(LookupColumn::kExternalId, external_ids_)); !ok) {
      return ok;
    }
    return {};
  }

  // Files `id` under `value`, a copy of which the chunk's key arena keeps (the
  // referral's own text changes as rows change it).
  void Index(IdsByValue& by, std::string_view value, int64_t id) {
    auto it = by.find(value);
    if (it == by.end()) {
      char* bytes = static_cast<char*>(keys_.allocate(std::max<size_t>(value.size(), 1), 1));
      std::char_traits<char>::copy(bytes, value.data(), value.size());
      it = by.try_emplace(std::string_view(bytes, value.size())).first;
    }
    it->second.push_back(id);
  }

  // Brings a referral read from the store up to what earlier rows made of it.
  void WithEarlierRows(Referral& r) const {
    if (auto e = edited_.find(r.id); e != edited_.end()) {
      r = *e->second;
      return;
    }
    auto it = touched_.find(r.id);
    if (it == touched_.end()) return;
    r.status = it->second.status();
    if (it->second.ever_qualified() && !r.qualified_at) r.qualified_at = at_;
  }

  // The referral `id` as earlier rows left it, or null when the chunk did not read it
  // (then no row of the chunk names it).
  Referral* Current(int64_t id) {
    if (status_only_) {
      if (current_slim_ >= slim_.size() || slim_[current_slim_].id != id) {
        std::optional<uint32_t> found = SlimIndex(id);
        if (!found) return nullptr;
        current_slim_ = *found;
      }
      const SlimReferral& s = slim_[current_slim_];
      scratch_.id = s.id;
      scratch_.campaign_id = s.campaign_id;
      scratch_.referrer_id = s.referrer_id ? std::optional(s.referrer_id) : std::nullopt;
      scratch_.status = s.status;
      scratch_.qualified_at = s.ever_qualified ? std::optional(at_) : std::nullopt;
      return &scratch_;
    }
    auto it = chunk_.find(id);
    if (it != chunk_.end()) return it->second;
    auto e = edited_.find(id);
    if (e == edited_.end()) return nullptr;
    Referral* copy = &copies_.emplace_back(*e->second);
    chunk_.emplace(id, copy);
    return copy;
  }

  // Referrals whose email (or external id) is `value` now, in `campaign_id` or any.
  // The result is valid until the next call.
  const std::vector<int64_t>& Holding(bool email, const std::string& value,
                                      std::optional<int64_t> campaign_id) {
    holding_.clear();
    auto consider = [&](int64_t id) {
      if (std::find(holding_.begin(), holding_.end(), id) != holding_.end()) return;
      const Referral* r = Current(id);
      if (r == nullptr || (campaign_id && r->campaign_id != *campaign_id)) return;
      if (email ? r->email == value : r->external_id == value) holding_.push_back(id);
    };
    auto& index = email ? by_email_ : by_external_id_;
    if (auto it = index.find(value); it != index.end()) {
      for (int64_t id : it->second) consider(id);
    }
    auto& moved = email ? moved_email_ : moved_external_id_;
    if (auto it = moved.find(value); it != moved.end()) {
      for (int64_t id : it->second) consider(id);
    }
    std::sort(holding_.begin(), holding_.end());
    return holding_;
  }

  // Where referral `id` is in slim_, if it was found. The index by id is made when
  // first needed if the look-ups did not make it.
  std::optional<uint32_t> SlimIndex(int64_t id) {
    if (slim_by_id_.empty()) {
      slim_by_id_.reserve(slim_.size());
      for (uint32_t k = 0; k < slim_.size(); ++k) slim_by_id_.emplace(slim_[k].id, k);
    }
    auto it = slim_by_id_.find(id);
    if (it == slim_by_id_.end()) return std::nullopt;
    return it->second;
  }

  // In a status-only file: the referrals holding named value `key` (of the emails or
  // the external ids), in `campaign_id` or any. Valid until the next call.
  const std::vector<int64_t>& HoldingKey(bool email, uint32_t key,
                                         std::optional<int64_t> campaign_id) {
    holding_.clear();
    for (uint32_t k : (email ? email_holders_ : external_id_holders_)[key]) {
      if (campaign_id && slim_[k].campaign_id != *campaign_id) continue;
      holding_.push_back(slim_[k].id);
      current_slim_ = k;  // the one Current() will most likely be asked for
    }
    std::sort(holding_.begin(), holding_.end());
    return holding_;
  }

  std::string CampaignList(const std::vector<int64_t>& ids) {
    std::string out;
    for (int64_t id : ids) {
      out += out.empty() ? "" : ", ";
      out += fmt::format("\"{}\"", campaign_names_[Current(id)->campaign_id]);
    }
    return out;
  }

  std::string InCampaign(std::optional<int64_t> campaign_id) {
    if (!campaign_id) return "";
    return fmt::format(" in campaign \"{}\"", campaign_names_[*campaign_id]);
  }

  // The referral one key column names: its id, or none after reporting why.
  std::optional<int64_t> ResolveKey(const UpdateRow& row, bool email, const std::string& value) {
    const std::vector<int64_t>& found =
        status_only_ ? HoldingKey(email, email ? row.email_key : row.external_id_key, row.campaign_id)
                     : Holding(email, value, row.campaign_id);
    if (found.size() == 1) return found.front();
    std::string_view column = email ? "referralkey_email" : "referralkey_externalid";
    std::string what = email ? fmt::format("email {}", Excerpt(value))
                             : fmt::format("external id \"{}\"", Excerpt(value));
    if (found.empty()) {
      RowError(row.row, column,
               fmt::format("no referral with {}{}", what, InCampaign(row.campaign_id)));
    } else {
      RowError(row.row, column,
               fmt::format("{} matches referrals in several campaigns ({}); add a campaign "
                           "column to name one",
                           what, CampaignList(found)));
    }
    return std::nullopt;
  }

  // The one referral the row's keys name, or none after reporting why.
  Referral* Resolve(const UpdateRow& row) {
    std::optional<int64_t> id;
    std::string_view named_by;
    auto agree = [&](std::optional<int64_t> other, std::string_view column) {
      if (!other) return false;
      if (id && *id != *other) {
        RowError(row.row, column,
                 fmt::format("{} names referral {}, but {} names referral {}", column, *other,
                             named_by, *id));
        return false;
      }
      id = other;
      named_by = column;
      return true;
    };
    if (row.key_id) {
      Referral* r = Current(*row.key_id);
      if (r == nullptr) {
        RowError(row.row, "referralkey_id", fmt::format("no referral with id {}", *row.key_id));
        return nullptr;
      }
      if (row.campaign_id && r->campaign_id != *row.campaign_id) {
        RowError(row.row, "referralkey_id",
                 fmt::format("referral {} is not in campaign \"{}\"", r->id,
                             campaign_names_[*row.campaign_id]));
        return nullptr;
      }
      agree(r->id, "referralkey_id");
    }
    if (!row.key_external_id.empty() &&
        !agree(ResolveKey(row, false, row.key_external_id), "referralkey_externalid")) {
      return nullptr;
    }
    if (!row.key_email.empty() &&
        !agree(ResolveKey(row, true, row.key_email), "referralkey_email")) {
      return nullptr;
    }
    return Current(*id);
  }

  // The email of the member who referred `r`, if any.
  Result<std::optional<std::string>> ReferrerEmail(const Referral& r) {
    if (!r.referrer_id) return std::optional<std::string>();
    auto loaded = referrer_emails_.find(r.campaign_id);
    if (loaded == referrer_emails_.end()) {
      auto members = store_.ListMembers(r.campaign_id);
      if (!members) return std::unexpected(members.error());
      auto& emails = referrer_emails_[r.campaign_id];
      for (const Member& m : *members) emails.emplace(m.id, m.email);
      loaded = referrer_emails_.find(r.campaign_id);
    }
    auto it = loaded->second.find(*r.referrer_id);
    if (it == loaded->second.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  // Applies the row's field changes to `next`; false after reporting why one is refused.
  Result<bool> ChangeFields(const UpdateRow& row, Referral& next) {
    if (row.name) next.name = *row.name;
    if (row.note) next.note = *row.note;
    if (row.email && *row.email != next.email) {
      const std::vector<int64_t>& taken = Holding(true, *row.email, next.campaign_id);
      if (!taken.empty()) {
        RowError(row.row, "email",
                 fmt::format("email {} is already referred in campaign \"{}\" (referral {})",
                             *row.email, campaign_names_[next.campaign_id], taken.front()));
        return false;
      }
      auto referrer = ReferrerEmail(next);
      if (!referrer) return std::unexpected(referrer.error());
      if (*referrer == *row.email) {
        RowError(row.row, "email",
                 fmt::format("{} is the email of the referral's own referrer; a referral cannot "
                             "refer itself",
                             *row.email));
        return false;
      }
      next.email = *row.email;
    }
    if (row.external_id && row.external_id != next.external_id) {
      const std::vector<int64_t>& taken = Holding(false, *row.external_id, next.campaign_id);
      if (!taken.empty()) {
        RowError(row.row, "external_id",
                 fmt::format("external id \"{}\" already names referral {} in campaign \"{}\"",
                             Excerpt(*row.external_id), taken.front(),
                             campaign_names_[next.campaign_id]));
        return false;
      }
      next.external_id = *row.external_id;
    }
    return true;
  }

  Result<void> PlanRow(const UpdateRow& row) {
    Referral* current = Resolve(row);
    if (current == nullptr) return {};
    if (!row.name && !row.note && !row.email && !row.external_id) return PlanStatus(row, *current);

    Referral next = *current;
    auto fields_ok = ChangeFields(row, next);
    if (!fields_ok) return std::unexpected(fields_ok.error());
    if (!*fields_ok) return {};
    bool fields_changed = next.name != current->name || next.note != current->note ||
                          next.email != current->email || next.external_id != current->external_id;
    bool status_changed = false;
    if (row.status) {
      auto changed = ApplyTransition(next, *row.status, at_);
      if (!changed) {
        RowError(row.row, "status", changed.error().message);
        return {};
      }
      status_changed = *changed;
    }
    if (!fields_changed && !status_changed) {
      ++report_.unchanged;
      return {};
    }
    Planned(current->status, current->ever_qualified(), next, status_changed, fields_changed);
    if (import_id_ && fields_changed) field_rows_.push_back(row.row);
    if (next.email != current->email) moved_email_[next.email].push_back(next.id);
    if (next.external_id != current->external_id && next.external_id) {
      moved_external_id_[*next.external_id].push_back(next.id);
    }
    *current = std::move(next);
    return {};
  }

  // A row that only sets a status: the referral changes in place, nothing is copied.
  Result<void> PlanStatus(const UpdateRow& row, Referral& referral) {
    if (!row.status) {
      ++report_.unchanged;
      return {};
    }
    const Status from = referral.status;
    const bool was_ever_qualified = referral.ever_qualified();
    auto changed = ApplyTransition(referral, *row.status, at_);
    if (!changed) {
      RowError(row.row, "status", changed.error().message);
      return {};
    }
    if (!*changed) {
      ++report_.unchanged;
      return {};
    }
    Planned(from, was_ever_qualified, referral, true, false);
    return {};
  }

  // Counts a row that changes `after`, remembers it for the rows below, and in an
  // import queues its writes.
  void Planned(Status from, bool was_ever_qualified, const Referral& after, bool status_changed,
               bool fields_changed) {
    ++report_.changed;
    if (status_changed) {
      ++transitions_[static_cast<int>(from)][static_cast<int>(after.status)];
      // A status-only plan keeps what rows made of a referral in slim_.
      if (status_only_) {
        SlimReferral& s =
            slim_[slim_[current_slim_].id == after.id ? current_slim_ : *SlimIndex(after.id)];
        s.status = after.status;
        s.ever_qualified = after.ever_qualified();
      } else {
        touched_[after.id].Entered(after);
      }
      if (import_id_) {
        if (steps_.empty()) steps_.reserve(status_only_ ? status_rows_.size() : kChunkRows);
        steps_.push_back({after.id, after.referrer_id.value_or(0),
                          static_cast<int32_t>(after.campaign_id), from, after.status,
                          was_ever_qualified});
      }
    }
    if (import_id_) {
      if (fields_changed) field_writes_.push_back(after);
      return;
    }
    if (fields_changed || edited_.contains(after.id)) {
      edited_[after.id] = std::make_unique<Referral>(after);
    }
  }

  Store& store_;
  ImportReport& report_;
  const Micros at_;
  const std::optional<int64_t> import_id_;
  const std::string actor_;
  int col_id_, col_external_id_key_, col_email_key_, col_campaign_, col_status_, col_name_,
      col_email_, col_external_id_, col_note_;

  std::unordered_map<std::string, int64_t> campaign_ids_;
  std::unordered_map<int64_t, std::string> campaign_names_;
  std::unordered_map<int64_t, std::unordered_map<int64_t, std::string>> referrer_emails_;

  int64_t transitions_[4][4] = {};

  // Every referral whose status a row has changed so far (but in a status-only file,
  // whose slim_ holds that); in a preview, every one a
  // row has changed a field of, whole; the emails and external ids rows gave to
  // referrals (which the store does not know in a preview, nor in an import until
  // the chunk is written).
  absl::flat_hash_map<int64_t, Touched, absl::Hash<int64_t>, std::equal_to<int64_t>,
                      HugePageAllocator<std::pair<const int64_t, Touched>>>
      touched_;
  std::unordered_map<int64_t, std::unique_ptr<Referral>> edited_;
  std::unordered_map<std::string, std::vector<int64_t>> moved_email_;
  std::unordered_map<std::string, std::vector<int64_t>> moved_external_id_;

  // The chunk being planned: its rows, the values looked up, the referrals they may
  // name, as earlier rows left them, and those referrals by the looked-up email and
  // external id they held in the store.
  std::vector<UpdateRow> chunk_rows_;
  std::vector<std::string> emails_;
  std::vector<std::string> external_ids_;
  std::vector<std::vector<Referral>> read_;  // as the store returned them
  std::deque<Referral> copies_;               // of referrals edited_ holds
  absl::flat_hash_map<int64_t, Referral*> chunk_;
  std::pmr::monotonic_buffer_resource keys_;  // by_email_'s and by_external_id_'s keys
  IdsByValue by_email_;
  IdsByValue by_external_id_;
  std::vector<int64_t> holding_;

  // In an import: the chunk's field changes, in row order; every status change.
  std::vector<Referral> field_writes_;
  std::vector<int64_t> field_rows_;  // the file row of each of field_writes_
  HugePageVector<StatusStep> steps_;

  // A status-only file: its rows; the ids, external ids and emails they name; the
  // referrals found (by id, and by the value they matched: several when a value is
  // held in several campaigns); the one a row is planned on, copied from its slim form.
  using HoldersByKey = HugePageVector<absl::InlinedVector<uint32_t, 1>>;
  bool status_only_ = false;
  HugePageVector<StatusRow> status_rows_;
  HugePageVector<int64_t> named_ids_;
  ValueSet named_external_ids_;
  ValueSet named_emails_;
  HugePageVector<SlimReferral> slim_;
  absl::flat_hash_map<int64_t, uint32_t, absl::Hash<int64_t>, std::equal_to<int64_t>,
                      HugePageAllocator<std::pair<const int64_t, uint32_t>>>
      slim_by_id_;
  HoldersByKey external_id_holders_;
  HoldersByKey email_holders_;
  uint32_t current_slim_ = 0;
  Referral scratch_;
};

// After this many rows, the file's size tells about how many there are in all.
constexpr int64_t kEstimateAfterRows = 8192;

// The most rows an estimate makes room for: a file whose first rows are much shorter
// than the rest would otherwise reserve far too much (room not used costs address
// space, little memory), and past this, growing costs little beside the rows' work.
constexpr double kMostExpectedRows = 4 << 20;

// The rows of the whole file, if the rest is like the `rows` read so far, and a few
// more: a little too much room costs less than growing a full table.
size_t EstimateRows(const csv::Reader& reader, int64_t rows) {
  const double per_row = static_cast<double>(reader.bytes_read()) / static_cast<double>(rows);
  const double estimate = static_cast<double>(reader.size()) / per_row * 1.05;
  return static_cast<size_t>(std::min(estimate, kMostExpectedRows));
}

std::vector<std::string_view> KnownColumns() {
  std::vector<std::string_view> known(std::begin(kKeyColumns), std::end(kKeyColumns));
  known.push_back("campaign");
  known.insert(known.end(), std::begin(kUpdateColumns), std::end(kUpdateColumns));
  return known;
}

// Reads and checks the header: a file without a key column or without anything to
// update is refused before any row.
Result<CsvHeader> ReadUpdateHeader(csv::Reader& reader) {
  const std::vector<std::string_view> known = KnownColumns();
  auto header = ReadHeader(reader, known);
  if (!header) return header;
  auto has_any = [&](const auto& columns) {
    return std::any_of(std::begin(columns), std::end(columns),
                       [&](std::string_view c) { return header->Has(c); });
  };
  if (!has_any(kKeyColumns)) {
    return Fail(ErrorCode::kInvalidInput,
                "the header has no key column; name the referrals with referralkey_id, "
                "referralkey_externalid or referralkey_email");
  }
  if (!has_any(kUpdateColumns)) {
    return Fail(ErrorCode::kInvalidInput,
                "the header has nothing to update; add a status, name, email, external_id or "
                "note column");
  }
  return header;
}

Result<ImportReport> Plan(Engine& engine, csv::Reader& reader, const ProgressFn& progress,
                          std::optional<int64_t> import_id, const std::string& actor) {
  auto header = ReadUpdateHeader(reader);
  if (!header) return std::unexpected(header.error());
  ImportReport report;
  report.warnings = header->warnings();
  BulkUpdatePlan plan(engine, *header, report, import_id, actor);
  if (auto ok = plan.LoadCampaigns(); !ok) return std::unexpected(ok.error());
  auto read = ForEachDataRow(reader, *header, report.rows, report.errors, progress,
                             [&](const csv::Record& record) {
                               if (report.rows == kEstimateAfterRows && reader.size() > 0) {
                                 plan.Expect(EstimateRows(reader, report.rows));
                               }
                               return plan.Add(record);
                             });
  if (!read) return std::unexpected(read.error());
  if (auto ok = plan.Finish(); !ok) return std::unexpected(ok.error());
  SortByRow(report.errors);
  return report;
}

}  // namespace

std::string ImportCounts(const ImportReport& report) {
  nlohmann::json transitions = nlohmann::json::object();
  for (const auto& [t, n] : report.transitions) transitions[t] = n;
  return nlohmann::json{{"rows", report.rows},
                        {"changed", report.changed},
                        {"unchanged", report.unchanged},
                        {"error_count", report.errors.size()},
                        {"transitions", std::move(transitions)}}
      .dump();
}

Result<ImportReport> PreviewImport(Engine& engine, csv::Reader& reader,
                                   const ProgressFn& progress) {
  // One snapshot for the whole file: every chunk sees the same data.
  auto snapshot = engine.store().BeginRead();
  if (!snapshot) return std::unexpected(snapshot.error());
  return Plan(engine, reader, progress, std::nullopt, "");
}

Result<ImportReport> ApplyImport(Engine& engine, csv::Reader& reader, const ImportSource& source,
                                 const ProgressFn& progress) {
  Store& store = engine.store();
  auto tx = store.BeginWrite(Store::WriteMode::kBulkInIdOrder);
  if (!tx) return std::unexpected(tx.error());
  ImportRecord record{0, "import", source.file_name, "", source.actor, engine.Now(), 0, "{}"};
  auto id = store.CreateImport(record);
  if (!id) return std::unexpected(id.error());
  auto report = Plan(engine, reader, progress, *id, source.actor);
  if (!report) return report;
  record.id = *id;
  record.sha256 = source.sha256 ? source.sha256() : "";
  record.finished_at = engine.Now();
  record.counts = ImportCounts(*report);
  if (auto ok = store.FinishImport(record, report->errors); !ok) return std::unexpected(ok.error());
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  report->applied = true;
  report->import_id = *id;
  return report;
}

}  // namespace reftrack
