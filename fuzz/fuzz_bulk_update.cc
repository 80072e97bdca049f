// A bulk update file (header and rows) planned by PreviewImport against the seeded
// store, then applied by ApplyImport inside a transaction that is rolled back,
// checking:
// - rows = changed + unchanged + rows in error, every count >= 0, errors sorted by
//   data row, each with a message;
// - every transition is "from->to" of two different statuses the rules allow, and
//   they number at most the changed rows;
// - the import reports exactly what the preview reported, and moves the counts by
//   status by exactly its transitions;
// - the seeded store is left as it was.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "domain/status_rules.h"
#include "engine/bulk_update.h"
#include "fuzz_support.h"

namespace {

using namespace reftrack;

void CheckReport(const ImportReport& r) {
  FUZZ_CHECK(r.rows >= 0 && r.changed >= 0 && r.unchanged >= 0, "negative counts");
  std::set<int64_t> error_rows;
  int64_t last = 0;
  for (const RowError& e : r.errors) {
    FUZZ_CHECK(e.row >= 2, "an error on row %lld (the header is row 1)", (long long)e.row);
    FUZZ_CHECK(e.row >= last, "errors not sorted by row");
    FUZZ_CHECK(!e.message.empty(), "an error without a message on row %lld", (long long)e.row);
    last = e.row;
    error_rows.insert(e.row);
  }
  int64_t in_error = static_cast<int64_t>(error_rows.size());
  FUZZ_CHECK(r.rows == r.changed + r.unchanged + in_error,
             "rows %lld != changed %lld + unchanged %lld + rows in error %lld",
             (long long)r.rows, (long long)r.changed, (long long)r.unchanged, (long long)in_error);
  int64_t status_changes = 0;
  for (const auto& [name, n] : r.transitions) {
    size_t arrow = name.find("->");
    FUZZ_CHECK(arrow != std::string::npos, "transition \"%s\"", name.c_str());
    auto from = ParseStatus(name.substr(0, arrow));
    auto to = ParseStatus(name.substr(arrow + 2));
    FUZZ_CHECK(from && to && *from != *to, "transition \"%s\"", name.c_str());
    Rule rule = kTransitionRules[static_cast<int>(*from)][static_cast<int>(*to)];
    FUZZ_CHECK(rule == Rule::kAllowed || rule == Rule::kIfNeverQualified,
               "transition \"%s\" is not allowed", name.c_str());
    FUZZ_CHECK(n > 0, "transition \"%s\" counted %lld", name.c_str(), (long long)n);
    status_changes += n;
  }
  FUZZ_CHECK(status_changes <= r.changed, "%lld status changes in %lld changed rows",
             (long long)status_changes, (long long)r.changed);
}

bool SameErrors(const std::vector<RowError>& a, const std::vector<RowError>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].row != b[i].row || a[i].column != b[i].column || a[i].message != b[i].message) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Engine& engine = fuzz::SeededEngine();
  Store& store = engine.store();

  Result<ImportReport> preview;
  {
    csv::Reader reader(text);
    preview = PreviewImport(engine, reader, nullptr);
  }
  if (preview) CheckReport(*preview);
  if (!preview) {
    FUZZ_CHECK(preview.error().code == ErrorCode::kInvalidInput, "refused with code %d: %s",
               static_cast<int>(preview.error().code), preview.error().message.c_str());
  }

  {
    auto tx = store.BeginWrite();
    FUZZ_CHECK(tx.has_value(), "begin");
    csv::Reader reader(text);
    ImportSource source{"fuzz.csv", "fuzz", [] { return std::string(64, '0'); }};
    auto applied = ApplyImport(engine, reader, source, nullptr);
    FUZZ_CHECK(applied.has_value() == preview.has_value(), "preview %s, import %s",
               preview ? "ok" : preview.error().message.c_str(),
               applied ? "ok" : applied.error().message.c_str());
    if (applied) {
      FUZZ_CHECK(applied->applied && applied->import_id, "applied without an import id");
      FUZZ_CHECK(applied->rows == preview->rows && applied->changed == preview->changed &&
                     applied->unchanged == preview->unchanged &&
                     applied->transitions == preview->transitions &&
                     applied->warnings == preview->warnings &&
                     SameErrors(applied->errors, preview->errors),
                 "the import differs from its preview: %s vs %s",
                 ImportCounts(*applied).c_str(), ImportCounts(*preview).c_str());
      // The counts by status move by exactly the transitions.
      auto after = engine.CountReferrals("");
      FUZZ_CHECK(after.has_value(), "counts");
      StatusCounts before = fuzz::SeededCounts();
      std::array<int64_t, 4> expected = before.by_status;
      for (const auto& [name, n] : applied->transitions) {
        size_t arrow = name.find("->");
        expected[static_cast<int>(*ParseStatus(name.substr(0, arrow)))] -= n;
        expected[static_cast<int>(*ParseStatus(name.substr(arrow + 2)))] += n;
      }
      FUZZ_CHECK(after->all.by_status == expected && after->all.total == before.total,
                 "counts by status after the import do not follow its transitions");
    } else {
      FUZZ_CHECK(applied.error().message == preview.error().message,
                 "refused differently: %s vs %s", applied.error().message.c_str(),
                 preview.error().message.c_str());
    }
  }  // rolled back

  fuzz::CheckSeededStoreUnchanged(engine);
  return 0;
}
