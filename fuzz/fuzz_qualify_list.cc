// A qualify list estimated by EstimateQualify against the seeded store, then applied
// by ApplyQualify inside a transaction that is rolled back. The first byte chooses
// what the list holds and the campaign (the seed files start with a digit):
//   '0' email/Spring  '1' referral code/Spring  '2' coupon code/Spring
//   '3' email/Fall    '4' referral code/Fall    '5' coupon code/Fall
//   '6' email/none (refused)  '7' referral code/any  '8' coupon code/any
//   '9' email/an unknown campaign (refused)
// and the rest is the list. Checks:
// - recognized = matched + unmatched, matched = qualified + already_qualified +
//   not_allowed, every count >= 0, lines = not_recognized + recognized + duplicates;
// - applying reports what the estimate reported, and moves exactly `qualified`
//   referrals to qualified;
// - the seeded store is left as it was.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/qualify_upload.h"
#include "fuzz_support.h"

namespace {

using namespace reftrack;

void CheckReport(const QualifyReport& r) {
  FUZZ_CHECK(r.lines >= 0 && r.recognized >= 0 && r.not_recognized >= 0 && r.matched >= 0 &&
                 r.qualified >= 0 && r.already_qualified >= 0 && r.not_allowed >= 0 &&
                 r.unmatched >= 0 && r.duplicates() >= 0,
             "a negative count: %s", QualifyCounts(r).c_str());
  FUZZ_CHECK(r.recognized == r.matched + r.unmatched, "recognized != matched + unmatched: %s",
             QualifyCounts(r).c_str());
  FUZZ_CHECK(r.matched == r.qualified + r.already_qualified + r.not_allowed,
             "matched != qualified + already_qualified + not_allowed: %s",
             QualifyCounts(r).c_str());
  FUZZ_CHECK(r.recognized > 0 || r.lines == r.not_recognized, "%s", QualifyCounts(r).c_str());
}

bool SameCounts(const QualifyReport& a, const QualifyReport& b) {
  return a.lines == b.lines && a.recognized == b.recognized &&
         a.not_recognized == b.not_recognized && a.matched == b.matched &&
         a.qualified == b.qualified && a.already_qualified == b.already_qualified &&
         a.not_allowed == b.not_allowed && a.unmatched == b.unmatched;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  constexpr QualifyBy kBy[] = {QualifyBy::kEmail, QualifyBy::kReferralCode,
                               QualifyBy::kCouponCode};
  constexpr const char* kCampaigns[] = {"Spring", "Fall", "", "Nope"};
  QualifyRequest request{kBy[data[0] % 3], kCampaigns[(data[0] / 3) % 4]};
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  Engine& engine = fuzz::SeededEngine();

  Result<QualifyReport> estimate;
  {
    csv::Reader reader(text);
    estimate = EstimateQualify(engine, reader, request, nullptr);
  }
  if (estimate) {
    CheckReport(*estimate);
    FUZZ_CHECK(!estimate->applied && !estimate->upload_id, "an estimate applied");
  } else {
    FUZZ_CHECK(estimate.error().code == ErrorCode::kInvalidInput ||
                   estimate.error().code == ErrorCode::kNotFound,
               "refused with code %d: %s", static_cast<int>(estimate.error().code),
               estimate.error().message.c_str());
  }

  {
    auto tx = engine.store().BeginWrite();
    FUZZ_CHECK(tx.has_value(), "begin");
    csv::Reader reader(text);
    ImportSource source{"fuzz.csv", "fuzz", [] { return std::string(64, '0'); }};
    auto applied = ApplyQualify(engine, reader, request, source, nullptr);
    FUZZ_CHECK(applied.has_value() == estimate.has_value(), "estimate %s, apply %s",
               estimate ? "ok" : estimate.error().message.c_str(),
               applied ? "ok" : applied.error().message.c_str());
    if (applied) {
      FUZZ_CHECK(applied->applied && applied->upload_id, "applied without an upload id");
      FUZZ_CHECK(SameCounts(*applied, *estimate), "applying differs from the estimate: %s vs %s",
                 QualifyCounts(*applied).c_str(), QualifyCounts(*estimate).c_str());
      auto after = engine.CountReferrals("");
      FUZZ_CHECK(after.has_value(), "counts");
      StatusCounts before = fuzz::SeededCounts();
      int q = static_cast<int>(Status::kQualified);
      FUZZ_CHECK(after->all.by_status[q] == before.by_status[q] + applied->qualified &&
                     after->all.total == before.total,
                 "qualified %lld -> %lld after qualifying %lld", (long long)before.by_status[q],
                 (long long)after->all.by_status[q], (long long)applied->qualified);
    } else {
      FUZZ_CHECK(applied.error().message == estimate.error().message,
                 "refused differently: %s vs %s", applied.error().message.c_str(),
                 estimate.error().message.c_str());
    }
  }  // rolled back

  fuzz::CheckSeededStoreUnchanged(engine);
  return 0;
}
